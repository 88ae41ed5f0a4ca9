// The only module that talks to Tauri. Every command and event the UI uses is here, so the
// IPC surface is visible at a glance (and matches src-tauri/capabilities/main.json).

const tauri = window.__TAURI__;

/** Errors from commands arrive as { kind, message }; anything else is wrapped the same way. */
function normalize(e) {
  if (e && typeof e === 'object' && 'kind' in e) return e;
  return { kind: 'ipc', message: String(e?.message ?? e) };
}

async function call(cmd, args) {
  if (!tauri?.core) throw { kind: 'ipc', message: 'Tauri IPC is not available' };
  try {
    return await tauri.core.invoke(cmd, args);
  } catch (e) {
    throw normalize(e);
  }
}

/** Listens to an event from Rust; returns a function that stops listening. */
export async function on(event, handler) {
  if (!tauri?.event) return () => {};
  return tauri.event.listen(event, (e) => handler(e.payload));
}

export const boot = () => call('boot');
/** `stage`: 'shell' (index.html's shell painted) or 'view' (the first view painted). */
export const uiReady = (marks, stage = 'view') => call('ui_ready', { marks, stage });
export const setLanguage = (lang) => call('set_language', { lang });
export const searchPlan = (query) => call('search_plan', { query });

export const checklistTicks = () => call('checklist_ticks');
export const checklistTick = (itemId, ticked) => call('checklist_tick', { itemId, ticked });
export const checklistReset = () => call('checklist_reset');

export const inventories = () => call('inventories');
export const inventory = (id) => call('inventory', { id });
export const saveInventory = (input) => call('save_inventory', { input });
export const deleteInventory = (id) => call('delete_inventory', { id });

export const linkStatus = () => call('link_status');
/** pin: needed once a PIN is set (null otherwise). */
export const enroll = (serverUrl, code, pin = null) => call('enroll', { serverUrl, code, pin });
export const unlink = (pin = null) => call('unlink', { pin });
export const confirmProfileKey = (key, pin = null) => call('confirm_profile_key', { key, pin });

export const raiseAlarm = () => call('raise_alarm');
export const raiseDrill = () => call('raise_drill');
export const drillStatus = () => call('drill_status');
/** { state: 'protected' | 'limited' | 'unprotected', not_answering?, drill_due?, refused? } */
export const protection = () => call('protection');
export const finishWelcome = () => call('finish_welcome');
/** pin: needed once a PIN is set (null otherwise). */
export const cancelAlarm = (id, pin = null) => call('cancel_alarm', { id, pin });
export const alarmTimeline = (id) => call('alarm_timeline', { id });
export const exportAlarmTimeline = (id) => call('export_alarm_timeline', { id });
export const alarm = (id) => call('alarm', { id });
export const activeAlarm = () => call('active_alarm');

/**
 * target: { kind: 'profile', id } or { kind: 'user', id }; `card`: the action card it was
 * tapped on. Resolves to { outcome: 'dialed' | 'no_dialer' | 'dial_failed' | null,
 * script: [{ text, own }], notice: { old_number, new_number, … } | null } — with a notice
 * nothing was dialled: call again with `seenNotice` once the person has seen it.
 */
export const dial = (target, card = null, seenNotice = null) => call('call', { target, card, seenNotice });
export const userContacts = () => call('user_contacts');
export const saveUserContact = (input) => call('save_user_contact', { input });
export const deleteUserContact = (id) => call('delete_user_contact', { id });
export const orderUserContacts = (ids) => call('order_user_contacts', { ids });

export const setCurrentPlace = (place) => call('set_current_place', { place });
export const setAlarmShortcut = (shortcut) => call('set_alarm_shortcut', { shortcut });
export const setClosedReportsDays = (days) => call('set_closed_reports_days', { days });
export const sendAlarmMessage = (id, text) => call('send_alarm_message', { id, text });
export const setInstructions = (text) => call('set_instructions', { text });
export const setCallbackNumber = (number) => call('set_callback_number', { number });
export const ownNotes = () => call('own_notes');
export const saveOwnNotes = (text) => call('save_own_notes', { text });

export const unlock = (passphrase) => call('unlock', { passphrase });
export const retryUnlock = () => call('retry_unlock');

export const incidents = () => call('incidents');
export const incident = (id) => call('incident', { id });
export const newIncident = (alarmId = null, checkinId = null) => call('new_incident', { alarmId, checkinId });
export const saveIncident = (id, incident) => call('save_incident', { id, incident });
export const markIncidentReady = (id) => call('mark_incident_ready', { id });
export const deleteIncident = (id) => call('delete_incident', { id });
/** Removes the report if nobody wrote in it (backing out of a new one). */
export const discardDraft = (id) => call('discard_draft', { id });
export const pickAttachments = (id) => call('pick_attachments', { id });
export const attachDropped = (id, token) => call('attach_dropped', { id, token });
export const deleteAttachment = (incident, id) => call('delete_attachment', { incident, id });
export const exportIncident = (id) => call('export_incident', { id });

export const syncStatus = () => call('sync_status');
export const syncNow = () => call('sync_now');

export const pinStatus = () => call('pin_status');
export const setPin = (current, pin, duress) => call('set_pin', { current, pin, duress });
export const setAlarmDiscretion = (sound, text) => call('set_alarm_discretion', { sound, text });
export const setHidden = (hidden) => call('set_hidden', { hidden });
export const removeDuressPin = (current) => call('remove_duress_pin', { current });
export const clearPin = (current) => call('clear_pin', { current });
/** pin: needed to turn the idle lock off or lengthen it. */
export const setIdleLock = (minutes, pin = null) => call('set_idle_lock', { minutes, pin });
export const lockScreen = () => call('lock_screen');
export const unlockScreen = (pin) => call('unlock_screen', { pin });
/** Behind the lock screen quitting needs the PIN. */
export const quitApp = (pin = null) => call('quit_app', { pin });
/** { current, offer: { version, notes } | null, hold: 'alarm' | 'checkin' | 'unsynced_reports' | null } */
export const updateCheck = () => call('update_check');
/** Installs and restarts (never resolves on success); its download sends 'update-progress'
 * events ({ received, total }). pin: needed once a PIN is set. */
export const updateInstall = (version, pin = null) => call('update_install', { version, pin });

export const checkIn = (minutes, appearanceId = null) => call('check_in', { minutes, appearanceId });
export const extendCheckin = (id, minutes) => call('extend_checkin', { id, minutes });
/** outcome: 'calm' | 'incident'. */
export const checkOut = (id, outcome) => call('check_out', { id, outcome });
export const activeCheckin = () => call('active_checkin');

export const appearances = () => call('appearances');
export const saveAppearance = (input) => call('save_appearance', { input });
export const deleteAppearance = (id) => call('delete_appearance', { id });
