// Plan: search over all of the plan, the action cards one tap away, and the plan itself as
// FÖRE / UNDER / EFTER with sections that open and close.

import * as api from '../api.js';
import { h, replace, icon } from '../dom.js';
import { t, pick, formatTime, currentLang } from '../i18n.js';
import { confirmDialog } from '../dialog.js';
import { callButton, sectionBlock, sourceRef } from './common.js';
import { autosave } from '../autosave.js';
import * as guard from '../guard.js';
import { put } from '../state.js';

const PHASES = ['intro', 'before', 'during', 'after'];

export async function render(ctx, route) {
  const phase = PHASES.includes(route.query.get('phase')) ? route.query.get('phase') : 'before';
  const p = ctx.profile;
  const lang = ctx.planLang;

  const results = h('div', { class: 'search-results', id: 'search-results', role: 'region', 'aria-live': 'polite', hidden: true });
  const body = h('div', { class: 'plan-body' });
  const input = h('input', {
    type: 'search', id: 'plan-search', class: 'search-input', autocomplete: 'off',
    placeholder: t('plan.search_placeholder'), 'aria-label': t('plan.search_label'),
    value: route.query.get('q') ?? '',
  });
  let timer = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => runSearch(ctx, input.value, results, body), 120);
  });

  const phaseBar = h('div', { class: 'segmented', role: 'group', 'aria-label': t('plan.phases') },
    PHASES.map((id) => h('button', {
      type: 'button', class: 'seg', dataset: { phase: id }, 'aria-pressed': id === phase ? 'true' : 'false',
      onclick: () => ctx.go(`#/plan?phase=${id}`),
    }, t(`phase.${id}`))));

  replace(body,
    cardGrid(ctx, lang),
    h('div', { class: 'plan-main' },
      phaseBar,
      translationNote(ctx),
      await phaseContent(ctx, phase, lang, route)));

  const election = electionPeriod(ctx);
  const root = h('div', { class: 'plan' },
    protectionBlock(ctx),
    election ? h('p', { class: 'election-banner', id: 'election-banner', role: 'note' },
      h('strong', {}, t('election.title')), ' ', pick(election.note)) : null,
    h('div', { class: 'search' }, icon('search'), input),
    results,
    body);
  if (input.value) runSearch(ctx, input.value, results, body);
  return root;
}

/** Whether Värn can protect the person now, at the top of the home view: a calm line when it
 * can, and what is wrong and what to do when it cannot (impossible to miss). */
function protectionBlock(ctx) {
  const p = ctx.protection;
  if (!p) return h('div', { id: 'protection', hidden: true });
  const state = p.state;
  let title;
  let detail;
  let action = null;
  if (state === 'unprotected') {
    title = t('protection.unprotected');
    detail = t(p.refused ? 'protection.refused_detail' : 'protection.unprotected_detail');
    action = h('a', { class: 'btn primary', id: 'protection-action', href: '#/settings' },
      t(p.refused ? 'protection.relink' : 'protection.link'));
  } else if (state === 'limited' && p.not_answering) {
    title = t('protection.not_answering');
    detail = t('protection.not_answering_detail');
    action = h('a', { class: 'btn secondary', id: 'protection-action', href: '#/settings' }, t('protection.show_link'));
  } else if (state === 'limited') {
    title = t('protection.drill_due');
    detail = t('protection.drill_due_detail');
    action = h('button', { type: 'button', class: 'btn primary', id: 'protection-action', onclick: () => ctx.raiseDrill() }, t('drill.start'));
  } else {
    return h('p', { class: 'protection protected', id: 'protection', dataset: { state }, role: 'status' },
      icon('check'), ' ', t('protection.protected'));
  }
  return h('section', { class: `protection ${state}`, id: 'protection', dataset: { state }, role: 'alert' },
    h('h2', { class: 'protection-title' }, icon('warning'), ' ', title),
    h('p', {}, detail),
    action);
}

/** Redraws the protection block in place (the home view stays where it was scrolled). */
export function updateProtection(ctx) {
  const old = document.getElementById('protection');
  if (old) old.replaceWith(protectionBlock(ctx));
}

/** The region's election campaign when today falls in it, else null. */
export function electionPeriod(ctx) {
  const e = ctx.profile.election;
  if (!e) return null;
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  const today = d.toISOString().slice(0, 10);
  return e.from <= today && today <= e.to ? e : null;
}

/** After the view is in the document: scroll to and flash the element a search hit pointed at. */
export function mounted(ctx, route) {
  const focus = route.query.get('focus');
  if (focus) revealAnchor(focus);
}

export function revealAnchor(id) {
  const el = document.getElementById(id);
  // A hit on a whole card or section: opening it is enough, nothing to point at inside.
  if (!el || el.matches('article, details')) {
    if (el?.matches('details')) { el.open = true; el.scrollIntoView({ block: 'start' }); }
    return;
  }
  for (let d = el.closest('details'); d; d = d.parentElement?.closest('details')) d.open = true;
  el.scrollIntoView({ block: 'center' });
  el.classList.add('flash');
  el.tabIndex = -1;
  el.focus({ preventScroll: true });
  setTimeout(() => el.classList.remove('flash'), 2500);
}

export function translationNote(ctx) {
  if (currentLang() !== 'en') return null;
  const showingOriginal = ctx.planLang === 'sv';
  return h('div', { class: 'translation-note', role: 'note' },
    h('p', {}, showingOriginal ? t('plan.original_note') : t('plan.translation_note')),
    h('button', {
      type: 'button', class: 'btn secondary small', id: 'toggle-original',
      onclick: () => { put({ planLang: showingOriginal ? 'en' : 'sv' }); ctx.go(location.hash); },
    }, showingOriginal ? t('plan.show_translation') : t('plan.show_original')));
}

function cardGrid(ctx, lang) {
  return h('section', { class: 'card-grid', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', class: 'grid-heading' }, t('plan.cards_heading')),
    h('div', { class: 'grid' }, ctx.profile.during.map((c) =>
      h('a', { class: `card-link card-${c.id}`, href: `#/card/${c.id}`, dataset: { card: c.id } },
        h('span', { class: 'card-link-title' }, pick(c.title, lang))))));
}

async function phaseContent(ctx, phase, lang, route) {
  const p = ctx.profile;
  const open = route.query.get('open');
  switch (phase) {
    case 'intro':
      return h('div', { class: 'phase' },
        h('h2', {}, pick(p.plan.title, lang)),
        p.plan.intro.map((para, i) => h('p', { id: `intro-${i}`, class: 'lead' }, pick(para, lang))),
        h('div', { class: 'chips' }, p.plan.intro_contacts.map((id) => callButton(ctx, id))),
        h('h3', {}, t('plan.responsibilities')),
        p.responsibilities.map((s) => sectionBlock(ctx, s, { open: s.id === open, lang })),
        h('p', { class: 'source-ref' }, p.plan.source));
    case 'before':
      return h('div', { class: 'phase' },
        p.before.map((s) => [sectionBlock(ctx, s, { open: s.id === open, lang }), supplements(ctx, s.id, lang, open)]),
        riskBlock(ctx, lang, open === 'risk'),
        supplements(ctx, 'before', lang, open));
    case 'during':
      return h('div', { class: 'phase' }, p.during.map((c) =>
        h('details', { class: 'section', id: c.id, open: c.id === open },
          h('summary', {}, h('span', { class: 'summary-text' }, pick(c.title, lang))),
          c.context ? h('p', { class: 'context' }, pick(c.context, lang)) : null,
          c.intro ? h('p', { id: `${c.id}-intro` }, pick(c.intro, lang)) : null,
          h('ol', { class: 'items numbered' }, c.steps.map((s, i) =>
            h('li', { id: `${c.id}-step-${i + 1}` },
              s.label ? h('strong', { class: 'step-label' }, pick(s.label, lang), ' – ') : null,
              h('span', { class: 'item-text' }, pick(s, lang))))),
          h('a', { class: 'btn secondary', href: `#/card/${c.id}` }, t('plan.open_card')),
          sourceRef(c.ref))),
        supplements(ctx, 'during', lang, open));
    case 'after':
    default:
      return h('div', { class: 'phase' },
        await checklistBlock(ctx, lang, open === null || open === p.checklist.id),
        p.after.map((s) => [sectionBlock(ctx, s, { open: s.id === open, lang }), supplements(ctx, s.id, lang, open)]),
        p.plan.notes ? await ownNotesBlock(ctx, p.plan.notes, open === OWN_NOTES) : null,
        supplements(ctx, 'after', lang, open));
  }
}

const OWN_NOTES = 'egna-anteckningar';

/** The plan's "Egna anteckningar" page: the person's own notes, saved as they type (in the
 * encrypted database, never sent). Behind the lock, only a line that they are there. */
async function ownNotesBlock(ctx, title, open) {
  const status = h('p', { class: 'save-status', id: 'own-notes-status', role: 'status', 'aria-live': 'polite' });
  let text;
  try {
    text = await api.ownNotes();
  } catch {
    return h('details', { class: 'section', id: OWN_NOTES, open },
      h('summary', {}, h('span', { class: 'summary-text' }, pick(title))),
      h('div', { class: 'section-body' }, h('p', { class: 'detail' }, t('notes.locked'))));
  }
  const field = h('textarea', { id: 'own-notes', rows: 8, maxlength: 20000, 'aria-label': pick(title), placeholder: t('notes.placeholder') }, text);
  const { schedule, flush } = autosave(status, () => api.saveOwnNotes(field.value));
  field.addEventListener('input', schedule);
  const root = h('details', { class: 'section own-notes', id: OWN_NOTES, open },
    h('summary', {}, h('span', { class: 'summary-text' }, pick(title))),
    h('div', { class: 'section-body' }, h('p', { class: 'detail' }, t('notes.help')), field, status));
  guard.beforeLock(root, flush);
  ctx.onLeave(flush);
  return root;
}

/** Supporting material placed at `where` (a part of the plan, or right under one of its
 * sections): marked as not the region's plan, with its source. */
function supplements(ctx, where, lang, open) {
  const list = (ctx.profile.supplements ?? []).filter((s) => s.placement === where);
  if (!list.length) return null;
  return list.map((s) => h('details', { class: 'section supplement', id: s.id, open: s.id === open },
    h('summary', {},
      h('span', { class: 'supplement-tag' }, t('plan.supplement')),
      h('span', { class: 'summary-text' }, pick(s.title, lang))),
    h('ul', { class: 'items' }, s.items.map((item) =>
      h('li', { id: item.id },
        item.label ? h('strong', { class: 'step-label' }, pick(item.label, lang)) : null,
        h('p', { class: 'item-text' }, pick(item, lang))))),
    h('p', { class: 'source-ref supplement-source' }, t('plan.supplement_source', { source: s.source }),
      s.url ? h('span', { class: 'url' }, ' ', s.url) : null)));
}

function riskBlock(ctx, lang, open) {
  const r = ctx.profile.risk;
  return h('details', { class: 'section risk', id: 'risk', open },
    h('summary', {}, h('span', { class: 'summary-text' }, pick(r.title, lang))),
    r.intro.map((para, i) => h('p', { id: `risk-intro-${i}` }, pick(para, lang))),
    h('p', { id: 'risk-rule', class: 'rule' }, pick(r.rule, lang)),
    h('h4', {}, pick(r.questions_heading, lang)),
    h('ul', { class: 'items' }, r.questions.map((q) =>
      h('li', { id: `risk-q-${q.id}` },
        q.label ? h('strong', {}, pick(q.label, lang), ' – ') : null,
        h('span', { class: 'item-text' }, pick(q, lang))))),
    h('a', { class: 'btn primary', href: '#/inventory/new' }, t('risk.start')),
    sourceRef(r.ref));
}

async function checklistBlock(ctx, lang, open) {
  const c = ctx.profile.checklist;
  let ticks = [];
  try {
    ticks = await api.checklistTicks();
  } catch (e) {
    // While locked the checklist is shown without its saved ticks.
    if (e.kind !== 'locked') ctx.error(e);
  }
  const byId = new Map(ticks.map((tk) => [tk.item_id, tk.ticked_at]));
  const list = h('ul', { class: 'checklist' }, c.items.map((item) => checklistItem(ctx, item, byId.get(item.id), lang)));
  return h('details', { class: 'section checklist-block', id: c.id, open },
    h('summary', {}, h('span', { class: 'summary-text' }, pick(c.title, lang))),
    list,
    h('a', { class: 'btn primary', id: 'checklist-new-incident', href: '#/incident/new' }, t('incident.new')),
    h('button', {
      type: 'button', class: 'btn secondary', id: 'checklist-reset',
      onclick: async () => {
        if (!(await confirmDialog(t('checklist.reset_confirm'), t('checklist.reset'), { danger: true }))) return;
        try {
          await api.checklistReset();
          ctx.go(`#/plan?phase=after&open=${c.id}`);
        } catch (e) {
          ctx.error(e);
        }
      },
    }, t('checklist.reset')),
    sourceRef(c.ref));
}

function checklistItem(ctx, item, tickedAt, lang) {
  const box = h('input', { type: 'checkbox', id: `tick-${item.id}`, checked: Boolean(tickedAt) });
  const when = h('span', { class: 'ticked-at', role: 'status' }, tickedAt ? t('checklist.ticked_at', { time: formatTime(tickedAt) }) : '');
  box.addEventListener('change', async () => {
    const want = box.checked;
    box.disabled = true;
    try {
      const tick = await api.checklistTick(item.id, want);
      box.checked = Boolean(tick);
      replace(when, tick ? t('checklist.ticked_at', { time: formatTime(tick.ticked_at) }) : '');
    } catch (e) {
      box.checked = !want; // not saved: show the truth
      ctx.error(e);
    } finally {
      box.disabled = false;
    }
  });
  return h('li', { id: item.id, class: 'check-item' },
    h('label', { class: 'check', for: `tick-${item.id}` }, box, h('span', { class: 'item-text' }, pick(item, lang))),
    when,
    item.contacts?.length ? h('div', { class: 'chips' }, item.contacts.map((id) => callButton(ctx, id))) : null);
}

async function runSearch(ctx, query, results, body) {
  const q = query.trim();
  if (q.length < 2) {
    results.hidden = true;
    body.hidden = false;
    replace(results);
    return;
  }
  let hits = [];
  try {
    hits = await api.searchPlan(q);
  } catch (e) {
    ctx.error(e);
    return;
  }
  body.hidden = true;
  results.hidden = false;
  replace(results,
    h('p', { class: 'hit-count' }, hitCount(hits.length, q)),
    h('ul', { class: 'hits' }, hits.map((hit) =>
      h('li', {},
        h('a', { class: 'hit', href: hitHref(ctx, hit), dataset: { anchor: hit.anchor } },
          h('span', { class: 'hit-phase' }, t(`phase.${hitPhase(hit)}`), ' · ', hit.heading),
          h('span', { class: 'hit-text' }, hit.segments.map((s) => (s.hit ? h('mark', {}, s.text) : s.text))))))));
}

function hitCount(n, q) {
  if (n === 0) return t('plan.no_hits', { q });
  return n === 1 ? t('plan.hit_one') : t('plan.hits', { n });
}

function hitPhase(hit) {
  return hit.phase === 'contacts' ? 'contacts' : hit.phase;
}

function hitHref(ctx, hit) {
  const enc = encodeURIComponent;
  if (hit.phase === 'during') return `#/card/${enc(hit.container)}?focus=${enc(hit.anchor)}`;
  if (hit.phase === 'contacts') return `#/contacts?focus=${enc(hit.anchor)}`;
  return `#/plan?phase=${hit.phase}&open=${enc(hit.container)}&focus=${enc(hit.anchor)}`;
}
