// Inför möte: the risk inventories for coming appearances, newest first.

import * as api from '../api.js';
import { dateTimeField } from '../datetime.js';
import { h, replace } from '../dom.js';
import { t, pick, formatTime } from '../i18n.js';
import { seconds } from './alarm.js';
import * as checkin from './checkin.js';
import { electionPeriod } from './plan.js';
import { takeCheckin, put } from '../state.js';

/** The view is being replaced: the check-in card stops asking. */
export function unmount() {
  checkin.stop();
}

export async function render(ctx) {
  const p = ctx.profile;
  const always = p.before.find((s) => s.id === 'fore-alltid-skall');
  let list = [];
  let failed = null;
  try {
    list = await api.inventories();
  } catch (e) {
    failed = e;
  }
  const election = Boolean(electionPeriod(ctx));
  const planned = h('div', { class: 'appearances', id: 'appearances' });
  await drawAppearances(ctx, planned, election);
  const drill = await drillCard(ctx);
  // One thing at a time: the check-in stays in view, the rest are sections that open (the
  // planned appearances open; the drill opens by itself when it is due).
  return h('div', { class: 'meeting' },
    h('h2', {}, t('meeting.title')),
    always ? h('p', { class: 'lead' }, pick(always.items[0])) : null,
    checkin.card(ctx, { suggested: election }),
    section('meeting-appearances', t('appearance.title'), true, planned),
    section('meeting-inventories', t('meeting.inventories_count', { n: list.length }), false,
      h('a', { class: 'btn primary big', id: 'new-inventory', href: '#/inventory/new' }, t('inventory.new')),
      failed ? h('p', { class: 'error-text' }, t(`error.${failed.kind}`), ' ', failed.message) : null,
      list.length === 0 && !failed ? h('p', { class: 'empty' }, t('meeting.none')) : null,
      h('ul', { class: 'inventory-list' }, list.map((v) => inventoryRow(v)))),
    section('meeting-place', ctx.currentPlace ? t('place.summary', { place: ctx.currentPlace }) : t('place.label'), false,
      placeForm(ctx)),
    section('meeting-drill', t('drill.title'), drill.classList.contains('due'), drill));
}

/** A section of Inför möte that opens and closes. */
function section(id, title, open, ...content) {
  return h('details', { class: 'section meeting-section', id, open },
    h('summary', {}, h('span', { class: 'summary-text' }, title)),
    h('div', { class: 'section-body' }, content));
}

const REMIND_CHOICES = [15, 30, 60, 120, 1440];

/** Planned appearances with their inventory state, and the form for a new one. */
async function drawAppearances(ctx, root, election) {
  let list = [];
  let failed = null;
  try {
    list = await api.appearances();
  } catch (e) {
    failed = e;
  }
  const field = (id, label, attrs) => h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, ...attrs }));
  const status = h('p', { class: 'save-status', id: 'appearance-status', role: 'status' });
  const remind = h('select', { id: 'appearance-remind' },
    REMIND_CHOICES.map((m) => h('option', { value: String(m), selected: m === 60 }, t(m === 1440 ? 'appearance.remind_day' : 'appearance.remind_minutes', { m }))));
  const form = h('form', { class: 'link-form', id: 'appearance-form' },
    field('appearance-title', t('appearance.what'), { type: 'text', maxlength: 200, required: true }),
    field('appearance-place', t('appearance.where'), { type: 'text', maxlength: 200 }),
    dateTimeField({ id: 'appearance-start', label: t('appearance.start'), required: true }),
    dateTimeField({ id: 'appearance-end', label: t('appearance.end'), required: true }),
    h('div', { class: 'field' }, h('label', { for: 'appearance-remind' }, t('appearance.remind')), remind),
    h('button', { type: 'submit', class: 'btn primary', id: 'appearance-save' }, t('appearance.save')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = (id) => document.getElementById(id).value;
    try {
      const v = await api.saveAppearance({
        title: value('appearance-title'), place: value('appearance-place'),
        starts_at: value('appearance-start'), ends_at: value('appearance-end'), remind_minutes: Number(remind.value),
      });
      // In an election campaign every appearance gets its risk inventory at once.
      if (election) ctx.go(`#/inventory/new?appearance=${v.appearance.id}`);
      else await drawAppearances(ctx, root, election);
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, t(`error.${err.kind}`), ' ', err.message));
    }
  });
  replace(root,
    election ? h('p', { class: 'warn-text' }, t('appearance.election')) : null,
    failed ? h('p', { class: 'error-text' }, t(`error.${failed.kind}`), ' ', failed.message) : null,
    list.length === 0 && !failed ? h('p', { class: 'empty' }, t('appearance.none')) : null,
    h('ul', { class: 'appearance-list' }, list.map((v) => appearanceRow(ctx, v))),
    h('details', { class: 'new-appearance', open: list.length === 0 },
      h('summary', { id: 'new-appearance' }, t('appearance.new')), form));
}

function appearanceRow(ctx, v) {
  const a = v.appearance;
  const when = `${formatTime(a.starts_at)}–${a.ends_at.slice(11, 16)}`;
  const inventory = {
    missing: h('a', { class: 'badge warn', href: a.inventory_id ? `#/inventory/${a.inventory_id}` : `#/inventory/new?appearance=${a.id}`, dataset: { inventoryState: 'missing' } }, t('appearance.inventory_missing')),
    advises: h('a', { class: 'badge warn', href: `#/inventory/${a.inventory_id}`, dataset: { inventoryState: 'advises' } }, t('appearance.inventory_advises')),
    started: h('a', { class: 'badge warn', href: `#/inventory/${a.inventory_id}`, dataset: { inventoryState: 'started' } }, t('appearance.inventory_started')),
    complete: h('a', { class: 'badge ok', href: `#/inventory/${a.inventory_id}`, dataset: { inventoryState: 'complete' } }, t('appearance.inventory_ok')),
  }[v.inventory];
  const canCheckIn = v.minutes_left != null && !ctx.checkin;
  return h('li', { class: 'appearance-row', dataset: { appearance: a.id } },
    h('div', { class: 'row-title' }, a.title),
    h('div', { class: 'row-meta' }, [when, a.place].filter(Boolean).join(' · ')),
    inventory,
    canCheckIn ? h('button', {
      type: 'button', class: 'btn secondary', dataset: { checkinFor: a.id },
      onclick: async () => {
        try {
          takeCheckin(await api.checkIn(v.minutes_left, a.id));
          ctx.go('#/meeting');
        } catch (e) {
          ctx.error(e);
        }
      },
    }, t('appearance.checkin', { time: a.ends_at.slice(11, 16) })) : null);
}

/** Testlarm: when the last one went the whole way, and a reminder when it is time. */
export async function drillCard(ctx, { beforeMeeting = false } = {}) {
  let st = null;
  try {
    st = await api.drillStatus();
  } catch { /* the button still works */ }
  const last = st?.last_at
    ? t('drill.last', { date: formatTime(st.last_at), who: st.acknowledged_by ?? '', s: seconds(st.round_trip_ms ?? 0) })
    : t('drill.never');
  const due = st?.due || beforeMeeting;
  return h('section', { class: `drill-card ${due ? 'due' : ''}`, id: beforeMeeting ? 'drill-before-meeting' : 'drill-card' },
    h('h3', {}, t('drill.title')),
    h('p', { class: 'detail' }, t('drill.explain')),
    h('p', { id: beforeMeeting ? null : 'drill-last' }, last),
    st?.due ? h('p', { class: 'warn-text', id: beforeMeeting ? null : 'drill-due' }, st.last_at ? t('drill.due', { n: st.interval_days }) : t('drill.due_never')) : null,
    beforeMeeting ? h('p', { class: 'warn-text' }, t('drill.before_meeting')) : null,
    h('button', { type: 'button', class: 'btn primary', id: beforeMeeting ? 'drill-start-meeting' : 'drill-start', onclick: () => ctx.raiseDrill() }, t('drill.start')));
}

/** "Var är du nu?": sent with an alarm for the next 12 hours. */
function placeForm(ctx) {
  const input = h('input', { id: 'current-place', type: 'text', maxlength: 200, value: ctx.currentPlace, placeholder: t('place.placeholder') });
  const status = h('p', { class: 'save-status', role: 'status' });
  const form = h('form', { class: 'field place-form', id: 'place-form' },
    h('label', { for: 'current-place' }, t('place.label')),
    input,
    h('p', { class: 'detail' }, t('place.help')),
    h('button', { type: 'submit', class: 'btn secondary' }, t('place.save')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.setCurrentPlace(input.value);
      put({ currentPlace: input.value.trim() });
      replace(status, t('place.saved'));
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, err.message));
    }
  });
  return form;
}

function inventoryRow(v) {
  const inv = v.inventory;
  const a = v.assessment;
  const when = inv.when ? formatTime(inv.when) : '';
  return h('li', {},
    h('a', { class: 'inventory-row', href: `#/inventory/${inv.id}`, dataset: { inventory: inv.id } },
      h('span', { class: 'row-title' }, inv.what),
      h('span', { class: 'row-meta' }, [when, inv.where].filter(Boolean).join(' · ')),
      h('span', { class: `badge ${a.state === 'complete' ? 'ok' : 'warn'}`, dataset: { inventoryState: a.state } },
        a.state === 'advises' ? t('inventory.result.advise_short')
          : a.state === 'complete' ? t('appearance.inventory_ok')
            : t('inventory.answered', { n: a.answered, total: a.questions }))));
}
