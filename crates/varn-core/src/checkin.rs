//! The check-in timer as the app keeps it: "Jag är på plats – checka ut senast kl …". Sent to
//! the region the same durable way as an alarm (whole state, a revision per extension), so
//! the server can raise the alarm itself if the person never checks out.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::{CheckinReceipt, CheckinRequest, CheckinStatus, CheckoutOutcome};

/// Without a receipt for this long the screen says the region has not got the check-in.
pub const UNCONFIRMED_AFTER_SECS: i64 = 15;
/// How long before the deadline the app asks the person to check out.
pub const ASK_BEFORE_MINUTES: i64 = 5;

/// A check-in as stored in the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCheckin {
    /// Client-generated UUIDv7.
    pub id: Uuid,
    /// The meeting.
    pub meeting: String,
    /// The place.
    pub place: String,
    /// When the person checked in.
    pub started_at: DateTime<Utc>,
    /// When the person must have checked out.
    pub deadline: DateTime<Utc>,
    /// Grows with every extension.
    pub revision: u32,
    /// The server's latest receipt.
    pub receipt: Option<CheckinReceipt>,
    /// The check-out, once the person has made it.
    pub checkout: Option<(DateTime<Utc>, CheckoutOutcome)>,
}

/// What the check-in card shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckinPhase {
    /// Being sent; not yet confirmed.
    Sending,
    /// No receipt after [`UNCONFIRMED_AFTER_SECS`]: the region does not know — call 112 if needed.
    Unconfirmed,
    /// The region holds it (with this deadline).
    Active,
    /// Less than [`ASK_BEFORE_MINUTES`] left: time to check out or extend.
    Due,
    /// The deadline passed without a check-out: the region has raised an alarm.
    Overdue,
    /// Checked out; being sent.
    CheckingOut,
    /// Checked out and the region has it.
    Done,
}

/// What to send next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckinStep {
    /// `PUT` the current revision.
    Send,
    /// `POST` the check-out.
    Checkout,
    /// Ask the server again at this time (the deadline), to learn whether it turned overdue.
    WaitUntil(DateTime<Utc>),
    /// Nothing more.
    Done,
}

impl LocalCheckin {
    /// The request for the current revision.
    pub fn request(&self) -> CheckinRequest {
        CheckinRequest {
            started_at: self.started_at,
            deadline: self.deadline,
            meeting: self.meeting.clone(),
            place: self.place.clone(),
            revision: self.revision,
        }
    }

    /// Whether the server has this revision.
    fn confirmed(&self) -> bool {
        self.receipt
            .as_ref()
            .is_some_and(|r| r.revision >= self.revision || r.status != CheckinStatus::Active)
    }

    /// The phase at `now`.
    pub fn phase(&self, now: DateTime<Utc>) -> CheckinPhase {
        let server = self.receipt.as_ref().map(|r| r.status);
        if server == Some(CheckinStatus::Overdue) {
            return CheckinPhase::Overdue;
        }
        if self.checkout.is_some() {
            return if self
                .receipt
                .as_ref()
                .is_some_and(|r| r.checked_out_at.is_some())
            {
                CheckinPhase::Done
            } else {
                CheckinPhase::CheckingOut
            };
        }
        if !self.confirmed() {
            return if now - self.started_at >= Duration::seconds(UNCONFIRMED_AFTER_SECS) {
                CheckinPhase::Unconfirmed
            } else {
                CheckinPhase::Sending
            };
        }
        if now >= self.deadline {
            // The server decides; until it answers, say what will happen.
            CheckinPhase::Overdue
        } else if self.deadline - now <= Duration::minutes(ASK_BEFORE_MINUTES) {
            CheckinPhase::Due
        } else {
            CheckinPhase::Active
        }
    }

    /// The next thing to send.
    pub fn next_step(&self) -> CheckinStep {
        let r = self.receipt.as_ref();
        if r.is_some_and(|r| r.checked_out_at.is_some()) {
            return CheckinStep::Done;
        }
        if !self.confirmed() {
            return CheckinStep::Send;
        }
        if self.checkout.is_some() {
            return CheckinStep::Checkout;
        }
        if r.is_some_and(|r| r.status == CheckinStatus::Overdue) {
            // The alarm is the server's now; the person checks out when they can.
            return CheckinStep::WaitUntil(self.deadline + Duration::days(1));
        }
        CheckinStep::WaitUntil(self.deadline)
    }

    /// Takes a receipt unless it is older than the one held.
    pub fn apply(&mut self, receipt: CheckinReceipt) -> bool {
        let newer = self.receipt.as_ref().is_none_or(|r| {
            receipt.revision > r.revision
                || receipt.status != r.status
                || receipt.checked_out_at != r.checked_out_at
        });
        if newer {
            self.receipt = Some(receipt);
        }
        newer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + m * 60, 0).unwrap()
    }

    fn checkin() -> LocalCheckin {
        LocalCheckin {
            id: Uuid::now_v7(),
            meeting: "Möte".into(),
            place: "Sal".into(),
            started_at: at(0),
            deadline: at(60),
            revision: 1,
            receipt: None,
            checkout: None,
        }
    }

    fn receipt(k: &LocalCheckin, status: CheckinStatus) -> CheckinReceipt {
        CheckinReceipt {
            id: k.id,
            status,
            deadline: k.deadline,
            revision: k.revision,
            received_at: k.started_at,
            checked_out_at: None,
            alarm_id: None,
        }
    }

    #[test]
    fn a_check_in_goes_sending_active_due_and_out() {
        let mut k = checkin();
        assert_eq!(k.next_step(), CheckinStep::Send);
        assert_eq!(k.phase(at(0)), CheckinPhase::Sending);
        assert_eq!(k.phase(at(1)), CheckinPhase::Unconfirmed);
        k.apply(receipt(&k, CheckinStatus::Active));
        assert_eq!(k.phase(at(10)), CheckinPhase::Active);
        assert_eq!(k.phase(at(55)), CheckinPhase::Due);
        assert_eq!(k.next_step(), CheckinStep::WaitUntil(at(60)));
        // Extended: the new revision must reach the server.
        k.deadline = at(90);
        k.revision = 2;
        assert_eq!(k.next_step(), CheckinStep::Send);
        let mut r = receipt(&k, CheckinStatus::Active);
        k.apply(r.clone());
        assert_eq!(k.phase(at(60)), CheckinPhase::Active);
        k.checkout = Some((at(70), CheckoutOutcome::Calm));
        assert_eq!(k.phase(at(70)), CheckinPhase::CheckingOut);
        assert_eq!(k.next_step(), CheckinStep::Checkout);
        r.status = CheckinStatus::CheckedOut;
        r.checked_out_at = Some(at(70));
        assert!(k.apply(r));
        assert_eq!(k.phase(at(70)), CheckinPhase::Done);
        assert_eq!(k.next_step(), CheckinStep::Done);
    }

    #[test]
    fn a_missed_deadline_shows_overdue_and_a_late_check_out_is_still_sent() {
        let mut k = checkin();
        k.apply(receipt(&k, CheckinStatus::Active));
        assert_eq!(k.phase(at(61)), CheckinPhase::Overdue);
        k.apply(receipt(&k, CheckinStatus::Overdue));
        k.checkout = Some((at(65), CheckoutOutcome::Incident));
        assert_eq!(k.phase(at(65)), CheckinPhase::Overdue, "the alarm stands");
        assert_eq!(k.next_step(), CheckinStep::Checkout);
    }
}
