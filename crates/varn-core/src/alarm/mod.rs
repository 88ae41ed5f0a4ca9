//! The panic alarm as the app sees it: what the person is shown, and how long to wait before
//! trying again. Plain logic, no clock or network of its own, so it can be tested exactly.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::backoff::Backoff;
use crate::wire::{AlarmMessage, AlarmReceipt, AlarmStatus, MessageFrom};

mod messages;
pub use messages::{
    callback_number, CallbackNumberError, PendingMessage, ShownMessage, QUICK_FROM_PERSON,
    QUICK_TO_PERSON,
};

/// Without a receipt for this long, the app tells the person to call 112.
pub const UNCONFIRMED_AFTER: Duration = Duration::from_secs(15);

/// How many whole seconds an alarm took from the press to the server, when that was long
/// enough for the app to have told the person to call 112 ([`UNCONFIRMED_AFTER`]): the
/// dashboard marks such an alarm late. The press is the device's clock, so a device whose
/// clock runs ahead by the same margin looks late too; that errs on the side of telling.
pub fn told_to_call_112(triggered: DateTime<Utc>, received: DateTime<Utc>) -> Option<u64> {
    let took = (received - triggered).to_std().ok()?;
    (took >= UNCONFIRMED_AFTER).then_some(took.as_secs())
}

/// Why the app cannot send at all (as opposed to the network being down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocked {
    /// The app has never been linked to the region's server.
    NotEnrolled,
    /// The server refused the device token (revoked or unknown).
    TokenRefused,
    /// The OS keychain holding the token could not be read.
    KeychainUnavailable,
}

impl Blocked {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Blocked::NotEnrolled => "not_enrolled",
            Blocked::TokenRefused => "token_refused",
            Blocked::KeychainUnavailable => "keychain_unavailable",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Blocked> {
        [
            Blocked::NotEnrolled,
            Blocked::TokenRefused,
            Blocked::KeychainUnavailable,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// An alarm as stored in the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalAlarm {
    /// Client-generated UUIDv7.
    pub id: Uuid,
    /// When the person triggered it.
    pub triggered_at: DateTime<Utc>,
    /// The meeting the person is at.
    pub meeting: String,
    /// Where the person is.
    pub place: String,
    /// The server's latest receipt, once one has arrived.
    pub receipt: Option<AlarmReceipt>,
    /// When the person asked to cancel it (false alarm).
    pub cancel_requested_at: Option<DateTime<Utc>>,
    /// Why the app cannot send, if it cannot.
    pub blocked: Option<Blocked>,
    /// Grows with every local save; the screen never shows an older revision over a newer one.
    #[serde(default)]
    pub revision: i64,
    /// A drill ("Testlarm"): the whole path, marked TEST.
    #[serde(default)]
    pub drill: bool,
    /// When this device first saw the acknowledgement (its own clock, like `triggered_at`,
    /// so the difference is the round trip).
    #[serde(default)]
    pub acknowledged_seen_at: Option<DateTime<Utc>>,
    /// When it was durable in this device's database (sent so the timeline shows it).
    #[serde(default)]
    pub stored_at: Option<DateTime<Utc>>,
    /// The cancel was entered with the duress PIN: the screen shows a cancel, the server
    /// keeps the alarm open and marks it as under duress.
    #[serde(default)]
    pub duress: bool,
    /// Raised without a trace on this device (the duress PIN at the lock screen or in a PIN
    /// form): never shown or notified here, sent and cancelled under duress at once.
    #[serde(default)]
    pub silent: bool,
    /// What the person wrote that has not reached the region yet, oldest first.
    #[serde(default)]
    pub pending_messages: Vec<PendingMessage>,
}

/// The person's last drill that went the whole way, and whether it is time for another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillStatus {
    /// When that drill was pressed.
    pub last_at: Option<DateTime<Utc>>,
    /// Its round trip, press to acknowledgement, in milliseconds.
    pub round_trip_ms: Option<i64>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// Whole days since then.
    pub days_since: Option<i64>,
    /// The region's interval.
    pub interval_days: u32,
    /// Never drilled, or longer ago than the interval.
    pub due: bool,
}

impl DrillStatus {
    /// From the last acknowledged drill (if any) at `now`.
    pub fn new(last: Option<&LocalAlarm>, interval_days: u32, now: DateTime<Utc>) -> DrillStatus {
        let days_since = last.map(|a| (now - a.triggered_at).num_days().max(0));
        DrillStatus {
            last_at: last.map(|a| a.triggered_at),
            round_trip_ms: last
                .and_then(|a| a.round_trip())
                .map(|d| d.num_milliseconds()),
            acknowledged_by: last
                .and_then(|a| a.receipt.as_ref())
                .and_then(|r| r.acknowledged_by.clone()),
            days_since,
            interval_days,
            due: days_since.is_none_or(|d| d >= i64::from(interval_days)),
        }
    }
}

/// How well Värn can protect the person right now: shown on the home view and on the LARM
/// button itself, so that an app that cannot get an alarm anywhere never looks armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Protection {
    /// Linked, the region answers, and a drill went the whole way within the region's
    /// interval.
    Protected,
    /// Linked, but the region does not answer now (an alarm is kept and sent when it does),
    /// or there has been no drill for longer than the region's interval (or ever).
    Limited {
        /// The region's server does not answer.
        not_answering: bool,
        /// Time for a drill.
        drill_due: bool,
    },
    /// Not linked, or the region refuses the device: an alarm goes nowhere.
    Unprotected {
        /// The app was linked, but the region refuses its token (revoked or unlinked): it
        /// must be linked again with a new code.
        refused: bool,
    },
}

/// The app's link to its region, as [`Protection::of`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Never linked (or unlinked).
    None,
    /// Linked, but the region refuses the device's token.
    Refused,
    /// Linked and accepted; whether the region answers now.
    Linked {
        /// The region's server answers.
        answering: bool,
    },
}

impl Protection {
    /// The rule: the `link` to a region (whether it answers now) and the drill status.
    pub fn of(link: Link, drill: &DrillStatus) -> Protection {
        let answering = match link {
            Link::None => return Protection::Unprotected { refused: false },
            Link::Refused => return Protection::Unprotected { refused: true },
            Link::Linked { answering } => answering,
        };
        if answering && !drill.due {
            return Protection::Protected;
        }
        Protection::Limited {
            not_answering: !answering,
            drill_due: drill.due,
        }
    }
}

/// An alarm as the alarm screen needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmView {
    /// The alarm's id.
    pub id: Uuid,
    /// What to show.
    pub phase: Phase,
    /// When it was triggered.
    pub triggered_at: DateTime<Utc>,
    /// When the screen turns to "not confirmed" if no receipt has come.
    pub unconfirmed_at: DateTime<Utc>,
    /// The meeting sent with it.
    pub meeting: String,
    /// The place sent with it.
    pub place: String,
    /// When the region received it.
    pub received_at: Option<DateTime<Utc>>,
    /// When an officer acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When the server registered the cancel.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it cannot be sent, if so.
    pub blocked: Option<Blocked>,
    /// Grows with every change; the screen ignores a view older than the one it shows.
    pub revision: i64,
    /// A drill.
    pub drill: bool,
    /// Whom the server alerted because nobody acknowledged in time.
    pub escalated_to: Vec<String>,
    /// From the press to the acknowledgement, in milliseconds (this device's clock).
    pub round_trip_ms: Option<i64>,
    /// The region server the app is linked to (its host), shown with the receipt so the
    /// person sees where the alarm went.
    pub region_host: Option<String>,
    /// When the region's 24/7 alarm centre confirmed it has the alarm.
    pub centre_received_at: Option<DateTime<Utc>>,
    /// The silent conversation with the region, oldest first.
    pub messages: Vec<ShownMessage>,
    /// Whether the person can write now (see [`LocalAlarm::can_write`]).
    pub can_write: bool,
}

impl AlarmView {
    /// The view of an alarm at `now`, linked to `region_host`.
    pub fn of(a: &LocalAlarm, now: DateTime<Utc>, region_host: Option<String>) -> AlarmView {
        // Cancelled under duress: the screen shows what a plain cancel at that moment shows —
        // the receipt as it stood then (received; acknowledged only before the cancel) — and
        // nothing the region does with the alarm afterwards (it stays open there: later
        // acknowledgements, escalations). "Never reached the region" would be a lie, and a
        // difference from a plain cancel that the person forced to cancel could be shown.
        let r = a.receipt.as_ref();
        let shown_after_cancel = |at: &DateTime<Utc>| {
            !a.duress || a.cancel_requested_at.is_none_or(|cancel| *at <= cancel)
        };
        let ack = r.and_then(|r| {
            let at = r.acknowledged_at.filter(shown_after_cancel)?;
            Some((at, r.acknowledged_by.clone()))
        });
        AlarmView {
            id: a.id,
            phase: a.phase(now),
            triggered_at: a.triggered_at,
            unconfirmed_at: a.triggered_at
                + chrono::Duration::from_std(UNCONFIRMED_AFTER).unwrap_or_default(),
            meeting: a.meeting.clone(),
            place: a.place.clone(),
            received_at: r.map(|r| r.received_at),
            acknowledged_at: ack.as_ref().map(|(at, _)| *at),
            acknowledged_by: ack.as_ref().and_then(|(_, by)| by.clone()),
            cancelled_at: if a.duress {
                a.cancel_requested_at
            } else {
                r.and_then(|r| r.cancelled_at)
            },
            blocked: a.blocked,
            revision: a.revision,
            drill: a.drill,
            escalated_to: r
                .filter(|_| !a.duress)
                .map(|r| r.escalated_to.clone())
                .unwrap_or_default(),
            round_trip_ms: ack.and(a.round_trip()).map(|d| d.num_milliseconds()),
            region_host,
            centre_received_at: r
                .and_then(|r| r.centre_received_at)
                .filter(shown_after_cancel),
            messages: a.conversation(),
            can_write: a.can_write(now),
        }
    }
}

impl AlarmView {
    /// The view when the app already knows the region does not answer (its last try failed):
    /// an alarm still on its way says at once what it would say after
    /// [`UNCONFIRMED_AFTER`] — not confirmed, ring 112 — while it keeps being sent. Waiting
    /// out the 15 s behind a spinner would only cost the person time.
    pub fn knowing_the_link_is_down(mut self, down: bool) -> AlarmView {
        if down && self.phase == Phase::Sending {
            self.phase = Phase::Unconfirmed;
        }
        self
    }
}

/// What the alarm screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// SKICKAR…
    Sending,
    /// No receipt within [`UNCONFIRMED_AFTER`]: LARMET ÄR INTE BEKRÄFTAT – RING 112.
    Unconfirmed,
    /// The app cannot send at all (see [`Blocked`]): RING 112.
    Blocked,
    /// MOTTAGET av regionen kl …
    Received,
    /// KVITTERAT av …
    Acknowledged,
    /// The cancel is on its way to the server.
    Cancelling,
    /// The server has the cancel.
    Cancelled,
}

/// How long an alarm that is not cancelled counts as open (its screen and banner, and the
/// hold on an update).
pub const OPEN_FOR: chrono::Duration = chrono::Duration::hours(12);

impl LocalAlarm {
    /// A new alarm pressed at `now` (durable in the app's database at the same moment),
    /// with nothing sent yet.
    pub fn new(now: DateTime<Utc>, meeting: String, place: String, drill: bool) -> LocalAlarm {
        LocalAlarm {
            id: Uuid::now_v7(),
            triggered_at: now,
            meeting,
            place,
            receipt: None,
            cancel_requested_at: None,
            blocked: None,
            revision: 0,
            drill,
            acknowledged_seen_at: None,
            stored_at: Some(now),
            duress: false,
            silent: false,
            pending_messages: Vec::new(),
        }
    }

    /// Whether it is still open at `now`: not cancelled (as the screen shows it: a duress
    /// cancel looks cancelled) and triggered within [`OPEN_FOR`].
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        now - self.triggered_at < OPEN_FOR && self.phase(now) != Phase::Cancelled
    }

    /// The phase to show at `now`.
    pub fn phase(&self, now: DateTime<Utc>) -> Phase {
        if self.duress {
            // Looks exactly like a cancel, whatever the server does with the alarm.
            return if self.settled() {
                Phase::Cancelled
            } else {
                Phase::Cancelling
            };
        }
        let server = self.receipt.as_ref().map(|r| r.status);
        if server == Some(AlarmStatus::Cancelled) {
            return Phase::Cancelled;
        }
        if self.cancel_requested_at.is_some() {
            return if self.settled() {
                Phase::Cancelled
            } else {
                Phase::Cancelling
            };
        }
        match server {
            Some(AlarmStatus::Acknowledged) => Phase::Acknowledged,
            Some(AlarmStatus::Open) => Phase::Received,
            Some(AlarmStatus::Cancelled) => Phase::Cancelled,
            None if self.blocked.is_some() => Phase::Blocked,
            None => {
                let waited = (now - self.triggered_at).to_std().unwrap_or_default();
                if waited >= UNCONFIRMED_AFTER {
                    Phase::Unconfirmed
                } else {
                    Phase::Sending
                }
            }
        }
    }

    /// From the press to the acknowledgement seen on this device, both by its own clock.
    pub fn round_trip(&self) -> Option<chrono::Duration> {
        self.acknowledged_seen_at.map(|t| t - self.triggered_at)
    }

    /// True when nothing more needs to reach the server: the alarm is cancelled on the
    /// server, or acknowledged with no cancel waiting, or — cancelled by the person — it
    /// never reached the region and this app cannot send (not linked, refused): nothing
    /// there to take back. A duress cancel never settles that way: it keeps trying.
    pub fn settled(&self) -> bool {
        if self.duress {
            // Confirmed, or cancelled outright (a server that predates duress): nothing more
            // can be sent either way.
            return self
                .receipt
                .as_ref()
                .is_some_and(|r| r.duress || r.status == AlarmStatus::Cancelled);
        }
        match self.receipt.as_ref().map(|r| r.status) {
            Some(AlarmStatus::Cancelled) => true,
            Some(AlarmStatus::Acknowledged) => self.cancel_requested_at.is_none(),
            None => self.cancel_requested_at.is_some() && self.blocked.is_some(),
            Some(AlarmStatus::Open) => false,
        }
    }

    /// Whether the person and the region can write to each other now: the region has the
    /// alarm, it is not cancelled (or being cancelled), not under duress and not silent, and
    /// it is open ([`OPEN_FOR`]).
    pub fn can_write(&self, now: DateTime<Utc>) -> bool {
        !self.duress
            && !self.silent
            && self.cancel_requested_at.is_none()
            && self
                .receipt
                .as_ref()
                .is_some_and(|r| r.status != AlarmStatus::Cancelled)
            && self.is_open(now)
    }

    /// The next thing to send at `now`, if any. The alarm and its cancel always go first;
    /// then what the person wrote; an acknowledged alarm the person can still write on keeps
    /// listening, so what the officer writes arrives.
    pub fn next_step(&self, now: DateTime<Utc>) -> Step {
        let writing = self.can_write(now);
        if self.settled() && !writing {
            return Step::Done;
        }
        match &self.receipt {
            None => Step::Send,
            Some(_) if self.cancel_requested_at.is_some() => Step::Cancel,
            Some(_) if writing && !self.pending_messages.is_empty() => Step::SendMessage {
                id: self.pending_messages[0].id,
            },
            Some(r) => Step::WaitForChange {
                after_version: r.version,
            },
        }
    }

    /// The conversation as the screen shows it: what the region holds, then what is still
    /// on its way. Nothing after a duress cancel or for a silent alarm.
    pub fn conversation(&self) -> Vec<ShownMessage> {
        if self.duress || self.silent {
            return Vec::new();
        }
        let held = self.receipt.iter().flat_map(|r| &r.messages);
        let mut out: Vec<ShownMessage> = held
            .map(|m: &AlarmMessage| ShownMessage {
                id: m.id,
                from: m.from,
                author: m.author.clone(),
                text: m.text.clone(),
                at: m.at,
                sending: false,
            })
            .collect();
        for p in &self.pending_messages {
            if !out.iter().any(|m| m.id == p.id) {
                out.push(ShownMessage {
                    id: p.id,
                    from: MessageFrom::Person,
                    author: String::new(),
                    text: p.text.clone(),
                    at: p.created_at,
                    sending: true,
                });
            }
        }
        out
    }

    /// Takes a receipt from the server unless an older one arrives late.
    pub fn apply(&mut self, receipt: AlarmReceipt) -> bool {
        let newer = self
            .receipt
            .as_ref()
            .is_none_or(|r| receipt.version > r.version);
        if newer {
            if receipt.status == AlarmStatus::Acknowledged && self.acknowledged_seen_at.is_none() {
                self.acknowledged_seen_at = Some(Utc::now());
            }
            self.receipt = Some(receipt);
            self.blocked = None;
        }
        newer
    }
}

/// What the sender does next for an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `PUT` the alarm (again).
    Send,
    /// `POST` the cancel (again). The alarm itself reached the server.
    Cancel,
    /// `PUT` the person's oldest message not yet received (again).
    SendMessage {
        /// The message's id.
        id: Uuid,
    },
    /// Wait on the server for an acknowledgement or other change.
    WaitForChange {
        /// The version the app has.
        after_version: i64,
    },
    /// Nothing left to do.
    Done,
}

#[cfg(test)]
mod tests {

    fn drill(days_since: Option<i64>) -> DrillStatus {
        DrillStatus {
            last_at: None,
            round_trip_ms: None,
            acknowledged_by: None,
            days_since,
            interval_days: 30,
            due: days_since.is_none_or(|d| d >= 30),
        }
    }

    /// A cancel from an app that cannot send, of an alarm the region never got, ends at
    /// once ("cancelled"), not in "cancelling" for ever; under duress it keeps trying.
    #[test]
    fn a_cancel_that_has_nothing_to_take_back_ends_on_the_device() {
        let now = Utc::now();
        let mut a = LocalAlarm::new(now, String::new(), String::new(), false);
        a.blocked = Some(Blocked::NotEnrolled);
        assert_eq!(a.phase(now), Phase::Blocked);
        a.cancel_requested_at = Some(now);
        assert_eq!(a.phase(now), Phase::Cancelled);
        assert_eq!(a.next_step(now), Step::Done);
        a.duress = true;
        assert!(!a.settled(), "a duress cancel keeps trying");
        // Linked but not answering: the cancel waits to reach the region.
        let mut b = LocalAlarm::new(now, String::new(), String::new(), false);
        b.cancel_requested_at = Some(now);
        assert_eq!(b.phase(now), Phase::Cancelling);
    }

    /// Under duress the screen shows a plain cancel at the time the person cancelled, and
    /// nothing the region does with the alarm afterwards (it stays open there): no
    /// acknowledgement, no escalation, no round trip. Without duress it shows what the region
    /// says.
    #[test]
    fn the_alarm_screen_hides_what_happens_after_a_duress_cancel() {
        let now = Utc::now();
        let mut a = LocalAlarm::new(now, "Fullmäktige".into(), "Torget".into(), false);
        let later = |s: i64| now + chrono::Duration::seconds(s);
        a.cancel_requested_at = Some(later(5));
        a.acknowledged_seen_at = Some(later(9));
        a.receipt = Some(AlarmReceipt {
            id: a.id,
            status: AlarmStatus::Acknowledged,
            received_at: later(1),
            acknowledged_at: Some(later(8)),
            acknowledged_by: Some("Hanna Handläggare".into()),
            cancelled_at: None,
            version: 4,
            drill: false,
            escalated_to: vec!["Sara Säkerhet".into()],
            duress: true,
            messages: Vec::new(),
            centre_received_at: None,
        });
        let plain = AlarmView::of(&a, later(10), Some("varn.example".into()));
        assert_eq!(plain.acknowledged_by.as_deref(), Some("Hanna Handläggare"));
        assert_eq!(plain.escalated_to, ["Sara Säkerhet"]);
        assert_eq!(plain.received_at, Some(later(1)));
        assert_eq!(plain.region_host.as_deref(), Some("varn.example"));
        assert_eq!(plain.unconfirmed_at, now + chrono::Duration::seconds(15));

        a.duress = true;
        let shown = AlarmView::of(&a, later(10), Some("varn.example".into()));
        assert_eq!(shown.phase, Phase::Cancelled);
        assert_eq!(shown.cancelled_at, Some(later(5)));
        assert_eq!(shown.acknowledged_at, None);
        assert_eq!(shown.acknowledged_by, None);
        assert!(shown.escalated_to.is_empty());
        assert_eq!(shown.round_trip_ms, None);
        // Received, as a plain cancel of a received alarm shows (not "never reached").
        assert_eq!(shown.received_at, Some(later(1)));
        let json = serde_json::to_string(&shown).unwrap();
        assert!(!json.contains("Hanna") && !json.contains("Sara"), "{json}");

        // Acknowledged before the duress cancel: the person had seen it, and still does.
        a.receipt.as_mut().unwrap().acknowledged_at = Some(later(4));
        let shown = AlarmView::of(&a, later(10), None);
        assert_eq!(shown.acknowledged_by.as_deref(), Some("Hanna Handläggare"));
        assert!(shown.escalated_to.is_empty());
    }

    /// Not linked is never "protected", whatever else; linked needs an answering region and
    /// a drill within the interval.
    #[test]
    fn protection_is_only_claimed_when_the_alarm_can_arrive_and_was_tried() {
        let on = Link::Linked { answering: true };
        assert_eq!(
            Protection::of(Link::None, &drill(Some(1))),
            Protection::Unprotected { refused: false }
        );
        assert_eq!(
            Protection::of(Link::Refused, &drill(Some(1))),
            Protection::Unprotected { refused: true },
            "revoked: as good as not linked, and said why"
        );
        assert_eq!(Protection::of(on, &drill(Some(29))), Protection::Protected);
        assert_eq!(
            Protection::of(on, &drill(Some(30))),
            Protection::Limited {
                not_answering: false,
                drill_due: true
            }
        );
        assert_eq!(
            Protection::of(on, &drill(None)),
            Protection::Limited {
                not_answering: false,
                drill_due: true
            },
            "never drilled"
        );
        let off = Link::Linked { answering: false };
        assert_eq!(
            Protection::of(off, &drill(Some(1))),
            Protection::Limited {
                not_answering: true,
                drill_due: false
            }
        );
        let json = serde_json::to_value(Protection::of(off, &drill(None))).unwrap();
        assert_eq!(json["state"], "limited");
        assert_eq!(json["not_answering"], true);
        let json = serde_json::to_value(Protection::of(Link::Refused, &drill(None))).unwrap();
        assert_eq!(json["state"], "unprotected");
        assert_eq!(json["refused"], true);
    }

    use super::*;

    fn alarm() -> LocalAlarm {
        LocalAlarm {
            silent: false,
            pending_messages: Vec::new(),
            id: Uuid::now_v7(),
            triggered_at: "2026-11-24T10:00:00Z".parse().unwrap(),
            meeting: String::new(),
            place: String::new(),
            receipt: None,
            cancel_requested_at: None,
            blocked: None,
            revision: 0,
            drill: false,
            acknowledged_seen_at: None,
            stored_at: None,
            duress: false,
        }
    }

    fn receipt(status: AlarmStatus, version: i64) -> AlarmReceipt {
        AlarmReceipt {
            id: Uuid::nil(),
            status,
            received_at: "2026-11-24T10:00:01Z".parse().unwrap(),
            acknowledged_at: None,
            acknowledged_by: None,
            cancelled_at: None,
            version,
            drill: false,
            escalated_to: Vec::new(),
            duress: false,
            messages: Vec::new(),
            centre_received_at: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn an_alarm_is_open_until_cancelled_or_twelve_hours_old() {
        let mut a = alarm();
        let t = a.triggered_at;
        assert!(a.is_open(t));
        assert!(a.is_open(t + OPEN_FOR - chrono::Duration::seconds(1)));
        assert!(!a.is_open(t + OPEN_FOR));
        a.receipt = Some(receipt(AlarmStatus::Cancelled, 2));
        assert!(!a.is_open(t + chrono::Duration::minutes(1)));
    }

    #[test]
    fn a_drill_is_due_when_never_done_or_older_than_the_interval() {
        let never = DrillStatus::new(None, 30, at("2026-11-24T10:00:00Z"));
        assert!(never.due);
        assert_eq!(never.days_since, None);
        let mut a = alarm();
        a.drill = true;
        let mut r = receipt(AlarmStatus::Acknowledged, 2);
        r.acknowledged_by = Some("Hanna".into());
        a.apply(r);
        a.acknowledged_seen_at = Some(at("2026-11-24T10:00:04.200Z"));
        let fresh = DrillStatus::new(Some(&a), 30, at("2026-12-23T09:59:59Z"));
        assert_eq!(fresh.days_since, Some(28));
        assert!(!fresh.due);
        assert_eq!(fresh.round_trip_ms, Some(4200));
        assert_eq!(fresh.acknowledged_by.as_deref(), Some("Hanna"));
        let old = DrillStatus::new(Some(&a), 30, at("2026-12-24T10:00:00Z"));
        assert_eq!(old.days_since, Some(30));
        assert!(old.due);
    }

    #[test]
    fn blocked_names_round_trip() {
        for b in [
            Blocked::NotEnrolled,
            Blocked::TokenRefused,
            Blocked::KeychainUnavailable,
        ] {
            assert_eq!(Blocked::parse(b.as_str()), Some(b));
            assert_eq!(
                serde_json::to_string(&b).unwrap(),
                format!("\"{}\"", b.as_str())
            );
        }
        assert_eq!(Blocked::parse("x"), None);
    }

    #[test]
    fn sending_turns_unconfirmed_at_fifteen_seconds() {
        let a = alarm();
        assert_eq!(a.phase(at("2026-11-24T10:00:14.999Z")), Phase::Sending);
        assert_eq!(a.phase(at("2026-11-24T10:00:15Z")), Phase::Unconfirmed);
    }

    #[test]
    fn a_late_receipt_is_still_shown() {
        let mut a = alarm();
        assert!(a.apply(receipt(AlarmStatus::Open, 1)));
        assert_eq!(a.phase(at("2026-11-24T10:05:00Z")), Phase::Received);
        assert!(a.apply(receipt(AlarmStatus::Acknowledged, 2)));
        assert_eq!(a.phase(at("2026-11-24T10:05:00Z")), Phase::Acknowledged);
        assert!(a.settled());
        // Acknowledged and still open: it listens, so what the officer writes arrives; after
        // the alarm's open time it is done.
        assert_eq!(
            a.next_step(at("2026-11-24T10:05:00Z")),
            Step::WaitForChange { after_version: 2 }
        );
        assert_eq!(a.next_step(at("2026-11-24T22:00:00Z")), Step::Done);
    }

    #[test]
    fn an_older_receipt_never_replaces_a_newer_one() {
        let mut a = alarm();
        a.apply(receipt(AlarmStatus::Acknowledged, 2));
        assert!(!a.apply(receipt(AlarmStatus::Open, 1)));
        assert_eq!(
            a.receipt.as_ref().unwrap().status,
            AlarmStatus::Acknowledged
        );
    }

    #[test]
    fn blocked_shows_as_blocked_until_a_receipt() {
        let mut a = alarm();
        a.blocked = Some(Blocked::NotEnrolled);
        assert_eq!(a.phase(at("2026-11-24T10:00:01Z")), Phase::Blocked);
        a.apply(receipt(AlarmStatus::Open, 1));
        assert_eq!(a.blocked, None);
        assert_eq!(a.phase(at("2026-11-24T10:00:01Z")), Phase::Received);
    }

    #[test]
    fn steps_follow_the_alarm() {
        let mut a = alarm();
        assert_eq!(a.next_step(at("2026-11-24T10:00:30Z")), Step::Send);
        // A cancel before the alarm reached the server: the alarm goes first.
        a.cancel_requested_at = Some(at("2026-11-24T10:00:02Z"));
        assert_eq!(a.next_step(at("2026-11-24T10:00:30Z")), Step::Send);
        assert_eq!(a.phase(at("2026-11-24T10:00:30Z")), Phase::Cancelling);
        a.apply(receipt(AlarmStatus::Open, 1));
        assert_eq!(a.next_step(at("2026-11-24T10:00:30Z")), Step::Cancel);
        a.apply(receipt(AlarmStatus::Cancelled, 2));
        assert_eq!(a.next_step(at("2026-11-24T10:00:30Z")), Step::Done);
        assert_eq!(a.phase(at("2026-11-24T10:00:30Z")), Phase::Cancelled);

        let mut b = alarm();
        b.apply(receipt(AlarmStatus::Open, 1));
        assert_eq!(
            b.next_step(at("2026-11-24T10:00:30Z")),
            Step::WaitForChange { after_version: 1 }
        );
        // Acknowledged, then cancelled by the person: the cancel still goes out.
        b.apply(receipt(AlarmStatus::Acknowledged, 2));
        b.cancel_requested_at = Some(at("2026-11-24T10:01:00Z"));
        assert!(!b.settled());
        assert_eq!(b.next_step(at("2026-11-24T10:00:30Z")), Step::Cancel);
    }

    #[test]
    fn a_duress_cancel_looks_like_a_cancel_whatever_the_server_does() {
        let mut a = alarm();
        a.apply(receipt(AlarmStatus::Open, 1));
        a.cancel_requested_at = Some(at("2026-11-24T10:00:05Z"));
        a.duress = true;
        assert_eq!(a.next_step(at("2026-11-24T10:00:30Z")), Step::Cancel);
        assert_eq!(a.phase(at("2026-11-24T10:00:06Z")), Phase::Cancelling);
        // The server keeps it open but confirms the duress: the screen says cancelled.
        let mut held = receipt(AlarmStatus::Open, 2);
        held.duress = true;
        a.apply(held);
        assert!(a.settled());
        assert_eq!(a.next_step(at("2026-11-24T10:00:30Z")), Step::Done);
        assert_eq!(a.phase(at("2026-11-24T10:00:07Z")), Phase::Cancelled);
        // An officer acknowledges later: the device still shows only the cancel.
        let mut acked = receipt(AlarmStatus::Acknowledged, 3);
        acked.duress = true;
        a.apply(acked);
        assert_eq!(a.phase(at("2026-11-24T10:05:00Z")), Phase::Cancelled);

        // Before the server has confirmed, it is "cancelling"; a server that cancelled it
        // outright (one that predates duress) ends the sending rather than looping.
        let mut b = alarm();
        b.cancel_requested_at = Some(at("2026-11-24T10:00:05Z"));
        b.duress = true;
        assert_eq!(b.next_step(at("2026-11-24T10:00:30Z")), Step::Send);
        b.apply(receipt(AlarmStatus::Open, 1));
        assert!(!b.settled());
        assert_eq!(b.phase(at("2026-11-24T10:00:07Z")), Phase::Cancelling);
        b.apply(receipt(AlarmStatus::Cancelled, 2));
        assert_eq!(b.next_step(at("2026-11-24T10:00:30Z")), Step::Done);
    }

    /// The alarm and its cancel always go before a message; a message goes once the region
    /// has the alarm; the conversation shows what the region holds, then what is on its way;
    /// nothing is written or shown after a cancel or under duress.
    #[test]
    fn messages_wait_for_the_alarm_and_never_outlive_a_cancel_or_duress() {
        let now = at("2026-11-24T10:00:30Z");
        let mut a = alarm();
        let note = PendingMessage {
            id: Uuid::now_v7(),
            text: "Jag kan inte prata".into(),
            created_at: now,
        };
        a.pending_messages.push(note.clone());
        assert!(!a.can_write(now), "the region does not have the alarm yet");
        assert_eq!(a.next_step(now), Step::Send);
        a.apply(receipt(AlarmStatus::Open, 1));
        assert_eq!(a.next_step(now), Step::SendMessage { id: note.id });
        let shown = a.conversation();
        assert_eq!(shown.len(), 1);
        assert!(shown[0].sending && shown[0].from == MessageFrom::Person);

        // Received: the region's copy replaces the one on its way, the officer's answer follows.
        let mut r = receipt(AlarmStatus::Acknowledged, 3);
        r.messages = vec![
            AlarmMessage {
                id: note.id,
                from: MessageFrom::Person,
                author: "Anna".into(),
                text: note.text.clone(),
                at: now,
            },
            AlarmMessage {
                id: Uuid::now_v7(),
                from: MessageFrom::Officer,
                author: "Hanna".into(),
                text: "Hjälp är på väg".into(),
                at: now,
            },
        ];
        a.apply(r);
        a.pending_messages.clear();
        let shown = a.conversation();
        assert_eq!(shown.len(), 2);
        assert!(!shown[0].sending);
        assert_eq!(shown[1].text, "Hjälp är på väg");
        assert_eq!(a.next_step(now), Step::WaitForChange { after_version: 3 });

        // A cancel goes before anything written after it; then nothing more can be written.
        a.pending_messages.push(note.clone());
        a.cancel_requested_at = Some(now);
        assert!(!a.can_write(now));
        assert_eq!(a.next_step(now), Step::Cancel);
        a.apply(receipt(AlarmStatus::Cancelled, 4));
        assert_eq!(a.next_step(now), Step::Done);

        // Under duress: no conversation on the screen, whatever the receipt holds.
        let mut d = alarm();
        let mut held = receipt(AlarmStatus::Open, 2);
        held.duress = true;
        held.messages = vec![AlarmMessage {
            id: Uuid::now_v7(),
            from: MessageFrom::Officer,
            author: "Hanna".into(),
            text: "Svara om du kan".into(),
            at: now,
        }];
        d.apply(held);
        d.duress = true;
        d.cancel_requested_at = Some(now);
        assert!(d.conversation().is_empty());
        assert!(!AlarmView::of(&d, now, None).can_write);
    }

    #[test]
    fn the_quick_texts_have_both_languages_and_distinct_keys() {
        for list in [&QUICK_TO_PERSON[..], &QUICK_FROM_PERSON[..]] {
            let mut keys: Vec<&str> = list.iter().map(|(k, _, _)| *k).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), list.len());
            for (_, sv, en) in list {
                assert!(
                    crate::wire::message_text(sv).is_ok() && crate::wire::message_text(en).is_ok()
                );
            }
        }
    }

    #[test]
    fn an_alarm_is_late_once_the_person_has_been_told_to_call_112() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T18:00:00Z")
            .unwrap()
            .to_utc();
        let after = |ms| at + chrono::Duration::milliseconds(ms);
        assert_eq!(told_to_call_112(at, after(14_999)), None);
        assert_eq!(told_to_call_112(at, after(15_000)), Some(15));
        assert_eq!(told_to_call_112(at, after(38_400)), Some(38));
        assert_eq!(told_to_call_112(at, after(-5_000)), None, "a clock behind");
    }

    #[test]
    fn a_callback_number_is_digits_and_nothing_else() {
        assert_eq!(
            callback_number("  070-123  45 67 ").unwrap(),
            "070-123 45 67"
        );
        assert_eq!(
            callback_number("+46 70 123 45 67").unwrap(),
            "+46 70 123 45 67"
        );
        assert_eq!(callback_number("").unwrap(), "");
        assert_eq!(
            callback_number("ring 070"),
            Err(CallbackNumberError::NotANumber)
        );
        assert_eq!(callback_number("12"), Err(CallbackNumberError::Digits));
        assert_eq!(
            callback_number("1234567890123456"),
            Err(CallbackNumberError::Digits)
        );
    }

    #[test]
    fn a_link_known_to_be_down_says_ring_112_at_once_and_nothing_else_changes() {
        let now = Utc::now();
        let a = LocalAlarm::new(now, String::new(), String::new(), false);
        let view = AlarmView::of(&a, now, None);
        assert_eq!(view.phase, Phase::Sending);
        assert_eq!(
            view.clone().knowing_the_link_is_down(true).phase,
            Phase::Unconfirmed
        );
        assert_eq!(view.knowing_the_link_is_down(false).phase, Phase::Sending);
        // Under duress the screen shows a cancel, whatever the link does.
        let mut d = a.clone();
        d.cancel_requested_at = Some(now);
        d.duress = true;
        assert_eq!(
            AlarmView::of(&d, now, None)
                .knowing_the_link_is_down(true)
                .phase,
            Phase::Cancelling
        );
    }
}
