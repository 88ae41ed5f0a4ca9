// Start-up marks (wall clock) for VARN_STARTUP_TRACE; imports load before this line runs.
const MARKS = [['navigation start', performance.timeOrigin], ['modules loaded', Date.now()]];

// Värn's UI shell: boots from Rust, draws the top bar, the emergency strip and the tab bar,
// and routes between views by the URL hash (#/plan, #/card/pdv, #/meeting, …).

import * as api from './api.js';
import { h, replace, icon } from './dom.js';
import { t, pick, setTables, setLang, formatClock } from './i18n.js';
import { showError, showNumber, showScript, numberChangedDialog } from './dialog.js';
import * as guard from './guard.js';
import { holdToTrigger } from './panic.js';
import * as plan from './views/plan.js';
import * as card from './views/card.js';
import * as contacts from './views/contacts.js';
import * as reports from './views/reports.js';
import * as meeting from './views/meeting.js';
import * as inventory from './views/inventory.js';
import * as settings from './views/settings.js';
import { keyPending } from './views/settings.js';
import * as alarmView from './views/alarm.js';
import * as unlock from './views/unlock.js';
import * as lockscreen from './views/lockscreen.js';
import * as incidentView from './views/incident.js';
import * as checkinView from './views/checkin.js';
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

/** What every view may use. */
export const ctx = {
  profile: null,
  profileSource: '',
  profileNotes: [],
  /** Where the linked region's profile key stands ({ region, built_in, learned }), or null. */
  profileKey: null,
  /** Nothing set up yet: the first-run guide is shown until finished or skipped. */
  firstRun: false,
  /** How well Värn protects now ({ state, not_answering, drill_due }); null while locked. */
  protection: null,
  connection: 'not_enrolled',
  /** Where sync stands (from the `sync` event); null while locked. */
  sync: null,
  link: null,
  activeAlarm: null,
  alarmShortcut: '',
  closedReportsDays: null,
  instructions: '',
  currentPlace: '',
  suggestedServerUrl: null,
  /** Set while the database is locked: { first_time, reason, fatal }. */
  locked: null,
  /** { pin_set, duress_set, idle_lock_minutes }; null while the database is locked. */
  pin: null,
  /** The lock screen is up ("Dölj" or the idle lock): only the alarm and 112 work. */
  screenLocked: false,
  /** The running check-in (see views/checkin.js), or null. */
  checkin: null,
  version: '',
  /** Plan text language: follows the UI unless the person asks for the Swedish original. */
  planLang: 'sv',
  go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  /** The region's name for the report (e.g. "Avvikelserapport"), or Värn's. */
  reportName() {
    return ctx.profile?.report_name ? pick(ctx.profile.report_name) : t('incident.title');
  },
  contact(id) {
    return ctx.profile?.contacts.find((c) => c.id === id) ?? null;
  },
  /** Calls a contact of the profile: the system's dialer, or the number large if there is
   * none. From an action card (`card`), that card's script for the contact is shown. */
  async call(id, card = null) {
    const c = ctx.contact(id);
    if (!c) return;
    await dialOrShow({ kind: 'profile', id }, c, card);
  },
  /** Calls one of the person's own contacts. */
  async callUser(contact) {
    await dialOrShow({ kind: 'user', id: contact.id }, { name: { sv: contact.name, en: contact.name }, number: contact.number });
  },
  /** Raises the alarm (after the button was held) and opens the alarm screen. */
  async raiseAlarm() {
    try {
      const view = await api.raiseAlarm();
      ctx.activeAlarm = view;
      ctx.go(`#/alarm/${view.id}`);
    } catch (e) {
      // Not even stored: the alarm screen says so and offers 112.
      ctx.go('#/alarm/failed');
    }
  },
  /** Sends a drill and opens its alarm screen (marked TEST). */
  async raiseDrill() {
    try {
      const view = await api.raiseDrill();
      ctx.activeAlarm = view;
      ctx.go(`#/alarm/${view.id}`);
    } catch (e) {
      showError(e);
    }
  },
  async setLanguage(lang) {
    const saved = await api.setLanguage(lang);
    setLang(saved);
    localStorage.setItem('varn-lang', saved);
    ctx.planLang = saved;
    drawChrome();
    await render();
  },
  error: showError,
  /** `fn(nextRoute)` runs (and is awaited) before the next view replaces this one. */
  onLeave(fn) {
    leaving = fn;
  },
  /** Redraws the top bar, banner and tabs (after the link or the key changed). */
  redrawChrome() {
    drawChrome();
    ctx.refreshProtection();
  },
  /** How well Värn protects now: asked again when the connection, the link or a drill
   * changed; the LARM button and the home view follow. */
  async refreshProtection() {
    if (ctx.locked) return;
    try {
      const p = await api.protection();
      if (JSON.stringify(p) === JSON.stringify(ctx.protection)) return;
      ctx.protection = p;
      drawChrome();
      plan.updateProtection(ctx);
    } catch { /* behind the lock screen: asked again when it opens */ }
  },
};

async function dialOrShow(target, contact, card = null) {
  let called = { outcome: 'no_dialer', script: [] };
  try {
    called = await api.dial(target, card);
    // The region changed this number: shown once, then called if the person wants to.
    if (called.notice) {
      if (!(await numberChangedDialog(contact, called.notice))) return;
      called = await api.dial(target, card, true);
    }
  } catch {
    called = { outcome: 'dial_failed', script: [] };
  }
  if (called.outcome !== 'dialed') showNumber(contact, { reason: called.outcome, script: called.script });
  else if (called.script.length) showScript(contact, called.script);
}

function parseRoute() {
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
/** What the view on screen wants done before another replaces it (see ctx.onLeave). */
let leaving = null;

async function render() {
  const route = parseRoute();
  if (leaving) {
    const done = leaving;
    leaving = null;
    try { await done(route); } catch { /* leaving never blocks the next view */ }
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
  drawAlarmBanner(route);
  drawCheckinBanner(route);
  main.scrollTop = 0;
  for (const b of document.querySelectorAll('[data-tab]')) {
    const on = b.dataset.tab === tab;
    b.setAttribute('aria-selected', on ? 'true' : 'false');
    b.tabIndex = on || (!tab && b.dataset.tab === 'plan') ? 0 : -1;
  }
  view.mounted?.(ctx, route, node);
}

function connectionLabel() {
  return t(`conn.${ctx.connection}`);
}

/** The parts that stay on screen: top bar, banner, emergency strip, tab bar. */
function drawChrome() {
  document.title = t('app.name');
  replace(document.getElementById('app-title'), t('app.name'));
  const conn = document.getElementById('conn');
  conn.dataset.state = ctx.connection;
  conn.title = t('conn.open');
  replace(conn, h('span', { class: 'dot', 'aria-hidden': 'true' }), connectionLabel());
  const gear = document.getElementById('settings-btn');
  gear.setAttribute('aria-label', t('settings.title'));
  gear.title = t('settings.title');
  const hide = document.getElementById('hide-btn');
  replace(hide, t('hide.button'));
  hide.title = t('hide.title');

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
    holdToTrigger(panic, () => ctx.raiseAlarm(), { hint, restHint: panicHint, startedAt: window.varnEarlyPress || 0 });
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
function drawSyncBadge() {
  const tab = document.getElementById('tab-reports');
  if (!tab) return;
  tab.querySelector('.tab-badge')?.remove();
  const n = ctx.sync?.counts.reports ?? 0;
  if (n > 0) {
    tab.append(h('span', { class: 'tab-badge', id: 'sync-badge', 'aria-label': t('sync.badge', { n }) }, String(n)));
  }
}

/** Sync changed: the badge now, the reports views once things settle (not on every chunk). */
let syncRedraw = null;
function onSync(view) {
  const before = ctx.sync;
  ctx.sync = view;
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
  syncRedraw = setTimeout(async () => {
    if (parseRoute().name !== 'reports') return;
    // Redrawn in place: the list keeps its scroll position.
    const main = document.getElementById('view');
    const top = main.scrollTop;
    const seq = ++renderSeq;
    const node = await reports.render(ctx, parseRoute());
    if (seq !== renderSeq || parseRoute().name !== 'reports') return;
    replace(main, node);
    main.scrollTop = top;
  }, 150);
}

/** A bar on every other view while an alarm still needs attention. */
function drawAlarmBanner(route = parseRoute()) {
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
function drawCheckinBanner(route = parseRoute()) {
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

async function start() {
  let info;
  try {
    MARKS.push(['boot sent', Date.now()]);
    info = await api.boot();
    MARKS.push(['boot answered', Date.now()]);
  } catch (e) {
    replace(document.getElementById('view'),
      h('div', { class: 'empty' }, h('p', {}, 'Värn kunde inte starta / Värn could not start'), h('p', { class: 'detail' }, e.message)));
    return;
  }
  setTables(info.strings);
  setLang(info.lang);
  // For the next start's first paint (ui/shell.js).
  localStorage.setItem('varn-lang', info.lang);
  Object.assign(ctx, {
    profile: info.profile,
    profileSource: info.profile_source,
    profileNotes: info.profile_notes,
    connection: info.connection,
    link: info.link,
    profileKey: info.profile_key,
    protection: info.protection,
    firstRun: info.first_run,
    activeAlarm: info.active_alarm,
    alarmShortcut: info.alarm_shortcut,
    closedReportsDays: info.closed_reports_days,
    instructions: info.instructions,
    currentPlace: info.current_place,
    suggestedServerUrl: info.suggested_server_url,
    locked: info.locked,
    pin: info.pin,
    screenLocked: info.screen_locked,
    version: info.version,
    planLang: info.lang,
  });
  document.getElementById('settings-btn').addEventListener('click', () => ctx.go('#/settings'));
  // The connection pill says where things stand; a tap goes where they are changed.
  document.getElementById('conn').addEventListener('click', () => ctx.go('#/settings'));
  document.getElementById('hide-btn').addEventListener('click', () => guard.hide());
  guard.setup(ctx);
  api.on('connection', (state) => {
    ctx.connection = state;
    drawChrome();
    ctx.refreshProtection();
  });
  api.on('sync', onSync);
  // A newer region profile came from the server (or one was refused): show it.
  api.on('profile', async () => {
    try {
      const again = await api.boot();
      Object.assign(ctx, { profile: again.profile, profileSource: again.profile_source, profileNotes: again.profile_notes, profileKey: again.profile_key });
      drawChrome();
      render();
    } catch { /* the old profile stays */ }
  });
  // The region took, answered or closed a report: the list and the report show it.
  // An open report keeps what is being typed: only its follow-up line is replaced.
  api.on('report-followup', async (id) => {
    if (location.hash.startsWith('#/reports')) render();
    const line = document.getElementById('incident-followup');
    const editor = document.getElementById('incident-editor');
    if (editor?.dataset.incident === id) {
      try {
        const fresh = reports.followupLine(await api.incident(id), true);
        if (line && fresh) line.replaceWith(fresh);
        else if (fresh) editor.querySelector('#incident-status')?.closest('p')?.after(fresh);
      } catch { /* shown at the next visit */ }
    }
  });
  // The system says the network is back: send the queue now instead of waiting.
  window.addEventListener('online', () => { api.syncNow().then(onSync, () => {}); });
  // Behind the lock screen these are refused; they are asked for again once it opens.
  ctx.afterUnlock = () => {
    if (ctx.locked) return;
    ctx.refreshProtection();
    api.syncStatus().then(onSync, () => {});
    api.activeCheckin().then((k) => { ctx.checkin = k; checkinView.update(ctx); drawCheckinBanner(); }, () => {});
  };
  if (!ctx.screenLocked) ctx.afterUnlock();
  api.on('checkin', (view) => {
    const finished = view.phase === 'done' || view.phase === 'checking_out';
    if (finished) {
      if (ctx.checkin?.id === view.id) ctx.checkin = null;
    } else if (!ctx.checkin || ctx.checkin.id !== view.id || view.revision >= ctx.checkin.revision) {
      ctx.checkin = view;
    }
    checkinView.update(ctx);
    drawCheckinBanner();
  });
  api.on('alarm', (view) => {
    // A drill that went the whole way makes the protection whole again.
    if (view.drill && view.phase === 'acknowledged') ctx.refreshProtection();
    const current = ctx.activeAlarm;
    const newer = !current || (current.id === view.id ? view.revision >= current.revision : view.triggered_at >= current.triggered_at);
    if (newer) ctx.activeAlarm = view;
    alarmView.update(ctx, view);
    drawAlarmBanner();
  });
  // The global shortcut or the tray raised an alarm: show its screen.
  api.on('alarm-raised', (view) => {
    ctx.activeAlarm = view;
    ctx.go(`#/alarm/${view.id}`);
  });
  drawChrome();
  if (ctx.locked && !location.hash.startsWith('#/unlock')) location.replace('#/unlock');
  window.addEventListener('hashchange', render);
  await render();
  MARKS.push(['first view rendered', Date.now()]);
  // Two frames: the first view has been laid out and painted.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    MARKS.push(['painted', Date.now()]);
    api.uiReady(MARKS).catch(() => {});
  }));
}


start();
