// The check-in card: "Jag är på plats – checka ut senast kl …". Started when the meeting
// begins; near the end it asks for a check-out (+15/+30 min in one tap). If nobody checks out
// in time the region raises the alarm itself, even if this computer is closed.

import * as api from '../api.js';
import { h, replace, icon } from '../dom.js';
import { t, formatClock } from '../i18n.js';
import { takeCheckin, takeCheckinPoll } from '../state.js';

const CHOICES = [30, 60, 90, 120, 180];
/** While a check-in runs the card also asks for its state now and then: an event that came
 * before a command's own answer can never leave the card stale. */
const REFRESH_MS = 2000;
let timer = 0;
/** Shown once in the start form after a calm check-out. */
let doneMessage = '';

/** The card for the running check-in, or the form to start one. */
export function card(ctx, { suggested = false } = {}) {
  const root = h('section', { class: 'checkin-card', id: 'checkin-card', 'aria-live': 'polite' });
  draw(ctx, root, suggested);
  return root;
}

/** The card is being taken off screen: it stops asking. */
export function stop() {
  clearTimeout(timer);
}

/** Redraws the card where it is on screen (called on every `checkin` event). */
export function update(ctx) {
  const root = document.getElementById('checkin-card');
  if (root) draw(ctx, root, root.dataset.suggested === 'true');
}

async function refresh(ctx, root) {
  if (!root.isConnected) return;
  try {
    const before = ctx.checkin;
    const fresh = await api.activeCheckin();
    // Through the one "newer" rule: an answer older than an event never wins.
    const now = takeCheckinPoll(before, fresh);
    if (now !== before) {
      draw(ctx, root, root.dataset.suggested === 'true');
      return;
    }
  } catch { /* asked again below */ }
  timer = setTimeout(() => refresh(ctx, root), REFRESH_MS);
}

function draw(ctx, root, suggested) {
  const k = ctx.checkin;
  // Nothing to show changed: keep the nodes (a redraw under a finger loses the tap).
  const key = k ? `${k.id}|${k.phase}|${k.revision}|${k.deadline}` : `none|${doneMessage}`;
  const same = root.dataset.key === key && root.dataset.suggested === String(suggested);
  root.dataset.key = key;
  root.dataset.suggested = String(suggested);
  clearTimeout(timer);
  if (k) timer = setTimeout(() => refresh(ctx, root), REFRESH_MS);
  if (same) return;
  if (!k) {
    const minutes = h('select', { id: 'checkin-minutes' },
      CHOICES.map((m) => h('option', { value: String(m), selected: m === 60 }, t('checkin.minutes', { m }))));
    const status = h('p', { class: 'save-status', role: 'status' });
    replace(root,
      doneMessage ? h('p', { class: 'save-status', id: 'checkout-done', role: 'status' }, doneMessage) : null,
      h('h3', {}, t('checkin.title')),
      suggested ? h('p', { class: 'warn-text', id: 'checkin-suggested' }, t('checkin.suggested')) : null,
      h('p', { class: 'detail' }, t('checkin.explain')),
      h('div', { class: 'field' }, h('label', { for: 'checkin-minutes' }, t('checkin.how_long')), minutes),
      h('button', {
        type: 'button', class: 'btn primary big', id: 'checkin-start',
        onclick: async () => {
          try {
            const view = await api.checkIn(Number(minutes.value));
            doneMessage = '';
            // An event may already have brought a newer state of it.
            takeCheckin(view);
            draw(ctx, root, suggested);
          } catch (e) {
            replace(status, h('span', { class: 'error-text' }, t(`error.${e.kind}`), ' ', e.message));
          }
        },
      }, t('checkin.start')),
      status);
    root.dataset.phase = 'none';
    return;
  }
  root.dataset.phase = k.phase;
  const act = (fn) => async () => {
    try {
      const view = await fn();
      takeCheckin(view);
      draw(ctx, root, suggested);
    } catch (e) {
      ctx.error(e);
    }
  };
  const out = async (outcome) => {
    try {
      await api.checkOut(k.id, outcome);
    } catch (e) {
      ctx.error(e);
      return;
    }
    takeCheckinPoll(k, null);
    if (outcome === 'incident') {
      ctx.go(`#/incident/new?checkin=${k.id}`);
      return;
    }
    doneMessage = t('checkin.done');
    draw(ctx, root, suggested);
  };
  const urgent = k.phase === 'unconfirmed' || k.phase === 'overdue';
  replace(root,
    h('h3', {}, t('checkin.active_title')),
    h('p', { class: 'checkin-deadline', id: 'checkin-deadline' }, t('checkin.deadline', { time: formatClock(k.deadline) })),
    h('p', { id: 'checkin-state', class: urgent ? 'error-text' : k.phase === 'due' ? 'warn-text' : '' }, t(`checkin.phase.${k.phase}`)),
    urgent ? h('button', { type: 'button', class: 'alarm-112', id: 'checkin-112', onclick: () => ctx.call(ctx.profile.contacts.find((c) => c.role === 'emergency').id) },
      icon('phone'), t('sos.call112')) : null,
    k.phase === 'overdue' ? null : h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn secondary', id: 'checkin-extend-15', onclick: act(() => api.extendCheckin(k.id, 15)) }, t('checkin.extend', { m: 15 })),
      h('button', { type: 'button', class: 'btn secondary', id: 'checkin-extend-30', onclick: act(() => api.extendCheckin(k.id, 30)) }, t('checkin.extend', { m: 30 }))),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn primary big', id: 'checkout-calm', onclick: () => out('calm') }, t('checkin.calm')),
      h('button', { type: 'button', class: 'btn danger big', id: 'checkout-incident', onclick: () => out('incident') }, t('checkin.incident'))));
}
