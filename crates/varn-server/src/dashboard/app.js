// The officers' dashboard: log in, watch alarms live (SSE), acknowledge, read reports.
// DOM is built with createElement; data never goes in as HTML.

import { STRINGS } from '/dashboard/strings.js';
import { drawCheckins as checkinsInto, drawDevices as devicesInto } from '/dashboard/people.js';
import { drawSignIn, providerError } from '/dashboard/signin.js';

let lang = localStorage.getItem('varn-lang') === 'en' ? 'en' : 'sv';
const t = (k, vars = {}) => (STRINGS[lang][k] ?? k).replace(/\{(\w+)\}/g, (m, n) => vars[n] ?? m);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const time = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'sv-SE') : '');

async function api(path, opts = {}) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { 'content-type': 'application/json' }, ...opts });
  if (res.status === 401) throw Object.assign(new Error('unauthorised'), { status: 401 });
  if (!res.ok) {
    const p = await res.json().catch(() => ({}));
    const retryAfter = Number(res.headers.get('retry-after')) || 0;
    throw Object.assign(new Error(p.detail || res.statusText), { status: res.status, type: p.type, retryAfter });
  }
  return res.status === 204 ? null : res.json();
}

const main = document.getElementById('main');
const alarms = new Map();
/** Alarms read whole (their silent conversation and the person's instructions), by id. The
 * list and the live feed leave those out; each read of one is in the audit log. */
const details = new Map();
const fetching = new Set();

/** The list's shape of a whole alarm (as the server's list gives it). */
function listedFrom(full) {
  const { messages = [], instructions = '', ...rest } = full;
  return { ...rest, messages_count: messages.length, messages_from_person: messages.filter((m) => m.from === 'person').length, has_instructions: Boolean(instructions) };
}

/** Keeps an alarm read whole, and its list entry. */
function keepWhole(full) {
  const old = details.get(full.id);
  if (!old || old.version <= full.version) details.set(full.id, full);
  return upsert(listedFrom(full));
}

/** The alarm whole as far as it has been read; reads it (once at a time) when it is missing or
 * older than the list's entry. */
function whole(a) {
  const d = details.get(a.id);
  if ((!d || d.version < a.version) && !fetching.has(a.id)) {
    fetching.add(a.id);
    api(`/dashboard/api/alarms/${a.id}`)
      .then((full) => { keepWhole(full); drawAlarms(); })
      .catch((e) => { if (e.status === 401) loginForm(t('sessionEnded')); })
      .finally(() => fetching.delete(a.id));
  }
  return d;
}
// Sound is on unless the officer turned it off; where the browser holds it back until a click,
// a banner says so until it is on.
let sound = localStorage.getItem('varn-sound') !== 'off';
let audio = null;

/** Creates or wakes the audio (allowed during a click, or where the browser allows it anyway). */
function ensureAudio() {
  try {
    if (!audio) {
      audio = new AudioContext();
      audio.onstatechange = () => chrome(true);
    }
    audio.resume().catch(() => {});
  } catch { /* no audio: the banner stays */ }
}

/** True when an alarm would be heard now. */
function audible() {
  return sound && audio?.state === 'running';
}
let source = null;
/** The page's timers, stopped on logout so a second login does not double them. */
let timers = [];
function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
}
/** Images up to this size can be shown in the page, on request (larger ones download). */
const MAX_INLINE_BYTES = 8 * 1024 * 1024;

function beep() {
  if (!sound) return;
  ensureAudio();
  const o = audio.createOscillator();
  const g = audio.createGain();
  o.frequency.value = 880;
  g.gain.value = 0.2;
  o.connect(g).connect(audio.destination);
  o.start();
  o.stop(audio.currentTime + 0.6);
}

function chrome(loggedIn) {
  document.documentElement.lang = lang;
  document.getElementById('title-sub').textContent = t('sub');
  const langBtn = document.getElementById('lang');
  langBtn.textContent = t('lang');
  langBtn.onclick = () => { lang = lang === 'sv' ? 'en' : 'sv'; localStorage.setItem('varn-lang', lang); start(); };
  const soundBtn = document.getElementById('sound');
  soundBtn.hidden = !loggedIn;
  soundBtn.textContent = sound ? t('soundTurnOff') : t('soundOff');
  soundBtn.setAttribute('aria-pressed', sound ? 'true' : 'false');
  const setSound = (on) => {
    sound = on;
    localStorage.setItem('varn-sound', on ? 'on' : 'off');
    if (on) ensureAudio();
    chrome(true);
  };
  soundBtn.onclick = () => setSound(!sound);
  // Silent is never quiet about itself: a banner until alarms can be heard.
  const banner = document.getElementById('sound-banner');
  banner.hidden = !loggedIn || audible();
  if (!banner.hidden) {
    banner.replaceChildren(
      h('span', {}, sound ? t('soundBlocked') : t('soundMuted')),
      h('button', { type: 'button', id: 'sound-enable', class: 'primary', onclick: () => setSound(true) }, t('soundOff')));
  }
  const out = document.getElementById('logout');
  out.hidden = !loggedIn;
  out.textContent = t('logout');
  out.onclick = async () => { await api('/dashboard/api/logout', { method: 'POST' }).catch(() => {}); source?.close(); stopTimers(); start(); };
}

function loginForm(error, username = '') {
  chrome(false);
  const submit = async (body, status, name) => {
    // The click that logs in also lets the page make sound.
    if (sound) ensureAudio();
    // Others' wrong passwords slow a username down for a few seconds, and a busy server asks
    // for a moment: the page waits and tries again by itself, saying so.
    for (let tries = 0; ; tries++) {
      try {
        await api('/dashboard/api/login', { method: 'POST', body });
        start();
        return;
      } catch (err) {
        const wait = err.retryAfter;
        const slowed = (err.status === 429 || err.status === 503) && wait > 0 && wait <= 10;
        if (slowed && tries < 6) {
          status.textContent = t('loginWait', { n: wait });
          await new Promise((r) => setTimeout(r, wait * 1000));
          continue;
        }
        const message = err.status === 401 ? t(document.getElementById('code') ? 'badLoginCode' : 'badLogin')
          : err.status === 403 ? t('localOff')
          : err.status === 429 ? t('loginRefused', { n: Math.max(1, Math.ceil(wait / 60)) })
          : err.message;
        loginForm(message, name);
        return;
      }
    }
  };
  drawSignIn(main, { h, t, api }, { error, fromProvider: error ? null : providerError(t), username, submit });
}

/** How long an alarm took to reach the server, when the person has been told to call 112
 * meanwhile (`late_seconds`, the server's rule). */
function took(seconds) {
  return seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min`;
}

/** Whether the region has an alarm centre: the dashboard claims none that is not there. */
let centreConfigured = null;

function eventLine(e) {
  return h('li', { 'data-kind': e.kind }, `${time(e.at)} – ${t(`k_${e.kind}`)}${e.actor && e.actor !== 'server' ? ` – ${e.actor}` : ''}${e.detail ? `: ${e.detail}` : ''}`);
}

async function showTimeline(a, tl) {
  const events = await api(`/dashboard/api/alarms/${a.id}/timeline`).catch(() => []);
  const text = h('textarea', { class: 'note-text', maxlength: 2000, rows: 2, 'aria-label': t('note') });
  const add = h('button', { type: 'button', class: 'add-note', onclick: async () => {
    if (!text.value.trim()) return;
    try {
      await api(`/dashboard/api/alarms/${a.id}/notes`, { method: 'POST', body: JSON.stringify({ text: text.value }) });
      showTimeline(a, tl);
    } catch (e) {
      if (e.status === 401) loginForm();
    }
  } }, t('addNote'));
  tl.replaceChildren(h('ol', {}, events.map(eventLine)),
    h('div', { class: 'note-form' }, text, add),
    h('a', { href: `/dashboard/api/alarms/${a.id}/timeline.txt`, download: `varn-larm-${a.id}.txt`, class: 'export' }, t('exportText')));
}

/** What an officer has typed to each alarm's person, kept across the list's redraws. */
const drafts = new Map();

/** The silent conversation with the person: the messages, quick texts and a field. */
function conversation(a, full) {
  const over = a.status === 'cancelled';
  const messages = full?.messages ?? [];
  const list = h('ol', { class: 'messages', id: `messages-${a.id}` }, messages.map((m) => h('li', {
    class: `message from-${m.from}`, 'data-from': m.from,
  }, h('span', { class: 'msg-meta' }, `${m.from === 'officer' ? m.author : a.who} · ${time(m.at)}`), h('span', { class: 'msg-text' }, m.text))));
  if (over) return h('section', { class: 'conversation' }, h('h4', {}, t('msgTitle')), list, h('p', { class: 'meta' }, t('msgOver')));
  const field = h('textarea', { class: 'msg-field', id: `msg-field-${a.id}`, maxlength: 1000, rows: 2, placeholder: t('msgPlaceholder'), 'aria-label': t('msgPlaceholder') }, drafts.get(a.id) ?? '');
  field.addEventListener('input', () => drafts.set(a.id, field.value));
  const status = h('p', { class: 'msg-status', role: 'status' });
  const send = async (text) => {
    if (!text.trim()) return;
    try {
      keepWhole(await api(`/dashboard/api/alarms/${a.id}/messages`, { method: 'POST', body: JSON.stringify({ id: crypto.randomUUID(), text }) }));
      drafts.delete(a.id);
      drawAlarms();
      document.getElementById(`msg-field-${a.id}`)?.focus();
    } catch (e) {
      if (e.status === 401) loginForm(t('sessionEnded'));
      else status.replaceChildren(h('span', { class: 'error' }, e.message));
    }
  };
  const quick = (vocabulary?.quick_to_person ?? []).map((q) => h('button', {
    type: 'button', class: 'quick', 'data-quick': q.key, onclick: () => send(lang === 'en' ? q.en : q.sv),
  }, lang === 'en' ? q.en : q.sv));
  return h('section', { class: 'conversation' },
    h('h4', {}, t('msgTitle')),
    a.duress_at ? h('p', { class: 'meta duress-note' }, t('msgDuress')) : null,
    messages.length ? list : h('p', { class: 'meta' }, full ? t('msgNone') : t('loading')),
    h('div', { class: 'quick-row' }, quick),
    h('div', { class: 'note-form' }, field, h('button', { type: 'button', class: 'msg-send', id: `msg-send-${a.id}`, onclick: () => send(field.value) }, t('msgSend'))),
    status);
}

function alarmItem(a) {
  // A live alarm is read whole at once; a finished one when the officer asks.
  const live = a.status !== 'cancelled';
  const full = live || details.has(a.id) ? whole(a) : undefined;
  const instructions = full?.instructions;
  const badge = { open: t('open'), acknowledged: t('statusAcknowledged'), cancelled: t('statusCancelled') }[a.status];
  const tl = h('div', { class: 'timeline', hidden: true });
  const escalated = a.status === 'open' && a.escalation_step > 0;
  const duress = Boolean(a.duress_at);
  const classes = ['alarm', a.status, a.drill ? 'drill' : '', escalated ? 'escalated' : '', duress ? 'duress' : ''].filter(Boolean).join(' ');
  return h('li', { class: classes, id: `alarm-${a.id}`, 'data-status': a.status, 'data-drill': a.drill ? 'true' : 'false', 'data-duress': duress ? 'true' : 'false' },
    h('div', { class: 'who' },
      duress ? h('span', { class: 'badge duress' }, t('duress')) : null,
      a.drill ? h('span', { class: 'badge drill' }, t('drill')) : null,
      h('span', { class: `badge ${a.status}` }, badge), a.who),
    duress ? h('div', { class: 'meta duress-note', role: 'alert' }, t('duressNote', { time: time(a.duress_at) })) : null,
    a.drill ? h('div', { class: 'meta drill-note' }, t('drillNote')) : null,
    escalated ? h('div', { class: 'meta escalation', role: 'alert' },
      t('escalated', { n: a.escalation_step, who: a.escalated_to.length ? a.escalated_to.join(', ') : t('everyone') }),
      centreConfigured === false ? [' ', t('noCentre')] : null) : null,
    h('div', { class: 'meta' }, t('triggered', { time: time(a.triggered_at) }), ' · ', t('received', { time: time(a.received_at) }),
      a.late_seconds != null ? h('span', { class: 'badge late', 'data-late': a.late_seconds, title: t('lateTitle', { took: took(a.late_seconds) }) },
        t('late', { took: took(a.late_seconds) })) : null),
    h('div', { class: 'meta' },
      a.meeting ? [h('strong', {}, t('meeting'), ': '), a.meeting, ' '] : null,
      a.place ? [h('strong', {}, t('place'), ': '), a.place, ' '] : null,
      a.message ? [h('strong', {}, t('message'), ': '), a.message] : null),
    instructions ? h('div', { class: 'meta instructions', role: 'note' }, h('strong', {}, t('instructions'), ': '), instructions) : null,
    a.centre_refused_at ? h('div', { class: 'meta centre-refused', role: 'alert' }, t('centreRefused'))
      : a.centre_received_at ? h('div', { class: 'meta centre-ok' }, t('centreOk', { time: time(a.centre_received_at) })) : null,
    a.status === 'acknowledged' ? h('div', { class: 'meta' }, t('acked', { who: a.acknowledged_by, time: time(a.acknowledged_at) })) : null,
    a.status === 'cancelled' ? h('div', { class: 'meta' }, t('cancelled', { time: time(a.cancelled_at) }), a.cancel_reason ? ` – ${a.cancel_reason}` : '') : null,
    h('div', { class: 'actions' },
      a.status === 'open' ? h('button', { type: 'button', class: 'ack', 'data-ack': a.id, onclick: () => acknowledge(a.id) }, t('ack')) : null,
      h('button', { type: 'button', class: 'show-timeline', onclick: () => {
        tl.hidden = !tl.hidden;
        if (!tl.hidden) showTimeline(a, tl);
      } }, t('timeline'))),
    // The conversation while the alarm is live, and kept after it ends (read on request).
    live || full ? conversation(a, full) : null,
    !live && !full && (a.messages_count || a.has_instructions)
      ? h('button', { type: 'button', class: 'show-whole', onclick: () => whole(a) }, t('showWhole', { n: a.messages_count })) : null,
    tl);
}

/** Highest priority first: under duress (not cancelled), then open, then newest. */
function rank(a) {
  return (a.duress_at && a.status !== 'cancelled' ? 2 : 0) + (a.status === 'open' ? 1 : 0);
}

const reportedShown = new Set();

/** Tells the server once per alarm that this officer's screen shows it (the timeline's
 * "shown on a dashboard"): the alarms still waiting for someone, not the whole history. */
function reportShown(list) {
  for (const a of list.filter((x) => x.status === 'open' || (x.duress_at && x.status !== 'cancelled'))) {
    if (reportedShown.has(a.id)) continue;
    reportedShown.add(a.id);
    api(`/dashboard/api/alarms/${a.id}/shown`, { method: 'POST', body: '{}' }).catch(() => reportedShown.delete(a.id));
  }
}

function drawAlarms() {
  const list = document.getElementById('alarm-list');
  if (!list) return;
  // The field being typed in keeps its focus and caret across the redraw.
  const active = document.activeElement?.id?.startsWith('msg-field-') ? document.activeElement : null;
  const caret = active ? [active.id, active.selectionStart, active.selectionEnd] : null;
  // Open alarms first, then newest first.
  const sorted = [...alarms.values()]
    .sort((a, b) => rank(b) - rank(a) || b.received_at.localeCompare(a.received_at));
  list.replaceChildren(...(sorted.length ? sorted.map(alarmItem) : [h('li', { class: 'empty' }, t('none'))]));
  if (caret) {
    const again = document.getElementById(caret[0]);
    again?.focus();
    again?.setSelectionRange(caret[1], caret[2]);
  }
  reportShown(sorted);
  // Drills prove the chain works; they are never counted as alarms.
  const since = Date.now() - 30 * 24 * 3600 * 1000;
  const recent = sorted.filter((a) => Date.parse(a.received_at) >= since);
  const drills = recent.filter((a) => a.drill).length;
  document.getElementById('alarm-stats')?.replaceChildren(t('stats', { real: recent.length - drills, drills }));
}

/** Keeps the newest version; true when it should sound: a new real alarm, one that
 * nobody acknowledged in time (escalated again), or a cancel under duress. Drills never sound. */
function upsert(a) {
  const old = alarms.get(a.id);
  if (old && old.version >= a.version) return false;
  alarms.set(a.id, a);
  // The person wrote: heard at once, a drill's too (someone may be hiding).
  const fromPerson = (x) => x?.messages_from_person ?? 0;
  if (old && fromPerson(a) > fromPerson(old)) return true;
  if (a.drill) return false;
  if (a.duress_at && !old?.duress_at) return true;
  if (a.status !== 'open') return false;
  return !old || a.escalation_step > old.escalation_step;
}

async function acknowledge(id) {
  try {
    keepWhole(await api(`/dashboard/api/alarms/${id}/ack`, { method: 'POST', body: '{}' }));
    drawAlarms();
  } catch (e) {
    if (e.status === 401) loginForm();
  }
}

function listen() {
  source?.close();
  source = new EventSource('/dashboard/api/events');
  const live = document.getElementById('live');
  source.addEventListener('open', () => { live.textContent = t('live'); live.className = 'live'; });
  source.addEventListener('error', () => { live.textContent = t('down'); live.className = 'live down'; });
  source.addEventListener('snapshot', (e) => {
    alarms.clear();
    for (const a of JSON.parse(e.data)) alarms.set(a.id, a);
    drawAlarms();
  });
  source.addEventListener('alarm', (e) => {
    if (upsert(JSON.parse(e.data))) beep();
    drawAlarms();
  });
  // The session ended (logout elsewhere, disabled, expired): nothing more flows.
  source.addEventListener('ended', () => {
    source.close();
    stopTimers();
    alarms.clear();
    loginForm(t('sessionEnded'));
  });
  source.addEventListener('resync', async () => {
    for (const a of await api('/dashboard/api/alarms').catch(() => [])) upsert(a);
    drawAlarms();
  });
}

function field(name, value) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return null;
  const shown = typeof value === 'boolean' ? t(value ? 'yes' : 'no') : /_at$/.test(name) ? time(value) : String(value);
  return [h('dt', {}, t(`f_${name}`)), h('dd', {}, shown)];
}

/** The follow-up lists with their labels (from the server, as the app and exports name them). */
let vocabulary = null;
async function words() {
  vocabulary ??= await api('/dashboard/api/vocabulary');
  return vocabulary;
}

/** A value of a follow-up list by its label; a list of them joined. */
function word(list, key) {
  const w = vocabulary?.[list]?.find((x) => x.key === key);
  return w ? (lang === 'en' ? w.en : w.sv) : key;
}

const LISTS = { event: 'event', channel: 'channel', perpetrator: 'perpetrator', not_reported_reason: 'not_reported_reason' };

function reportField(name, value) {
  if (name in LISTS && value) return field(name, word(LISTS[name], value));
  if (name === 'consequences' && Array.isArray(value)) return field(name, value.map((c) => word('consequence', c)).join('; '));
  return field(name, value);
}

function followupBadge(f) {
  return h('span', { class: `badge fu-${f.state}`, 'data-followup': f.state }, t(`fu_${f.state}`));
}

/** The report opened: recorded in the audit log by the server before it answers. */
async function openReport(r, box) {
  let full;
  try {
    full = await api(`/dashboard/api/reports/${r.id}`);
  } catch (e) {
    if (e.status === 401) { loginForm(t('sessionEnded')); return; }
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
    return;
  }
  await words().catch(() => null);
  const b = full.body;
  const f = full.followup;
  const message = h('textarea', { id: `fu-message-${r.id}`, class: 'note-text', maxlength: 1000, rows: 2 }, f.message || '');
  const note = h('textarea', { id: `fu-note-${r.id}`, class: 'note-text', maxlength: 2000, rows: 2 });
  const status = h('p', { class: 'fu-status', role: 'status' });
  const change = async (state, extra = {}) => {
    try {
      await api(`/dashboard/api/reports/${r.id}/followup`, { method: 'POST', body: JSON.stringify({ state, ...extra }) });
      await drawReports(true);
    } catch (e) {
      if (e.status === 401) loginForm(t('sessionEnded'));
      else status.replaceChildren(h('span', { class: 'error' }, e.message));
    }
  };
  const audit = await api(`/dashboard/api/audit/${r.id}`).catch(() => []);
  box.replaceChildren(...[
    h('dl', {}, ['event', 'channel', 'kind', 'started_at', 'ended_at', 'place', 'involved', 'before', 'during', 'actions', 'witnesses',
      'sexual', 'repeated', 'perpetrator', 'consequences',
      'police_reported', 'not_reported_reason', 'police_report_number', 'reported_to_region'].flatMap((k) => reportField(k, b[k]) ?? [])),
    full.attachments.length ? h('div', {}, h('strong', {}, t('attachments')), h('ul', {}, full.attachments.map((a) => h('li', {},
      a.complete_at ? h('a', { href: `/dashboard/api/attachments/${a.id}`, download: a.filename }, a.filename) : `${a.filename} (${t('incomplete')})`,
      ` · ${a.size} B · SHA-256 ${a.sha256.slice(0, 16)}…`,
      a.complete_at && a.content_type.startsWith('image/') && a.size <= MAX_INLINE_BYTES ? imageButton(a) : null)))) : null,
    h('section', { class: 'followup', id: `followup-${r.id}` },
      h('p', {}, followupBadge(f), f.by ? ` ${f.by} · ${time(f.at)}` : ''),
      h('label', { for: message.id }, t('fuMessage')), message,
      h('div', { class: 'actions-row' },
        f.state === 'new'
          ? h('button', { type: 'button', class: 'primary', id: `fu-take-${r.id}`, onclick: () => change('taken', { message: message.value }) }, t('take'))
          : h('button', { type: 'button', id: `fu-send-${r.id}`, onclick: () => change(f.state === 'closed' ? 'closed' : 'taken', { message: message.value }) }, t('fuSend')),
        f.state === 'closed'
          ? h('button', { type: 'button', id: `fu-reopen-${r.id}`, onclick: () => change('taken') }, t('reopen'))
          : null),
      f.state !== 'closed' ? [h('label', { for: note.id }, t('fuNote')), note,
        h('div', { class: 'actions-row' }, h('button', { type: 'button', id: `fu-close-${r.id}`, onclick: () => change('closed', { note: note.value, message: message.value }) }, t('close')))] : null,
      status),
    h('h4', {}, t('reportTimeline')),
    h('ol', { class: 'report-timeline' }, full.timeline.map((e) => h('li', { 'data-kind': e.kind },
      `${time(e.at)} – ${t(`r_${e.kind}`)}${e.actor ? ` – ${e.actor}` : ''}${e.detail && e.kind !== 'received' && e.kind !== 'revised' ? `: ${e.detail}` : ''}`))),
    h('h4', {}, t('auditTitle')),
    audit.length ? h('ol', { class: 'audit', id: `audit-${r.id}` }, audit.map((e) => h('li', {}, `${time(e.at)} – ${e.officer} ${t(`a_${e.action}`)}`)))
      : h('p', { class: 'empty' }, t('noAudit'))].filter(Boolean));
}

/** The list of reports; the periodic redraw leaves it alone while a report is open (an
 * officer may be writing in it), a change redraws it (`force`). */
async function drawReports(force = false) {
  const list = document.getElementById('report-list');
  if (!list) return;
  if (!force && list.querySelector('details[open]')) return;
  const reports = await api('/dashboard/api/reports').catch(() => null);
  if (!reports) return;
  await words().catch(() => null);
  // An open report stays open when the list is redrawn.
  const opened = new Set([...list.querySelectorAll('details[open]')].map((d) => d.dataset.report));
  list.replaceChildren(...(reports.length ? reports.map((r) => {
    const box = h('div', { class: 'report-body' });
    const details = h('details', { 'data-report': r.id, open: opened.has(r.id) },
      h('summary', {}, followupBadge(r.followup), `${r.who} – ${time(r.started_at || r.first_received_at)}`,
        r.event ? ` · ${word('event', r.event)}` : '', ` (${t('revision', { n: r.revision })})`),
      box);
    details.addEventListener('toggle', () => { if (details.open) openReport(r, box); });
    if (opened.has(r.id)) openReport(r, box);
    return h('li', { class: 'report', id: `report-${r.id}`, 'data-followup': r.followup.state }, details);
  }) : [h('li', { class: 'empty' }, t('noReports'))]));
}

/** A region with an alarm centre sees when the link to it does not answer. */
async function drawCentre() {
  const banner = document.getElementById('centre-banner');
  if (!banner) return;
  const status = await api('/dashboard/api/centre').catch(() => null);
  if (status && status.configured !== centreConfigured) {
    centreConfigured = status.configured;
    drawAlarms();
  }
  banner.hidden = !status?.down_since;
  if (!banner.hidden) banner.replaceChildren(t('centreDown', { time: time(status.down_since) }));
  // Each receiver, where the centre has more than one or one does not answer.
  const list = document.getElementById('centre-receivers');
  const receivers = status?.receivers ?? [];
  if (!list) return;
  list.hidden = !(receivers.length > 1 || receivers.some((r) => r.up === false));
  list.replaceChildren(h('li', { class: 'title' }, t('receivers'), ':'), ...receivers.map((r) => {
    const word = r.up === false ? 'receiverDown' : r.up ? 'receiverUp' : 'receiverUnknown';
    return h('li', { class: `receiver ${r.up === false ? 'down' : ''}`, 'data-receiver': r.name, 'data-up': String(r.up), 'data-active': String(r.active) },
      h('strong', {}, r.name), ' – ', t(word, { time: time(r.since) }), r.active ? ` · ${t('receiverActive')}` : '');
  }));
}

async function drawStats() {
  const root = document.getElementById('statistics');
  if (!root) return;
  try {
    const { drawStatistics } = await import('/dashboard/stats.js');
    await drawStatistics(root, { h, t, api, lang }, await words());
  } catch (e) {
    if (e.status === 401) loginForm(t('sessionEnded'));
    else root.replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

/** Images are loaded only when asked for: a list of 200 reports does not fetch every picture. */
function imageButton(a) {
  const button = h('button', { type: 'button', class: 'show-image', 'data-attachment': a.id }, t('showImage'));
  button.addEventListener('click', () => {
    button.replaceWith(h('img', { src: `/dashboard/api/attachments/${a.id}`, alt: a.filename }));
  });
  return button;
}

const ui = () => ({ h, t, api, time });
const drawDevices = () => devicesInto(ui());
const drawCheckins = () => checkinsInto(ui());

async function start() {
  let me;
  try {
    me = await api('/dashboard/api/me');
  } catch {
    source?.close();
    loginForm();
    return;
  }
  if (sound) ensureAudio();
  chrome(true);
  // A läsare reads; what only a handläggare may do is not shown (the server refuses it too).
  document.body.dataset.mayAct = String(me.may_act !== false);
  main.replaceChildren(
    h('p', {}, me.display_name, ' · ', me.region_name ?? me.region_id, ' · ', h('span', { id: 'role' }, t(`role_${me.role}`))),
    ...(me.may_act === false ? [h('p', { class: 'meta', id: 'reader-note' }, t('readerNote'))] : []),
    h('p', { class: 'centre-banner', id: 'centre-banner', role: 'alert', hidden: true }),
    h('ul', { class: 'centre-receivers', id: 'centre-receivers', 'aria-label': t('receivers'), hidden: true }),
    h('h2', {}, t('alarms')), h('p', { class: 'stats', id: 'alarm-stats' }), h('ul', { class: 'alarms', id: 'alarm-list' }),
    h('h2', {}, t('checkins')), h('ul', { class: 'checkins', id: 'checkin-list' }),
    h('h2', {}, t('reports')), h('ul', { class: 'reports', id: 'report-list' }),
    h('h2', {}, t('statistics')), h('div', { class: 'statistics', id: 'statistics' }),
    h('h2', {}, t('devices')), h('ul', { class: 'devices', id: 'device-list' }));
  await words().catch(() => null);
  drawAlarms();
  listen();
  stopTimers();
  drawReports();
  drawCentre();
  drawStats();
  drawCheckins();
  drawDevices();
  timers = [setInterval(() => drawReports(), 30000), setInterval(drawCentre, 10000), setInterval(drawCheckins, 5000), setInterval(drawDevices, 30000)];
}

start();
