//! The panic path: an alarm is written durably to the local database first, then a driver
//! sends it to the region server and keeps at it — retrying with backoff and jitter, waiting
//! for the officer's acknowledgement, delivering a cancel — until the server has all of it.
//! Drivers restart for every unfinished alarm when the app starts, so a crash or kill loses
//! nothing, and the alarm's client-generated id makes every retry safe.
//!
//! Plain Rust on a tokio runtime: the app wires it to the window through
//! [`crate::events::Observer`], tests and the benchmark call it directly. It talks to the
//! server through the [`LinkService`], which it shares with check-ins and sync.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use uuid::Uuid;
pub use varn_core::alarm::AlarmView;
use varn_core::alarm::{Backoff, Blocked, LocalAlarm, Phase, Step, UNCONFIRMED_AFTER};
use varn_core::wire::{AlarmRequest, CancelRequest, MessageFrom, MessageRequest, TimelineEntry};

use crate::events::{Event, Observer};
use crate::link::client::RegionClient;
use crate::link::LinkService;
use crate::runners::drivers::{Driven, Runners, Turn};
use crate::storage::{Db, StorageError};

/// The reason sent with a cancel from the app.
pub const CANCEL_REASON: &str = "Falsklarm – avbrutet i appen";
/// Why an alarm command failed.
#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    /// The database failed; the alarm may not be stored.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// No such alarm.
    #[error("no alarm {0}")]
    NotFound(Uuid),
    /// The region server could not be asked (the timeline lives there).
    #[error("the region server did not answer: {0}")]
    Server(String),
    /// Nothing can be written on this alarm now (not received yet, cancelled, or over).
    #[error("det går inte att skriva till regionen om det här larmet nu / nothing can be written on this alarm now")]
    CannotWrite,
    /// What was written cannot be sent as it is.
    #[error("{0}")]
    Invalid(String),
}

/// Sends alarms.
pub struct AlarmService {
    db: Arc<Db>,
    link: Arc<LinkService>,
    observer: Arc<dyn Observer>,
    runners: Runners<Phase>,
}

impl AlarmService {
    /// A service on `runtime`; call [`AlarmService::start`] to resume unfinished alarms.
    pub fn new(
        db: Arc<Db>,
        link: Arc<LinkService>,
        observer: Arc<dyn Observer>,
        runtime: tokio::runtime::Handle,
    ) -> Arc<AlarmService> {
        Arc::new(AlarmService {
            db,
            link,
            observer,
            runners: Runners::new(runtime),
        })
    }

    /// Resumes every alarm not yet settled (after a crash or restart).
    pub fn start(self: &Arc<Self>) -> Result<(), StorageError> {
        let now = Utc::now();
        for a in self.db.alarms(100)? {
            if a.next_step(now) != Step::Done {
                self.ensure_driver(a.id);
            }
        }
        Ok(())
    }

    /// Raises an alarm: durable in the local database when this returns, then sent.
    pub fn raise(
        self: &Arc<Self>,
        meeting: String,
        place: String,
    ) -> Result<AlarmView, AlarmError> {
        self.raise_as(meeting, place, false)
    }

    /// Sends a drill ("Testlarm") the same way: stored, sent, received, acknowledged, shown
    /// as TEST everywhere and never escalated.
    pub fn drill(
        self: &Arc<Self>,
        meeting: String,
        place: String,
    ) -> Result<AlarmView, AlarmError> {
        self.raise_as(meeting, place, true)
    }

    fn raise_as(
        self: &Arc<Self>,
        meeting: String,
        place: String,
        drill: bool,
    ) -> Result<AlarmView, AlarmError> {
        // Durable when the write below returns, a fraction of a millisecond after `now`.
        let mut a = LocalAlarm::new(Utc::now(), meeting, place, drill);
        self.db.save_alarm(&mut a)?;
        tracing::info!(alarm = %a.id, "alarm stored locally");
        let view = self.publish(&a, true);
        self.ensure_driver(a.id);
        // Tell the person at 15 s if no receipt has come, even while a request hangs.
        let (me, id) = (self.clone(), a.id);
        self.runners.runtime().spawn(async move {
            tokio::time::sleep(UNCONFIRMED_AFTER + Duration::from_millis(50)).await;
            if let Ok(Some(a)) = me.db.alarm(id) {
                me.publish(&a, false);
            }
        });
        Ok(view)
    }

    /// Asks to cancel an alarm (false alarm): durable first, then sent like the alarm itself.
    /// With `duress` (the duress PIN) the screen shows the same cancel, but the server keeps
    /// the alarm open and marks it as under duress. The first cancel asked for stands.
    pub fn cancel(self: &Arc<Self>, id: Uuid, duress: bool) -> Result<AlarmView, AlarmError> {
        let mut a = self.db.alarm(id)?.ok_or(AlarmError::NotFound(id))?;
        if a.cancel_requested_at.is_none() {
            a.cancel_requested_at = Some(Utc::now());
            a.duress = duress;
            self.db.save_alarm(&mut a)?;
        }
        let view = self.publish(&a, true);
        self.poke();
        self.ensure_driver(id);
        Ok(view)
    }

    /// The person writes to the region during the alarm (a quick answer or their own
    /// words): durable when this returns, then sent after the alarm and any cancel.
    pub fn send_message(self: &Arc<Self>, id: Uuid, text: &str) -> Result<AlarmView, AlarmError> {
        let mut a = self
            .db
            .alarm(id)?
            .filter(|a| !a.silent)
            .ok_or(AlarmError::NotFound(id))?;
        if !a.can_write(Utc::now()) {
            return Err(AlarmError::CannotWrite);
        }
        let text =
            varn_core::wire::message_text(text).map_err(|e| AlarmError::Invalid(e.to_string()))?;
        let m = varn_core::alarm::PendingMessage {
            id: Uuid::now_v7(),
            text,
            created_at: Utc::now(),
        };
        self.db.add_alarm_message(id, &m)?;
        a.pending_messages.push(m);
        // A new revision, so the screen takes the view with the message on its way.
        self.save(&mut a);
        let view = self.publish(&a, false);
        self.poke();
        self.ensure_driver(id);
        Ok(view)
    }

    /// The duress PIN was entered where the person is being watched (the lock screen, a PIN
    /// form, quitting): the alarm on screen, if one is still running, is cancelled under
    /// duress (the screen shows a plain cancel); otherwise a new alarm goes out silently,
    /// already cancelled under duress, and is never shown or notified on this device. Either
    /// way the region gets an alarm marked *under duress* that stays open until an officer
    /// takes it. Durable when this returns.
    pub fn silent_duress(
        self: &Arc<Self>,
        meeting: String,
        place: String,
    ) -> Result<(), AlarmError> {
        if let Some(open) = self.active()?.filter(|v| v.phase != Phase::Cancelling) {
            if !open.drill {
                self.cancel(open.id, true)?;
                return Ok(());
            }
        }
        let now = Utc::now();
        let mut a = LocalAlarm {
            cancel_requested_at: Some(now),
            duress: true,
            silent: true,
            ..LocalAlarm::new(now, meeting, place, false)
        };
        self.db.save_alarm(&mut a)?;
        // No id or place in the log either: the log is no place to learn of a duress.
        tracing::info!("alarm stored locally");
        self.ensure_driver(a.id);
        Ok(())
    }

    /// Waits (at most `limit`) until no alarm is left to send: every one settled.
    pub async fn wait_until_settled(&self, limit: Duration) {
        let until = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < until {
            match self.db.alarms(100) {
                Ok(all) if all.iter().all(LocalAlarm::settled) => return,
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// The alarm's timeline as the region holds it (for an alarm cancelled under duress,
    /// the server's version ends with the cancel).
    pub async fn timeline(&self, id: Uuid) -> Result<Vec<TimelineEntry>, AlarmError> {
        self.db.alarm(id)?.ok_or(AlarmError::NotFound(id))?;
        let client = self
            .link
            .client()
            .map_err(|b| AlarmError::Server(b.as_str().to_string()))?;
        client
            .timeline(id)
            .await
            .map_err(|e| AlarmError::Server(e.to_string()))
    }

    /// One alarm as the screen shows it (a silent one does not exist here).
    pub fn view(&self, id: Uuid) -> Result<AlarmView, AlarmError> {
        let a = self
            .db
            .alarm(id)?
            .filter(|a| !a.silent)
            .ok_or(AlarmError::NotFound(id))?;
        Ok(self.view_of(&a))
    }

    fn view_of(&self, a: &LocalAlarm) -> AlarmView {
        AlarmView::of(a, Utc::now(), self.link.host())
            .knowing_the_link_is_down(self.link.known_down())
    }

    /// The newest alarm that still needs the person's attention (not cancelled), if any was
    /// raised in the last 12 hours. Silent alarms are never it.
    pub fn active(&self) -> Result<Option<AlarmView>, AlarmError> {
        let now = Utc::now();
        Ok(self
            .db
            .alarms(20)?
            .into_iter()
            .find(|a| !a.silent)
            .filter(|a| a.is_open(now))
            .map(|a| self.view_of(&a)))
    }

    /// Whether any alarm is open ([`LocalAlarm::is_open`]), a silent duress alarm included:
    /// an update must not restart the app under it.
    pub fn any_open(&self) -> Result<bool, AlarmError> {
        let now = Utc::now();
        Ok(self.db.alarms(20)?.into_iter().any(|a| a.is_open(now)))
    }

    /// The link or the keychain changed: the link forgets its client, and every alarm not
    /// yet settled is looked at again at once.
    pub fn link_changed(self: &Arc<Self>) {
        self.link.relinked();
        self.poke();
        if let Ok(alarms) = self.db.alarms(100) {
            for a in alarms.into_iter().filter(|a| !a.settled()) {
                self.ensure_driver(a.id);
            }
        }
    }

    fn poke(&self) {
        self.runners.poke();
    }

    /// Tells the observer (never about a silent alarm); returns the view.
    fn publish(&self, a: &LocalAlarm, force: bool) -> AlarmView {
        let view = self.view_of(a);
        if a.silent {
            return view;
        }
        let changed = self.runners.phase_changed(a.id, view.phase);
        if changed || force {
            self.observer.event(Event::Alarm {
                view: &view,
                phase_changed: changed,
            });
        }
        view
    }

    fn ensure_driver(self: &Arc<Self>, id: Uuid) {
        self.runners.ensure(self.clone(), id, Backoff::for_alarm());
    }

    fn message_done(&self, id: Uuid, refused: Option<&str>) {
        if let Err(e) = self.db.message_done(id, refused) {
            tracing::error!("recording a sent message failed: {e}");
        }
    }

    fn save(&self, a: &mut LocalAlarm) {
        if let Err(e) = self.db.save_alarm(a) {
            tracing::error!(alarm = %a.id, "saving the alarm failed: {e}");
        }
    }
}

/// The alarm's steps for the one driver loop ([`drivers::drive`]).
impl Driven for AlarmService {
    type Item = LocalAlarm;
    type Step = Step;
    type Receipt = varn_core::wire::AlarmReceipt;
    const WHAT: &'static str = "alarm";

    fn link(&self) -> &LinkService {
        &self.link
    }

    fn load(&self, id: Uuid) -> Result<Option<LocalAlarm>, StorageError> {
        self.db.alarm(id)
    }

    fn publish(&self, a: &LocalAlarm) {
        AlarmService::publish(self, a, false);
    }

    fn step(&self, a: &LocalAlarm) -> Option<Step> {
        Some(a.next_step(Utc::now())).filter(|s| *s != Step::Done)
    }

    fn blocked(&self, a: &mut LocalAlarm, why: Blocked) {
        if a.blocked != Some(why) {
            a.blocked = Some(why);
            self.save(a);
            AlarmService::publish(self, a, true);
        }
    }

    fn refused(&self, a: &mut LocalAlarm) {
        if a.receipt.is_none() && a.blocked != Some(Blocked::TokenRefused) {
            a.blocked = Some(Blocked::TokenRefused);
            self.save(a);
            AlarmService::publish(self, a, true);
        }
    }

    async fn turn(
        &self,
        a: &mut LocalAlarm,
        step: Step,
        client: &RegionClient,
        poke: &mut watch::Receiver<u64>,
    ) -> Turn<Self::Receipt> {
        let id = a.id;
        // The person's words during an alarm go as fast as the alarm: sync waits.
        let _urgent = matches!(step, Step::Send | Step::Cancel | Step::SendMessage { .. })
            .then(|| self.link.urgent());
        let result = match step {
            Step::Send => {
                let req = AlarmRequest {
                    triggered_at: a.triggered_at,
                    meeting: a.meeting.clone(),
                    place: a.place.clone(),
                    message: String::new(),
                    drill: a.drill,
                    stored_at: a.stored_at,
                };
                client.put_alarm(id, &req).await
            }
            Step::Cancel => {
                let req = CancelRequest {
                    cancelled_at: a.cancel_requested_at.unwrap_or_else(Utc::now),
                    reason: CANCEL_REASON.into(),
                    duress: a.duress,
                };
                client.cancel_alarm(id, &req).await
            }
            Step::SendMessage { id: message } => {
                let Some(text) = a
                    .pending_messages
                    .iter()
                    .find(|m| m.id == message)
                    .map(|m| m.text.clone())
                else {
                    return Turn::Again;
                };
                let r = client
                    .put_message(id, message, &MessageRequest { text })
                    .await;
                match &r {
                    Ok(_) => self.message_done(message, None),
                    // Refused for good (the alarm is over, a conflict): said on the screen by
                    // its absence, never retried in a loop.
                    Err(e) if !e.is_retryable() && !e.is_auth() => {
                        tracing::warn!(alarm = %id, "the region refused a message: {e}");
                        self.message_done(message, Some(&e.to_string()));
                        return Turn::Again;
                    }
                    Err(_) => {}
                }
                r
            }
            Step::WaitForChange { after_version } => {
                tokio::select! {
                    r = client.wait_alarm(id, after_version) => r,
                    // A cancel or a new link: look again at once.
                    _ = poke.changed() => return Turn::Again,
                }
            }
            Step::Done => return Turn::Again,
        };
        match result {
            Ok(receipt) => Turn::Answer(receipt),
            Err(e) => Turn::Failed(e),
        }
    }

    fn answered(&self, a: &mut LocalAlarm, step: Step, receipt: Self::Receipt) -> Option<Duration> {
        let officer = |a: &LocalAlarm| {
            a.conversation()
                .into_iter()
                .filter(|m| m.from == MessageFrom::Officer)
                .collect::<Vec<_>>()
        };
        let before = officer(a).len();
        // The message just sent is no longer on its way (recorded in the turn).
        let sent = match step {
            Step::SendMessage { id: m } => {
                a.pending_messages.retain(|p| p.id != m);
                true
            }
            _ => false,
        };
        if a.apply(receipt) || sent {
            self.save(a);
            let view = AlarmService::publish(self, a, true);
            for m in officer(a).iter().skip(before) {
                self.observer.event(Event::AlarmMessage {
                    view: &view,
                    text: &m.text,
                });
            }
        }
        None
    }
}
