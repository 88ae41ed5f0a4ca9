//! The check-in timer: "Jag är på plats – checka ut senast kl …". Written durably first, then
//! sent to the region (whole state, a revision per extension) and kept in step until the
//! check-out has arrived — retrying with backoff, resuming after a restart — because the
//! server raises the alarm itself when the deadline passes without a check-out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;
use varn_core::alarm::Backoff;
use varn_core::checkin::{CheckinPhase, CheckinStep, LocalCheckin};
use varn_core::wire::{CheckoutOutcome, CheckoutRequest};

use crate::events::{Event, Observer};
use crate::link::client::RegionClient;
use crate::link::LinkService;
use crate::runners::drivers::{Driven, Runners, Turn};
use crate::storage::{Db, StorageError};

/// The shortest and longest check-in, in minutes.
pub const MINUTES: std::ops::RangeInclusive<u32> = 1..=24 * 60;
/// How often a running check-in looks at the clock (for the "time to check out" turn).
const LOOK_EVERY: Duration = Duration::from_secs(5);

pub use crate::events::CheckinView;

impl CheckinView {
    /// The view at `now`.
    pub fn of(k: &LocalCheckin, now: DateTime<Utc>) -> CheckinView {
        CheckinView {
            id: k.id,
            phase: k.phase(now),
            meeting: k.meeting.clone(),
            place: k.place.clone(),
            started_at: k.started_at,
            deadline: k.deadline,
            received_at: k.receipt.as_ref().map(|r| r.received_at),
            alarm_id: k.receipt.as_ref().and_then(|r| r.alarm_id),
            revision: k.revision,
        }
    }
}

/// Why a check-in command failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// No such check-in.
    #[error("no check-in {0}")]
    NotFound(Uuid),
    /// Minutes outside [`MINUTES`].
    #[error("a check-in lasts 1 minute to 24 hours")]
    Minutes,
    /// It is already checked out.
    #[error("already checked out")]
    Finished,
}

/// Runs check-ins.
pub struct CheckinService {
    db: Arc<Db>,
    link: Arc<LinkService>,
    observer: Arc<dyn Observer>,
    runners: Runners<CheckinPhase>,
}

impl CheckinService {
    /// A service; [`CheckinService::start`] resumes unfinished check-ins.
    pub fn new(
        db: Arc<Db>,
        link: Arc<LinkService>,
        observer: Arc<dyn Observer>,
        runtime: tokio::runtime::Handle,
    ) -> Arc<Self> {
        Arc::new(CheckinService {
            db,
            link,
            observer,
            runners: Runners::new(runtime),
        })
    }

    /// Resumes every check-in not yet finished.
    pub fn start(self: &Arc<Self>) -> Result<(), StorageError> {
        for k in self.db.checkins(20)? {
            if k.next_step() != CheckinStep::Done {
                self.ensure_driver(k.id);
            }
        }
        Ok(())
    }

    /// Checks in for `minutes`: durable when this returns, then sent.
    pub fn check_in(
        self: &Arc<Self>,
        meeting: String,
        place: String,
        minutes: u32,
    ) -> Result<CheckinView, CheckinError> {
        if !MINUTES.contains(&minutes) {
            return Err(CheckinError::Minutes);
        }
        let now = Utc::now();
        let k = LocalCheckin {
            id: Uuid::now_v7(),
            meeting,
            place,
            started_at: now,
            deadline: now + chrono::Duration::minutes(minutes.into()),
            revision: 1,
            receipt: None,
            checkout: None,
        };
        self.db.save_checkin(&k)?;
        let view = self.publish(&k, true);
        self.ensure_driver(k.id);
        Ok(view)
    }

    /// Moves the deadline `minutes` further (from the later of now and the deadline).
    pub fn extend(self: &Arc<Self>, id: Uuid, minutes: u32) -> Result<CheckinView, CheckinError> {
        if !MINUTES.contains(&minutes) {
            return Err(CheckinError::Minutes);
        }
        let mut k = self.db.checkin(id)?.ok_or(CheckinError::NotFound(id))?;
        if k.checkout.is_some() {
            return Err(CheckinError::Finished);
        }
        let from = k.deadline.max(Utc::now());
        k.deadline = from + chrono::Duration::minutes(minutes.into());
        k.revision += 1;
        self.db.save_checkin(&k)?;
        let view = self.publish(&k, true);
        self.wake(id);
        Ok(view)
    }

    /// Checks out ("allt lugnt" or "något hände"); durable first, then sent.
    pub fn check_out(
        self: &Arc<Self>,
        id: Uuid,
        outcome: CheckoutOutcome,
    ) -> Result<CheckinView, CheckinError> {
        let mut k = self.db.checkin(id)?.ok_or(CheckinError::NotFound(id))?;
        if k.checkout.is_none() {
            k.checkout = Some((Utc::now(), outcome));
            self.db.save_checkin(&k)?;
        }
        let view = self.publish(&k, true);
        self.wake(id);
        Ok(view)
    }

    /// The check-in that still needs the person (not checked out), if any.
    pub fn active(&self) -> Result<Option<CheckinView>, CheckinError> {
        let now = Utc::now();
        Ok(self
            .db
            .checkins(1)?
            .into_iter()
            .find(|k| k.checkout.is_none() && now - k.deadline < chrono::Duration::hours(12))
            .map(|k| CheckinView::of(&k, now)))
    }

    /// One check-in.
    pub fn view(&self, id: Uuid) -> Result<CheckinView, CheckinError> {
        let k = self.db.checkin(id)?.ok_or(CheckinError::NotFound(id))?;
        Ok(CheckinView::of(&k, Utc::now()))
    }

    fn wake(self: &Arc<Self>, id: Uuid) {
        self.runners.poke();
        self.ensure_driver(id);
    }

    fn publish(&self, k: &LocalCheckin, force: bool) -> CheckinView {
        let view = CheckinView::of(k, Utc::now());
        let changed = self.runners.phase_changed(k.id, view.phase);
        if changed || force {
            self.observer.event(Event::Checkin {
                view: &view,
                phase_changed: changed,
            });
        }
        view
    }

    fn ensure_driver(self: &Arc<Self>, id: Uuid) {
        self.runners.ensure(self.clone(), id, Backoff::for_alarm());
    }
}

/// The check-in's steps for the one driver loop ([`drivers::drive`]).
impl Driven for CheckinService {
    type Item = LocalCheckin;
    type Step = CheckinStep;
    type Receipt = varn_core::wire::CheckinReceipt;
    const WHAT: &'static str = "check-in";

    fn link(&self) -> &LinkService {
        &self.link
    }

    fn load(&self, id: Uuid) -> Result<Option<LocalCheckin>, StorageError> {
        self.db.checkin(id)
    }

    fn publish(&self, k: &LocalCheckin) {
        CheckinService::publish(self, k, false);
    }

    fn step(&self, k: &LocalCheckin) -> Option<CheckinStep> {
        Some(k.next_step()).filter(|s| *s != CheckinStep::Done)
    }

    fn not_yet(&self, step: CheckinStep) -> Option<Duration> {
        match step {
            CheckinStep::WaitUntil(t) if Utc::now() < t => Some(LOOK_EVERY),
            _ => None,
        }
    }

    async fn turn(
        &self,
        k: &mut LocalCheckin,
        step: CheckinStep,
        client: &RegionClient,
        _poke: &mut watch::Receiver<u64>,
    ) -> Turn<Self::Receipt> {
        let id = k.id;
        let result = match step {
            CheckinStep::Send => client.put_checkin(id, &k.request()).await,
            CheckinStep::Checkout => {
                let (at, outcome) = k.checkout.unwrap_or((Utc::now(), CheckoutOutcome::Calm));
                client.checkout(id, &CheckoutRequest { at, outcome }).await
            }
            // Past the deadline: has the region turned it into an alarm yet?
            CheckinStep::WaitUntil(_) => client.get_checkin(id).await,
            CheckinStep::Done => return Turn::Again,
        };
        match result {
            Ok(receipt) => Turn::Answer(receipt),
            Err(e) => Turn::Failed(e),
        }
    }

    fn answered(
        &self,
        k: &mut LocalCheckin,
        step: CheckinStep,
        receipt: Self::Receipt,
    ) -> Option<Duration> {
        if k.apply(receipt) {
            if let Err(e) = self.db.save_checkin(k) {
                tracing::error!(checkin = %k.id, "saving the check-in failed: {e}");
            }
            CheckinService::publish(self, k, true);
            None
        } else if matches!(step, CheckinStep::WaitUntil(_)) {
            // The server's check runs every second; ask again shortly.
            Some(Duration::from_secs(1))
        } else {
            None
        }
    }
}
