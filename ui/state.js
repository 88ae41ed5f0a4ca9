// The app's state, owned here: what Rust said at boot and what events and commands brought
// since. Views get it as `ctx` (with the actions app.js adds) and read it; every write is a
// call here (`put`, or `takeAlarm` / `takeCheckin` / `takeCheckinPoll`), never an assignment
// elsewhere (tests/floors.rs checks). An alarm or a check-in can arrive both as a command's
// answer and as an event, which travel separately: it is only ever taken through `newer`, so
// an older state never replaces a newer one.

import { t, pick } from './i18n.js';

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
  /** How discreet an alarm is: { sound, text } (both off unless the person turned them on). */
  discretion: { sound: false, text: false },
  closedReportsDays: null,
  instructions: '',
  currentPlace: '',
  /** The number the region may ring back ("Ring mig"); '' when not given. */
  callbackNumber: '',
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
  /** The region's name for the report (e.g. "Avvikelserapport"), or Värn's. */
  reportName() {
    return ctx.profile?.report_name ? pick(ctx.profile.report_name) : t('incident.title');
  },
  contact(id) {
    return ctx.profile?.contacts.find((c) => c.id === id) ?? null;
  },
};

/**
 * Sets fields of the state by name. A name not declared in `ctx` above is refused, so a typo
 * cannot add a field that nothing reads.
 */
export function put(patch) {
  for (const k of Object.keys(patch)) {
    if (!(k in ctx)) throw new Error(`state.js: ctx has no field "${k}"`);
  }
  Object.assign(ctx, patch);
}

/** The actions app.js gives every view beside the state (go, error, call, …). */
export function giveActions(actions) {
  Object.assign(ctx, actions);
}

/**
 * The one rule for "is `next` newer than `shown`": of the same item, a revision at least as
 * high; of another item, the later one by `at` (when given; otherwise the other item wins).
 */
export function newer(shown, next, at = null) {
  if (!next) return false;
  if (!shown) return true;
  if (shown.id === next.id) return next.revision >= shown.revision;
  return at ? at(next) >= at(shown) : true;
}

/** Takes an alarm's state if it is newer than the one held (the newest alarm wins). */
export function takeAlarm(view) {
  if (newer(ctx.activeAlarm, view, (a) => a.triggered_at)) ctx.activeAlarm = view;
  return ctx.activeAlarm;
}

/**
 * Takes what a poll for the active check-in answered (`fresh`, or null for none), asked
 * while `before` was held: a state only through `takeCheckin` (never an older one over a
 * newer), and "none" lets go only of the check-in that was held when the poll was sent —
 * one that an event brought meanwhile stays.
 */
export function takeCheckinPoll(before, fresh) {
  if (fresh) return takeCheckin(fresh);
  if (before && ctx.checkin?.id === before.id) ctx.checkin = null;
  return ctx.checkin;
}

/** Takes a check-in's state if it is newer than the one held; a finished one is let go. */
export function takeCheckin(view) {
  if (view && (view.phase === 'done' || view.phase === 'checking_out')) {
    if (ctx.checkin?.id === view.id) ctx.checkin = null;
  } else if (newer(ctx.checkin, view)) {
    ctx.checkin = view;
  }
  return ctx.checkin;
}
