// Start-up marks (wall clock) for VARN_STARTUP_TRACE; imports load before this line runs.
const MARKS = [['navigation start', performance.timeOrigin], ['modules loaded', Date.now()]];

// Värn's UI: starts things. It boots from Rust into the state (state.js), gives the views
// their actions, wires the events from Rust to the state, the chrome (chrome.js) and the
// views, and hands the URL to the router (router.js).

import * as api from './api.js';
import { h, replace } from './dom.js';
import { setTables, setLang } from './i18n.js';
import { showError, showNumber, showScript, numberChangedDialog } from './dialog.js';
import * as guard from './guard.js';
import { ctx, giveActions, put, takeAlarm, takeCheckin, takeCheckinPoll } from './state.js';
import { go, onLeave, render, setAfterRender } from './router.js';
import { drawChrome, drawAlarmBanner, drawCheckinBanner, onSync, refreshProtection } from './chrome.js';
import * as reports from './views/reports.js';
import * as alarmView from './views/alarm.js';
import * as checkinView from './views/checkin.js';

// The actions every view may use, beside the state.
giveActions({
  go,
  onLeave,
  error: showError,
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
      takeAlarm(view);
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
      takeAlarm(view);
      ctx.go(`#/alarm/${view.id}`);
    } catch (e) {
      showError(e);
    }
  },
  async setLanguage(lang) {
    const saved = await api.setLanguage(lang);
    setLang(saved);
    localStorage.setItem('varn-lang', saved);
    put({ planLang: saved });
    drawChrome();
    await render();
  },
  /** Redraws the top bar, banner and tabs (after the link or the key changed). */
  redrawChrome() {
    drawChrome();
    refreshProtection();
  },
  refreshProtection,
});

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

// After every view: the chrome's banners for the route drawn.
setAfterRender((route) => {
  drawAlarmBanner(route);
  drawCheckinBanner(route);
});

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
  put({
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
    discretion: info.discretion,
    closedReportsDays: info.closed_reports_days,
    instructions: info.instructions,
    currentPlace: info.current_place,
    callbackNumber: info.callback_number,
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
    put({ connection: state });
    drawChrome();
    refreshProtection();
  });
  api.on('sync', onSync);
  // An appearance is near with its inventory missing, unfinished or advising measures (the
  // shell also notifies): Inför möte, if it is on screen, shows where each one stands now.
  api.on('reminder', () => {
    if (location.hash.startsWith('#/meeting')) render();
  });
  // A newer region profile came from the server (or one was refused): show it.
  api.on('profile', async () => {
    try {
      const again = await api.boot();
      put({ profile: again.profile, profileSource: again.profile_source, profileNotes: again.profile_notes, profileKey: again.profile_key });
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
  giveActions({ afterUnlock: () => {
    if (ctx.locked) return;
    refreshProtection();
    api.syncStatus().then(onSync, () => {});
    const before = ctx.checkin;
    api.activeCheckin().then((k) => { takeCheckinPoll(before, k); checkinView.update(ctx); drawCheckinBanner(); }, () => {});
  } });
  if (!ctx.screenLocked) ctx.afterUnlock();
  api.on('checkin', (view) => {
    takeCheckin(view);
    checkinView.update(ctx);
    drawCheckinBanner();
  });
  api.on('alarm', (view) => {
    // A drill that went the whole way makes the protection whole again.
    if (view.drill && view.phase === 'acknowledged') refreshProtection();
    takeAlarm(view);
    alarmView.update(ctx, view);
    drawAlarmBanner();
  });
  // The global shortcut or the tray raised an alarm: show its screen.
  api.on('alarm-raised', (view) => {
    takeAlarm(view);
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
