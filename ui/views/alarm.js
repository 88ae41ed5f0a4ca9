// The alarm screen: full screen, one job. SKICKAR… → MOTTAGET av regionen kl … → KVITTERAT av …
// If no receipt has come within 15 s, or the app cannot send at all, it says so and makes
// "Ring 112" the largest thing on screen. A receipt that comes later is still shown.

import * as api from '../api.js';
import { h, replace, icon } from '../dom.js';
import { t, formatClock } from '../i18n.js';
import { confirmDialog, pinDialog } from '../dialog.js';
import { newer } from '../state.js';

let timer = 0;
/** The alarm screen built last, also in the moment before the router has attached it. */
let screen = null;
/** While the alarm is open the screen also asks for its state now and then: an event that
 * arrived while the screen was being built, or one lost otherwise, can never leave it stale. */
const REFRESH_MS = 2000;
const SETTLED = new Set(['acknowledged', 'cancelled']);

export async function render(ctx, route) {
  const id = route.params[0];
  let view;
  try {
    view = id === 'failed' ? null : await api.alarm(id);
  } catch {
    view = null;
  }
  // An `alarm` event may have brought a newer state while we asked (the receipt can come
  // within milliseconds of the trigger).
  const known = ctx.activeAlarm;
  if (view && known?.id === view.id && !newer(known, view)) view = known;
  const root = h('section', { class: 'alarm-screen', id: 'alarm-screen', 'aria-live': 'assertive' });
  root.dataset.built = String(Date.now());
  screen = root;
  draw(ctx, root, view);
  return root;
}

/** On screen: focus on the alarm's heading, so a keyboard alarm (or a screen reader) lands
 * on what happened, not on the body. */
export function mounted() {
  document.getElementById('alarm-title')?.focus({ preventScroll: true });
}

/** The screen is being replaced: it stops asking. */
export function unmount() {
  clearTimeout(timer);
  screen = null;
}

/** Redraws the screen when the alarm changes (called from app.js on every `alarm` event). */
export function update(ctx, view) {
  if (screen && screen.dataset.alarm === view.id) draw(ctx, screen, view);
}

/** Asks for the alarm's state and redraws if it moved on; keeps asking while it is open. */
async function refresh(ctx, root, view) {
  // Built but not yet attached is fine for a moment; replaced or left is the end.
  if (screen !== root) return;
  if (!root.isConnected && Date.now() - Number(root.dataset.built) > 5000) return;
  let fresh = view;
  try {
    fresh = await api.alarm(view.id);
  } catch { /* the last known state stays, and we ask again */ }
  if (screen !== root) return;
  const moved = fresh.revision > Number(root.dataset.revision) || phaseNow(fresh) !== root.dataset.phase;
  if (moved) draw(ctx, root, fresh);
  else schedule(ctx, root, fresh);
}

/** The next look: at the 15 s mark while sending, else every [REFRESH_MS]. */
function schedule(ctx, root, view) {
  clearTimeout(timer);
  const phase = phaseNow(view);
  if (SETTLED.has(phase)) return;
  let wait = REFRESH_MS;
  if (phase === 'sending') wait = Math.min(wait, Math.max(0, Date.parse(view.unconfirmed_at) - Date.now()) + 20);
  timer = setTimeout(() => refresh(ctx, root, view), wait);
}

function phaseNow(view) {
  // The screen turns by itself at 15 s, even if no event arrives.
  if (view.phase === 'sending' && Date.now() >= Date.parse(view.unconfirmed_at)) return 'unconfirmed';
  return view.phase;
}

function draw(ctx, root, view) {
  // Command answers and events travel separately: never show an older state over a newer one.
  const shown = root.dataset.alarm && { id: root.dataset.alarm, revision: Number(root.dataset.revision) };
  if (view && shown && !newer(shown, view)) return;
  const focused = document.activeElement?.id;
  try { paint(ctx, root, view); } finally {
    // Focus stays where it was across a redraw: the message being typed, or the heading.
    if (focused === 'alarm-msg-field' || focused === 'alarm-title') document.getElementById(focused)?.focus({ preventScroll: true });
  }
}

function paint(ctx, root, view) {
  clearTimeout(timer);
  if (!view) {
    // The alarm could not even be stored: say so plainly, 112 first.
    root.dataset.phase = 'failed';
    replace(root, status('failed', t('alarm.failed'), t('alarm.failed_detail')), call112(ctx, true), leave(ctx));
    return;
  }
  root.dataset.alarm = view.id;
  root.dataset.revision = String(view.revision);
  const phase = phaseNow(view);
  root.dataset.phase = phase;
  schedule(ctx, root, view);
  // Until an officer has taken it, 112 is the largest, filled thing on screen.
  const urgent = !view.drill && ['sending', 'unconfirmed', 'blocked', 'received'].includes(phase);
  // The report can wait: filled only once the alarm is taken or over.
  const reportLater = ['acknowledged', 'cancelled'].includes(phase) || view.drill;
  const [title, detail] = texts(view, phase);
  root.dataset.drill = view.drill ? 'true' : 'false';
  replace(root,
    view.drill ? h('p', { class: 'drill-banner', id: 'drill-banner' }, t('alarm.drill_banner')) : null,
    status(phase, title, detail),
    view.drill && view.round_trip_ms != null && phase === 'acknowledged'
      ? h('p', { class: 'round-trip', id: 'round-trip' }, t('alarm.drill_round_trip', { s: seconds(view.round_trip_ms) })) : null,
    call112(ctx, urgent),
    conversation(ctx, root, view),
    facts(view),
    h('a', { class: `btn ${reportLater ? 'primary' : 'secondary'} big`, id: 'alarm-report', href: `#/incident/new?alarm=${view.id}` }, ctx.profile.report_name ? t('alarm.write_named', { name: ctx.reportName().toLocaleLowerCase() }) : t('alarm.write_report')),
    phase === 'cancelled' || phase === 'cancelling' ? null : h('button', {
      type: 'button', class: 'btn danger big', id: 'cancel-alarm',
      onclick: () => cancel(ctx, root, view),
    }, t('alarm.cancel')),
    SETTLED.has(phase) ? h('button', { type: 'button', class: 'btn secondary', id: 'alarm-drill', onclick: () => ctx.raiseDrill() }, t('drill.start')) : null,
    view.received_at || phase === 'cancelled' ? timeline(view) : null,
    leave(ctx));
}

/** The person's answers in one tap (as `varn_core::alarm::QUICK_FROM_PERSON`). */
const QUICK = ['cannot_talk', 'safe', 'send_help', 'call_me'];
/** What the person is typing, kept across redraws of the screen (a message may arrive mid-word). */
const drafts = new Map();

/** The silent conversation with the region: what the officer wrote, the person's quick
 * answers in one tap and their own words. Not shown until the region has the alarm, and
 * never after a cancel (nor under duress, which looks like one). */
function conversation(ctx, root, view) {
  const messages = view.messages ?? [];
  if (!view.can_write && messages.length === 0) return null;
  const list = h('ol', { class: 'alarm-messages', id: 'alarm-messages', 'aria-live': 'polite' }, messages.map((m) => h('li', {
    class: `alarm-message from-${m.from} ${m.sending ? 'sending' : ''}`, dataset: { from: m.from },
  }, h('span', { class: 'msg-meta' }, m.from === 'officer' ? m.author : t('alarm.msg_you'), ' · ', m.sending ? t('alarm.msg_sending') : formatClock(m.at)),
  h('span', { class: 'msg-text' }, m.text))));
  if (!view.can_write) return h('section', { class: 'alarm-conversation', id: 'alarm-conversation' }, h('h3', {}, t('alarm.msg_title')), list);
  const send = async (text) => {
    try {
      const fresh = await api.sendAlarmMessage(view.id, text);
      drafts.delete(view.id);
      draw(ctx, root, fresh);
    } catch (e) {
      ctx.error(e);
    }
  };
  const field = h('textarea', { id: 'alarm-msg-field', rows: 2, maxlength: 1000, 'aria-label': t('alarm.msg_placeholder'), placeholder: t('alarm.msg_placeholder') }, drafts.get(view.id) ?? '');
  field.addEventListener('input', () => drafts.set(view.id, field.value));
  return h('section', { class: 'alarm-conversation', id: 'alarm-conversation' },
    h('h3', {}, t('alarm.msg_title')),
    h('p', { class: 'detail' }, t('alarm.msg_hint')),
    list,
    // "Ring mig" only with a number to ring, and the number goes with it.
    h('div', { class: 'quick-answers' }, QUICK.filter((k) => k !== 'call_me' || ctx.callbackNumber).map((k) => h('button', {
      type: 'button', class: 'btn secondary quick', id: `quick-${k}`,
      onclick: () => send(k === 'call_me' ? t('quick.call_me_on', { number: ctx.callbackNumber }) : t(`quick.${k}`)),
    }, t(`quick.${k}`)))),
    h('div', { class: 'msg-compose' }, field, h('button', {
      type: 'button', class: 'btn primary', id: 'alarm-msg-send', onclick: () => field.value.trim() && send(field.value),
    }, t('alarm.msg_send'))));
}

/** A cancel needs the PIN once one is set. The duress PIN looks exactly the same here. */
async function cancel(ctx, root, view) {
  if (ctx.pin?.pin_set) {
    const done = await pinDialog(t('alarm.cancel_pin'), t('alarm.cancel_yes'),
      (pin) => api.cancelAlarm(view.id, pin), { danger: true, cancelLabel: t('alarm.cancel_keep') });
    if (done) draw(ctx, root, done);
    return;
  }
  if (!(await confirmDialog(t('alarm.cancel_confirm'), t('alarm.cancel_yes'), { danger: true, cancelLabel: t('alarm.cancel_keep') }))) return;
  try {
    draw(ctx, root, await api.cancelAlarm(view.id));
  } catch (e) {
    ctx.error(e);
  }
}

/** The region's timeline of this alarm, on request, with a text export for the police. */
function timeline(view) {
  const list = h('ol', { class: 'alarm-timeline', id: 'alarm-timeline' });
  const status = h('p', { class: 'save-status', id: 'alarm-timeline-status', role: 'status' });
  const body = h('div', { hidden: true }, list,
    h('button', {
      type: 'button', class: 'btn secondary', id: 'alarm-timeline-export',
      onclick: async () => {
        try {
          const path = await api.exportAlarmTimeline(view.id);
          if (path) replace(status, t('timeline.saved', { path }));
        } catch (e) {
          replace(status, h('span', { class: 'error-text' }, t(`error.${e.kind}`), ' ', e.message ?? ''));
        }
      },
    }, t('timeline.export')),
    status);
  const toggle = h('button', {
    type: 'button', class: 'btn secondary', id: 'alarm-timeline-btn', 'aria-expanded': 'false',
    onclick: async () => {
      body.hidden = !body.hidden;
      toggle.setAttribute('aria-expanded', String(!body.hidden));
      if (body.hidden) return;
      replace(list, h('li', {}, t('timeline.loading')));
      try {
        const events = await api.alarmTimeline(view.id);
        replace(list, events.map((e) => h('li', { dataset: { kind: e.kind } },
          h('time', {}, formatClock(e.at)), ' ', t(`timeline.kind.${e.kind}`),
          e.actor && e.actor !== 'server' ? ` – ${e.actor}` : '',
          e.detail ? `: ${e.detail}` : '')));
      } catch (e) {
        replace(list, h('li', { class: 'error-text' }, t(`error.${e.kind}`), ' ', e.message ?? ''));
      }
    },
  }, t('timeline.show'));
  return h('section', { class: 'alarm-timeline-section' }, toggle, body);
}

function texts(view, phase) {
  switch (phase) {
    case 'sending': return [t('alarm.sending'), t('alarm.sending_detail')];
    case 'unconfirmed': return [t('alarm.unconfirmed'), t('alarm.unconfirmed_detail')];
    case 'blocked': return [t('alarm.unconfirmed'), t(`alarm.blocked.${view.blocked ?? 'not_enrolled'}`)];
    case 'received': return [t('alarm.received', { time: formatClock(view.received_at) }), view.escalated_to?.length
      ? t('alarm.escalated_detail', { who: view.escalated_to.join(', ') })
      : t('alarm.received_detail')];
    case 'acknowledged': return [t('alarm.acknowledged', { who: view.acknowledged_by ?? '', time: formatClock(view.acknowledged_at) }), t('alarm.acknowledged_detail')];
    case 'cancelling': return [t('alarm.cancelling'), view.received_at ? t('alarm.cancelling_detail') : t('alarm.cancelling_unsent')];
    case 'cancelled': return [t('alarm.cancelled'), view.received_at ? '' : t('alarm.cancelled_never_reached')];
    default: return ['', ''];
  }
}

/** Milliseconds as seconds with one decimal, in the UI's language. */
export function seconds(ms) {
  return (ms / 1000).toLocaleString(document.documentElement.lang || 'sv', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

function status(phase, title, detail) {
  return h('div', { class: `alarm-status phase-${phase}`, id: 'alarm-status', role: 'status' },
    phase === 'sending' || phase === 'cancelling' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    h('h2', { id: 'alarm-title', tabindex: '-1' }, title),
    detail ? h('p', { id: 'alarm-detail' }, detail) : null);
}

function call112(ctx, largest) {
  const sos = ctx.profile.contacts.find((c) => c.role === 'emergency');
  return h('button', {
    type: 'button', id: 'alarm-call-112', class: `alarm-112 ${largest ? 'largest' : ''}`,
    onclick: () => ctx.call(sos.id),
  }, icon('phone'), t('sos.call112'));
}

function facts(view) {
  return h('dl', { class: 'alarm-facts' },
    h('dt', {}, t('alarm.triggered')), h('dd', {}, formatClock(view.triggered_at)),
    // Where the alarm went: someone with a minute at the laptop cannot point it elsewhere
    // unseen.
    view.region_host && view.received_at ? [h('dt', {}, t('alarm.region_host')), h('dd', { id: 'alarm-region-host' }, view.region_host)] : null,
    view.centre_received_at ? [h('dt', {}, t('alarm.centre')), h('dd', { id: 'alarm-centre' }, t('alarm.centre_at', { time: formatClock(view.centre_received_at) }))] : null,
    view.meeting ? [h('dt', {}, t('alarm.meeting')), h('dd', {}, view.meeting)] : null,
    view.place ? [h('dt', {}, t('alarm.place')), h('dd', {}, view.place)] : null);
}

function leave(ctx) {
  return h('button', { type: 'button', class: 'btn secondary', id: 'alarm-leave', onclick: () => ctx.go('#/plan') }, t('alarm.leave'));
}
