// One incident report: what happened before, during and what was done (the plan's three
// questions), who, where, witnesses, police and region reporting, the EFTER checklist for this
// incident, and attachments. Every change is saved durably (debounced); "Sparat" shows only
// after the save has been committed. A draft stays a draft until it is marked ready.

import * as api from '../api.js';
import { dateTimeField } from '../datetime.js';
import { h, replace, icon } from '../dom.js';
import { t, pick, formatClock } from '../i18n.js';
import { confirmDialog } from '../dialog.js';
import * as guard from '../guard.js';
import { autosave } from '../autosave.js';
import { backLink } from './common.js';
import { statusText, followupLine } from './reports.js';

// The follow-up lists (PTU's categories); their labels are `varn_core::ptu`'s, checked by a test.
const EVENTS = ['threat_harassment', 'violence_damage_theft', 'corruption'];
const CHANNELS = ['social_media', 'in_person', 'phone', 'text_message', 'email', 'letter', 'other'];
const PERPETRATORS = ['aggrieved_citizen', 'unknown_person', 'known_person', 'right_wing_extremists', 'left_wing_extremists', 'religious_extremists', 'criminal_network', 'environmental_animal_rights', 'organised', 'unknown'];
const CONSEQUENCES = ['refrained_from_speaking', 'considered_leaving', 'changed_routines', 'fear', 'family_affected', 'other'];
const REASONS = ['unsure_if_crime', 'not_serious', 'pointless', 'fear_of_consequences', 'part_of_the_job', 'other'];
/** The longest text of one field (the same limit as the app and the server). */
const MAX_TEXT = 100000;

export async function render(ctx, route) {
  let id = route.params[0];
  let row;
  try {
    if (id === 'new') {
      row = await api.newIncident(route.query.get('alarm'), route.query.get('checkin'));
      history.replaceState(null, '', `#/incident/${row.id}`);
    } else {
      row = await api.incident(id);
    }
  } catch (e) {
    return h('div', { class: 'empty' }, h('p', {}, t(`error.${e.kind}`)), h('p', { class: 'detail' }, e.message),
      backLink(t('reports.title'), '#/reports'));
  }
  return editor(ctx, row);
}

/** A part of the report that opens and closes (open when it holds something). */
function fold(id, title, open, ...content) {
  return h('details', { class: 'section report-part', id, open },
    h('summary', {}, h('span', { class: 'summary-text' }, title)),
    h('div', { class: 'section-body' }, content));
}

function editor(ctx, row) {
  const state = structuredClone(row.incident);
  const status = h('p', { class: 'save-status', id: 'save-status', role: 'status', 'aria-live': 'polite' },
    t('save.saved', { time: formatClock(row.updated_at) }));
  const badge = h('span', { class: `badge status-${row.status}`, id: 'incident-status' }, statusText(row));
  const { schedule, flush, cancel } = autosave(status, async () => {
    const r = await api.saveIncident(row.id, state);
    show(r);
    return r.updated_at;
  });

  // Backing out of a report nobody wrote in leaves nothing behind (the store decides: a
  // report with a word or an attachment is never removed this way).
  ctx.onLeave(async (next) => {
    if (next.name === 'incident' && next.params[0] === row.id) return;
    await flush();
    if (row.status === 'draft') await api.discardDraft(row.id).catch(() => {});
  });

  function show(r) {
    row = r;
    badge.className = `badge status-${r.status}`;
    replace(badge, statusText(r));
    readyBtn.hidden = r.status !== 'draft';
    drawAttachments(r);
  }

  const input = (name, label, type = 'text', attrs = {}) => {
    if (type === 'datetime-local') {
      const field = dateTimeField({ id: `inc-${name}`, label, value: state[name] ?? '' });
      field.addEventListener('input', () => { state[name] = field.value; schedule(); });
      return field;
    }
    const el = h(type === 'textarea' ? 'textarea' : 'input', {
      id: `inc-${name}`, type: type === 'textarea' ? null : type, ...attrs,
      value: type === 'textarea' ? null : (state[name] ?? ''),
    }, type === 'textarea' ? (state[name] ?? '') : null);
    el.addEventListener('input', () => { state[name] = el.value; schedule(); });
    return h('div', { class: 'field' }, h('label', { for: `inc-${name}` }, label), el);
  };
  const check = (name, label) => {
    const el = h('input', { type: 'checkbox', id: `inc-${name}`, checked: Boolean(state[name]) });
    el.addEventListener('change', () => { state[name] = el.checked; schedule(); });
    return h('label', { class: 'check', for: `inc-${name}` }, el, h('span', {}, label));
  };

  /** A choice from a list, or none (every follow-up field may stay unanswered). */
  const choice = (name, label, prefix, keys, pickText) => {
    const el = h('select', { id: `inc-${name}` },
      h('option', { value: '' }, pickText),
      keys.map((k) => h('option', { value: k, selected: state[name] === k }, t(`${prefix}.${k}`))));
    el.addEventListener('change', () => { state[name] = el.value || null; schedule(); });
    return h('div', { class: 'field' }, h('label', { for: `inc-${name}` }, label), el);
  };
  /** Yes, no, or unanswered. */
  const yesNo = (name, label, no = t('incident.no'), yes = t('incident.yes')) => {
    const value = state[name] === true ? 'yes' : state[name] === false ? 'no' : '';
    const el = h('select', { id: `inc-${name}` },
      h('option', { value: '', selected: value === '' }, t('incident.unanswered')),
      h('option', { value: 'no', selected: value === 'no' }, no),
      h('option', { value: 'yes', selected: value === 'yes' }, yes));
    el.addEventListener('change', () => { state[name] = el.value === '' ? null : el.value === 'yes'; schedule(); });
    return h('div', { class: 'field' }, h('label', { for: `inc-${name}` }, label), el);
  };
  const consequences = h('fieldset', { class: 'field', id: 'inc-consequences' },
    h('legend', {}, t('incident.consequences')),
    CONSEQUENCES.map((c) => {
      const box = h('input', { type: 'checkbox', id: `inc-cons-${c}`, checked: (state.consequences ?? []).includes(c) });
      box.addEventListener('change', () => {
        const now = new Set(state.consequences ?? []);
        if (box.checked) now.add(c); else now.delete(c);
        state.consequences = CONSEQUENCES.filter((x) => now.has(x));
        schedule();
      });
      return h('label', { class: 'check', for: `inc-cons-${c}` }, box, h('span', {}, t(`consequence.${c}`)));
    }));

  const checklist = h('ul', { class: 'checklist', id: 'incident-checklist' }, ctx.profile.checklist.items.map((item) => {
    const box = h('input', { type: 'checkbox', id: `inc-tick-${item.id}`, checked: state.checklist.includes(item.id) });
    box.addEventListener('change', () => {
      state.checklist = box.checked ? [...new Set([...state.checklist, item.id])] : state.checklist.filter((x) => x !== item.id);
      schedule();
    });
    return h('li', { class: 'check-item' }, h('label', { class: 'check', for: `inc-tick-${item.id}` }, box, h('span', { class: 'item-text' }, pick(item))));
  }));

  const attachments = h('section', { class: 'attachments', id: 'attachments', 'aria-labelledby': 'att-heading' });
  const attachResult = h('p', { class: 'save-status', id: 'attach-status', role: 'status' });
  function drawAttachments(r) {
    replace(attachments,
      h('h3', { id: 'att-heading' }, t('incident.attachments')),
      r.attachments.length === 0 ? h('p', { class: 'empty' }, t('incident.no_attachments')) : null,
      h('ul', { class: 'attachment-list' }, r.attachments.map((a) => h('li', { class: 'attachment', dataset: { name: a.filename } },
        h('span', { class: 'att-name' }, a.filename),
        h('span', { class: 'att-meta' }, `${formatSize(a.size)} · SHA-256 ${a.sha256.slice(0, 12)}…`),
        h('button', {
          type: 'button', class: 'btn danger small', 'aria-label': t('incident.remove_attachment', { name: a.filename }),
          onclick: async () => {
            if (!(await confirmDialog(t('incident.remove_attachment_confirm', { name: a.filename }), t('contacts.delete'), { danger: true }))) return;
            try { show(await api.deleteAttachment(r.id, a.id)); } catch (e) { ctx.error(e); }
          },
        }, t('contacts.delete'))))),
      h('button', {
        type: 'button', class: 'btn secondary', id: 'add-attachment',
        onclick: async () => {
          await flush();
          replace(attachResult, t('incident.attaching'));
          try { attached(await api.pickAttachments(r.id)); } catch (e) { replace(attachResult, h('span', { class: 'error-text' }, e.message)); }
        },
      }, icon('note'), t('incident.add_attachment')),
      h('p', { class: 'detail' }, t('incident.drop_hint')),
      attachResult);
  }
  function attached(result) {
    show(result.incident);
    replace(attachResult, result.failed.length
      ? h('span', { class: 'error-text' }, result.failed.map((f) => `${f.name}: ${t(`error.${f.kind}`)}`).join(' · '))
      : '');
  }
  // Files dropped on the window while this report is open.
  const stopDrop = api.on('files-dropped', async ({ token, names }) => {
    if (!document.getElementById('attachments')) return;
    replace(attachResult, t('incident.attaching_names', { names: names.join(', ') }));
    try { attached(await api.attachDropped(row.id, token)); } catch (e) { replace(attachResult, h('span', { class: 'error-text' }, e.message)); }
  });
  window.addEventListener('hashchange', () => stopDrop.then((f) => f()), { once: true });

  const readyBtn = h('button', {
    type: 'button', class: 'btn primary big', id: 'mark-ready', hidden: row.status !== 'draft',
    onclick: async () => {
      await flush();
      try { show(await api.markIncidentReady(row.id)); } catch (e) { ctx.error(e); }
    },
  }, t('incident.mark_ready'));
  const exportStatus = h('p', { class: 'save-status', id: 'export-status', role: 'status' });

  const root = h('div', { class: 'incident', id: 'incident-editor', dataset: { incident: row.id } },
    backLink(t('reports.title'), '#/reports'),
    h('h2', { id: 'incident-title' }, ctx.reportName()),
    h('p', {}, badge),
    row.refusal ? h('p', { class: 'error-text', id: 'incident-refusal' }, t('sync.refused', { why: row.refusal })) : null,
    status,
    followupLine(row, true),
    choice('event', t('incident.event'), 'event', EVENTS, t('incident.event_pick')),
    choice('channel', t('incident.channel'), 'channel', CHANNELS, t('incident.channel_pick')),
    // A report from before these fields: its kind is shown until an edit turns it into them.
    state.kind && !state.event && !state.channel
      ? h('p', { class: 'detail', id: 'inc-legacy-kind' }, t('incident.legacy_kind', { kind: t(`kind.${state.kind}`) })) : null,
    // Stacked: a date and time needs the full width to be readable.
    input('started_at', t('incident.started_at'), 'datetime-local'),
    input('ended_at', t('incident.ended_at'), 'datetime-local'),
    input('place', t('incident.place'), 'text', { maxlength: 200 }),
    h('h3', {}, t('incident.plan_questions')),
    input('before', t('incident.before'), 'textarea', { rows: 4, maxlength: MAX_TEXT }),
    input('during', t('incident.during'), 'textarea', { rows: 5, maxlength: MAX_TEXT }),
    input('actions', t('incident.actions'), 'textarea', { rows: 4, maxlength: MAX_TEXT }),
    // The rest when there is time: folded, and open by itself once something is in it.
    fold('inc-people', t('incident.people'), Boolean(state.involved || state.witnesses),
      input('involved', t('incident.involved'), 'textarea', { rows: 2, maxlength: MAX_TEXT, placeholder: t('incident.involved_hint') }),
      input('witnesses', t('incident.witnesses'), 'textarea', { rows: 2, maxlength: MAX_TEXT })),
    fold('inc-followup-fields', t('incident.followup_fields'),
      Boolean(state.sexual != null || state.repeated != null || state.perpetrator || (state.consequences ?? []).length),
      h('p', { class: 'detail' }, t('incident.followup_hint')),
      yesNo('repeated', t('incident.repeated'), t('incident.repeated_no'), t('incident.repeated_yes')),
      yesNo('sexual', t('incident.sexual')),
      choice('perpetrator', t('incident.perpetrator'), 'perpetrator', PERPETRATORS, t('incident.unanswered')),
      consequences),
    fold('inc-reporting', t('incident.reporting'),
      Boolean(state.police_reported || state.police_reported_at || state.police_report_number || state.reported_to_region || state.not_reported_reason),
      check('police_reported', t('incident.police_reported')),
      choice('not_reported_reason', t('incident.not_reported_reason'), 'reason', REASONS, t('incident.unanswered')),
      input('police_reported_at', t('incident.police_reported_at'), 'datetime-local'),
      input('police_report_number', t('incident.police_report_number'), 'text', { maxlength: 200 }),
      check('reported_to_region', t('incident.reported_to_region'))),
    fold('inc-checklist', t('incident.checklist_count', {
      title: pick(ctx.profile.checklist.title), n: state.checklist.length, total: ctx.profile.checklist.items.length,
    }), state.checklist.length > 0, checklist),
    attachments,
    readyBtn,
    h('button', {
      type: 'button', class: 'btn secondary big', id: 'export-incident',
      onclick: async () => {
        await flush();
        replace(exportStatus, t('incident.exporting'));
        try {
          const out = await api.exportIncident(row.id);
          replace(exportStatus, out ? t('incident.exported', { pdf: out.pdf, text: out.text }) : '');
        } catch (e) {
          replace(exportStatus, h('span', { class: 'error-text' }, e.message));
        }
      },
    }, t('incident.export')),
    exportStatus,
    h('button', {
      type: 'button', class: 'btn danger', id: 'delete-incident',
      onclick: async () => {
        if (!(await confirmDialog(t('incident.delete_confirm'), t('incident.delete'), { danger: true }))) return;
        await cancel();
        try { await api.deleteIncident(row.id); ctx.go('#/reports'); } catch (e) { ctx.error(e); }
      },
    }, t('incident.delete')));
  drawAttachments(row);
  // "Dölj" or the idle lock: the last keystrokes are saved before the lock goes up.
  guard.beforeLock(root, flush);
  return root;
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
