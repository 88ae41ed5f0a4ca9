//! What the services tell the window (events and desktop notifications) or a test: one event
//! type and one method, so a new kind of news is one variant here and one arm in
//! `ui_bridge`, not a method on every observer.

use uuid::Uuid;
use varn_core::alarm::AlarmView;
use varn_core::appearance::{Appearance, Reminder};
use varn_core::wire::Followup;

use crate::checkin::CheckinView;
use crate::link::Connection;
use crate::sync::SyncView;

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
