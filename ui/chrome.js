// The parts that stay on screen around the views: the top bar, the banners, the emergency
// strip (112 and LARM, index.html's own, wired once) and the tab bar.

import * as api from './api.js';
import { h, replace } from './dom.js';
import { t, formatClock } from './i18n.js';
import { holdToTrigger } from './panic.js';
import { ctx, put } from './state.js';
import { parseRoute, redrawInPlace } from './router.js';
import * as plan from './views/plan.js';
import * as reports from './views/reports.js';
import { keyPending } from './views/settings.js';

function connectionLabel() {
  return t(`conn.${ctx.connection}`);
}

/** The parts that stay on screen: top bar, banner, emergency strip, tab bar. */
export function drawChrome() {
  document.title = t('app.name');
  replace(document.getElementById('app-title'), t('app.name'));
  const conn = document.getElementById('conn');
  conn.dataset.state = ctx.connection;
  conn.title = t('conn.open');
  replace(conn, h('span', { class: 'dot', 'aria-hidden': 'true' }), connectionLabel());
  const gear = document.getElementById('settings-btn');
  gear.setAttribute('aria-label', t('settings.title'));
  gear.title = t('settings.title');
  // No tooltip: one would hang over the neutral screen the button puts up.
  const hide = document.getElementById('hide-btn');
  replace(hide, t('hide.button'));
  hide.removeAttribute('title');

  const banner = document.getElementById('banner');
  // While the region's key waits for its fingerprint to be compared, that is what to do
  // (the region's profile is refused until then, which needs no note of its own).
  const pending = keyPending(ctx);
  const notes = ctx.profileNotes
    .filter((n) => !(pending && n.source === 'server'))
    .map((n) => h('p', {}, t(`profile.note.${n.kind}`, { source: n.source, detail: n.detail, version: ctx.profile.version })));
  if (pending && !ctx.screenLocked) {
    notes.unshift(h('p', { id: 'key-banner' }, h('a', { href: '#/settings' }, t('key.banner', { region: ctx.link?.region_id ?? '' }))));
  }
  replace(banner, notes);
  banner.hidden = notes.length === 0;

  // The emergency strip and the tabs are index.html's own (painted before this module ran):
  // wired once, and from then on only their words change — a redraw never replaces LARM in
  // the middle of a hold.
  const panic = document.getElementById('panic');
  const hint = document.getElementById('panic-hint');
  const nav = document.getElementById('tabs');
  if (!chromeWired) {
    chromeWired = true;
    window.varnAppLoaded = true;
    document.getElementById('sos-112').addEventListener('click', () => ctx.call(emergencyId()));
    holdToTrigger(panic, () => ctx.raiseAlarm(), {
      hint, restHint: panicHint, startedAt: window.varnEarlyPress || 0,
      // Silent unless the person chose a tone: they may be hiding.
      sound: () => ctx.discretion?.sound === true,
    });
    for (const b of nav.querySelectorAll('[data-tab]')) {
      b.addEventListener('click', () => ctx.go(`#/${b.dataset.tab}`));
      b.addEventListener('keydown', tabKeys);
    }
  }
  for (const el of document.querySelectorAll('#sos [data-i18n], #tabs [data-i18n]')) {
    if (el !== hint) el.textContent = t(el.dataset.i18n);
  }
  // The LARM button says itself when an alarm cannot get where it should.
  panic.dataset.protection = ctx.protection?.state ?? 'unknown';
  if (!panic.classList.contains('holding') && !panic.classList.contains('tapped')) hint.textContent = panicHint();
  nav.setAttribute('aria-label', t('tabs.label'));
  drawSyncBadge();
}

/** Whether the static chrome's buttons have their handlers. */
let chromeWired = false;

/** The number of reports waiting to be sent, on the Rapporter tab. */
export function drawSyncBadge() {
  const tab = document.getElementById('tab-reports');
  if (!tab) return;
  tab.querySelector('.tab-badge')?.remove();
  const n = ctx.sync?.counts.reports ?? 0;
  if (n > 0) {
    tab.append(h('span', { class: 'tab-badge', id: 'sync-badge', 'aria-label': n === 1 ? t('sync.badge_one') : t('sync.badge', { n }) }, String(n)));
  }
}

/** Sync changed: the badge now, the reports views once things settle (not on every chunk). */
let syncRedraw = null;
export function onSync(view) {
  const before = ctx.sync;
  put({ sync: view });
  drawSyncBadge();
  const route = parseRoute();
  if (route.name !== 'reports' && route.name !== 'incident') return;
  const panel = document.getElementById('sync-panel');
  const onlyProgress = before && panel && before.state === view.state
    && JSON.stringify(before.counts) === JSON.stringify(view.counts);
  if (onlyProgress && route.name === 'reports') {
    panel.replaceWith(reports.syncPanel(ctx) ?? '');
    return;
  }
  if (route.name !== 'reports') return; // the editor keeps its focus; it reads status on save
  clearTimeout(syncRedraw);
  // Redrawn in place: the list keeps its scroll position.
  syncRedraw = setTimeout(() => redrawInPlace('reports'), 150);
}

/** A bar on every other view while an alarm still needs attention. */
export function drawAlarmBanner(route = parseRoute()) {
  const bar = document.getElementById('alarm-banner');
  const a = ctx.activeAlarm;
  // A drill that went the whole way needs no reminder on every view.
  const over = a && (a.phase === 'cancelled' || (a.drill && a.phase === 'acknowledged'));
  const show = a && !over && route.name !== 'alarm';
  bar.hidden = !show;
  if (!show) return;
  replace(bar, h('a', { href: `#/alarm/${a.id}`, id: 'alarm-banner-link' }, t(`banner.${a.phase}`), ' – ', t('banner.open')));
}

/** A bar on other views when a check-in needs the person: time to check out, missed, or
 * not received by the region. */
export function drawCheckinBanner(route = parseRoute()) {
  const bar = document.getElementById('checkin-banner');
  const k = ctx.checkin;
  const show = k && ['due', 'overdue', 'unconfirmed'].includes(k.phase) && route.name !== 'meeting' && !ctx.screenLocked;
  bar.hidden = !show;
  if (!show) return;
  replace(bar, h('a', { href: '#/meeting', id: 'checkin-banner-link' }, t(`checkin.banner.${k.phase}`, { time: formatClock(k.deadline) })));
}

/** The LARM button's line under its label: how to raise it, or why it cannot protect now. */
function panicHint() {
  const p = ctx.protection;
  if (p?.state === 'unprotected') return t('sos.hint_unprotected');
  if (p?.state === 'limited' && p.not_answering) return t('sos.hint_not_answering');
  if (p?.state === 'limited' && p.drill_due) return t('sos.hint_drill_due');
  return t('sos.alarm_hint');
}

function emergencyId() {
  return ctx.profile.contacts.find((c) => c.role === 'emergency')?.id;
}

/** Arrow keys move between tabs (the usual tablist pattern); Enter and Space activate. */
function tabKeys(e) {
  const tabs = [...document.querySelectorAll('[data-tab]')];
  const i = tabs.indexOf(e.currentTarget);
  let next = null;
  if (e.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
  else if (e.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
  else if (e.key === 'Home') next = tabs[0];
  else if (e.key === 'End') next = tabs[tabs.length - 1];
  if (next) {
    e.preventDefault();
    next.focus();
    next.click();
  }
}

/** How well Värn protects now: asked again when the connection, the link or a drill
 * changed; the LARM button and the home view follow. */
export async function refreshProtection() {
  if (ctx.locked) return;
  try {
    const p = await api.protection();
    if (JSON.stringify(p) === JSON.stringify(ctx.protection)) return;
    put({ protection: p });
    drawChrome();
    plan.updateProtection(ctx);
  } catch { /* behind the lock screen: asked again when it opens */ }
}
