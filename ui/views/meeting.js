// Inför möte: the risk inventories for coming appearances, newest first.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { t, pick, formatTime } from '../i18n.js';
import { seconds } from './alarm.js';
import * as checkin from './checkin.js';

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
  return h('div', { class: 'meeting' },
    h('h2', {}, t('meeting.title')),
    always ? h('p', { class: 'lead' }, pick(always.items[0])) : null,
    checkin.card(ctx),
    h('a', { class: 'btn primary big', id: 'new-inventory', href: '#/inventory/new' }, t('inventory.new')),
    placeForm(ctx),
    await drillCard(ctx),
    h('h3', {}, t('meeting.inventories')),
    failed ? h('p', { class: 'error-text' }, t(`error.${failed.kind}`), ' ', failed.message) : null,
    list.length === 0 && !failed ? h('p', { class: 'empty' }, t('meeting.none')) : null,
    h('ul', { class: 'inventory-list' }, list.map((v) => inventoryRow(v))));
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
    st?.due ? h('p', { class: 'warn-text', id: beforeMeeting ? null : 'drill-due' }, t('drill.due', { n: st.interval_days })) : null,
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
      ctx.currentPlace = input.value.trim();
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
      h('span', { class: `badge ${a.advise_measures ? 'warn' : 'ok'}` },
        a.advise_measures ? t('inventory.result.advise_short') : t('inventory.answered', { n: a.answered, total: a.questions }))));
}
