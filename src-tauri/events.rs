//! What the services tell the window (events and desktop notifications) or a test: one event
//! type and one method, so a new kind of news is one variant here and one arm in
//! `window::bridge`, not a method on every observer. The vocabulary lives here, below the
//! link and the runners that speak it: the views it carries are defined here too (their
//! modules re-export them), so nothing here imports from a floor above.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use varn_core::alarm::AlarmView;
use varn_core::appearance::{Appearance, Reminder};
use varn_core::checkin::CheckinPhase;
use varn_core::wire::Followup;

use crate::storage::QueueCounts;

/// The connection to the region server, as the top bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// The server answers.
    Online,
    /// The server does not answer; everything is kept locally.
    Offline,
    /// The app has no link to a region server.
    NotEnrolled,
    /// The region refuses this device (revoked, or unlinked): it must be linked again.
    Refused,
}

/// A check-in as the card shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckinView {
    /// The id.
    pub id: Uuid,
    /// What to show.
    pub phase: CheckinPhase,
    /// The meeting.
    pub meeting: String,
    /// The place.
    pub place: String,
    /// When the person checked in.
    pub started_at: DateTime<Utc>,
    /// Check out by then.
    pub deadline: DateTime<Utc>,
    /// When the region received it.
    pub received_at: Option<DateTime<Utc>>,
    /// The alarm the region raised for a missed check-out.
    pub alarm_id: Option<Uuid>,
    /// The revision (grows with extensions).
    pub revision: u32,
}

/// What sync is doing, for the top bar and the reports list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Nothing to send.
    Idle,
    /// Sending now.
    Sending,
    /// Waiting for the server to answer again (backoff).
    Waiting,
    /// Not linked to a region server: everything stays here.
    NotEnrolled,
    /// The server refuses the device: it must be linked again.
    DeviceRefused,
    /// The keychain with the device token cannot be reached.
    KeychainUnavailable,
}

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The report.
    pub incident: Uuid,
    /// Bytes the server has.
    pub sent: u64,
    /// Bytes in all.
    pub total: u64,
}

/// Where sync stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncView {
    /// What it is doing.
    pub state: SyncState,
    /// The queue.
    pub counts: QueueCounts,
    /// When the next attempt is due, while waiting.
    pub next_try_at: Option<DateTime<Utc>>,
    /// The last failure on the way, for a person (while waiting).
    pub last_error: Option<String>,
    /// An upload in progress.
    pub progress: Option<Progress>,
}

/// Something the person may need to know.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// An alarm changed; `phase_changed` says whether what the person should be told changed.
    Alarm {
        /// The alarm as the screen shows it.
        view: &'a AlarmView,
        /// Whether its phase changed.
        phase_changed: bool,
    },
    /// An officer wrote to the person during an alarm (shown on the alarm screen already).
    AlarmMessage {
        /// The alarm.
        view: &'a AlarmView,
        /// What the officer wrote.
        text: &'a str,
    },
    /// The connection state changed.
    Connection(Connection),
    /// A check-in changed; `phase_changed` says whether what the person should be told changed.
    Checkin {
        /// The check-in as the screen shows it.
        view: &'a CheckinView,
        /// Whether its phase changed.
        phase_changed: bool,
    },
    /// Where sync stands changed (queue, progress, a refusal).
    Sync(&'a SyncView),
    /// Queued reports have been received by the region (this many since the last time).
    ReportsDelivered(u32),
    /// The region's follow-up of a report changed (taken, a message, closed).
    FollowedUp {
        /// The report.
        id: Uuid,
        /// Where it stands now.
        followup: &'a Followup,
    },
    /// The region profile changed (a newer one adopted, or an offered one refused).
    ProfileChanged,
    /// A planned appearance needs its risk inventory (missing, or it advises measures).
    Reminder {
        /// The appearance.
        appearance: &'a Appearance,
        /// Why.
        why: Reminder,
    },
}

/// Who hears about changes: the window (events, desktop notifications) or a test.
pub trait Observer: Send + Sync + 'static {
    /// Something happened.
    fn event(&self, event: Event<'_>);
}

/// An observer that hears nothing (tests, benchmarks, the command line).
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: Event<'_>) {}
}

/// Forwards to the window once it exists (the service starts before the window does).
#[derive(Default)]
pub struct ObserverSlot(OnceLock<Box<dyn Observer>>);

impl ObserverSlot {
    /// Connects the window.
    pub fn set(&self, o: Box<dyn Observer>) {
        let _ = self.0.set(o);
    }
}

impl Observer for ObserverSlot {
    fn event(&self, event: Event<'_>) {
        if let Some(o) = self.0.get() {
            o.event(event);
        }
    }
}
