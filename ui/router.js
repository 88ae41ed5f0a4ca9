// The router: which view draws a route (by the URL hash: #/plan, #/card/pdv, #/meeting, …),
// which tab it belongs to, and the one place a view is put on screen and taken off it. A view
// may export `mounted(ctx, route, node)` (it is on screen) and `unmount(ctx)` (it is about to
// be replaced: stop its timers); `ctx.onLeave(fn)` runs before the next view replaces it.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { ctx } from './state.js';
import * as plan from './views/plan.js';
import * as card from './views/card.js';
import * as contacts from './views/contacts.js';
import * as reports from './views/reports.js';
import * as meeting from './views/meeting.js';
import * as inventory from './views/inventory.js';
import * as settings from './views/settings.js';
import * as alarmView from './views/alarm.js';
import * as unlock from './views/unlock.js';
import * as lockscreen from './views/lockscreen.js';
import * as incidentView from './views/incident.js';
import * as welcome from './views/welcome.js';

// Which view draws a route, and which tab it belongs to.
const ROUTES = {
  plan: { view: plan, tab: 'plan' },
  card: { view: card, tab: 'plan' },
  contacts: { view: contacts, tab: 'contacts' },
  reports: { view: reports, tab: 'reports' },
  meeting: { view: meeting, tab: 'meeting' },
  inventory: { view: inventory, tab: 'meeting' },
  settings: { view: settings, tab: null },
  alarm: { view: alarmView, tab: null },
  unlock: { view: unlock, tab: null },
  lockscreen: { view: lockscreen, tab: null },
  incident: { view: incidentView, tab: 'reports' },
  welcome: { view: welcome, tab: null },
};

/** The route of the URL now, after what the lock, the lock screen and the guide allow. */
export function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let name = ROUTES[parts[0]] ? parts[0] : 'plan';
  // Locked: the unlock screen, the plan (read-only) and the alarm screen only.
  if (ctx.locked && !['unlock', 'plan', 'card', 'alarm'].includes(name)) name = 'unlock';
  if (!ctx.locked && name === 'unlock') name = 'plan';
  // Behind the lock screen: only the alarm screen, which needs no PIN.
  if (ctx.screenLocked && !['lockscreen', 'alarm'].includes(name)) name = 'lockscreen';
  if (!ctx.screenLocked && name === 'lockscreen') name = 'plan';
  // The first run opens on the guide; the alarm screen always wins.
  if (ctx.firstRun && !ctx.locked && !ctx.screenLocked && !['welcome', 'alarm'].includes(name)) name = 'welcome';
  return { name, params: parts.slice(1), query: new URLSearchParams(query) };
}

let renderSeq = 0;
/** What runs after every view is put on screen (the chrome's banners; app.js sets it, so
 * the router imports nothing above it). */
let afterRender = () => {};

/** Sets what runs after every view is put on screen, with the route drawn. */
export function setAfterRender(fn) {
  afterRender = fn;
}

/** What the view on screen wants done before another replaces it (see ctx.onLeave). */
let leaving = null;
/** The view on screen. */
let shown = null;

/** Goes to `hash` (drawn again if it is already there). */
export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** `fn(nextRoute)` runs (and is awaited) before the next view replaces this one. */
export function onLeave(fn) {
  leaving = fn;
}

/** Draws the route of the URL. */
export async function render() {
  const route = parseRoute();
  if (leaving) {
    const done = leaving;
    leaving = null;
    try { await done(route); } catch { /* leaving never blocks the next view */ }
  }
  if (shown) {
    const going = shown;
    shown = null;
    try { going.unmount?.(ctx); } catch { /* unmounting never blocks the next view */ }
  }
  const { view, tab } = ROUTES[route.name];
  const seq = ++renderSeq;
  let node;
  try {
    node = await view.render(ctx, route);
  } catch (e) {
    node = h('div', { class: 'empty' }, h('p', {}, t('error.view')), h('p', { class: 'detail' }, e?.message ?? String(e)));
  }
  if (seq !== renderSeq) return; // a newer navigation won
  const main = document.getElementById('view');
  document.body.classList.toggle('alarm-mode', route.name === 'alarm');
  document.body.classList.toggle('locked', Boolean(ctx.locked));
  document.body.classList.toggle('screen-locked', ctx.screenLocked);
  replace(main, node);
  shown = view;
  afterRender(route);
  main.scrollTop = 0;
  for (const b of document.querySelectorAll('[data-tab]')) {
    const on = b.dataset.tab === tab;
    b.setAttribute('aria-selected', on ? 'true' : 'false');
    b.tabIndex = on || (!tab && b.dataset.tab === 'plan') ? 0 : -1;
  }
  view.mounted?.(ctx, route, node);
}

/** Draws the view on screen again where it stands (keeping its scroll), if it is still the
 * route `name` and no navigation overtakes it. */
export async function redrawInPlace(name) {
  if (parseRoute().name !== name) return;
  const main = document.getElementById('view');
  const top = main.scrollTop;
  const seq = ++renderSeq;
  const node = await ROUTES[name].view.render(ctx, parseRoute());
  if (seq !== renderSeq || parseRoute().name !== name) return;
  replace(main, node);
  main.scrollTop = top;
}
