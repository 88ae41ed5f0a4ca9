//! Sync: the runner that empties the outbox into the region server. The decisions (what next,
//! how long to wait, what an answer means) are `varn_core::sync`; this file does the I/O and
//! records every outcome in the database in one transaction, so a kill at any moment leaves
//! each item either still queued or received — and the client-generated ids make the resend
//! after a restart harmless.
//!
//! It runs on its own HTTP client, so it never holds a connection an alarm needs, and it waits
//! while an alarm request is on the way.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::watch;
use uuid::Uuid;
use varn_core::alarm::Blocked;
use varn_core::sync::{self as plan, Disposition, ItemKind, Next, OutboxEntry};
use varn_core::wire::{AttachmentMeta, ReportRequest, MAX_CHUNK_BYTES};

use crate::events::{Event, Observer};
use crate::link::client::{ClientError, RegionClient};
use crate::link::{Connection, LinkService};
use crate::profiles::{self, ActiveProfile};
use crate::storage::{self, Db, StorageError};

/// Timings and sizes; the defaults are the product's, tests shorten them.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// First wait after a failure.
    pub retry_base: Duration,
    /// Longest wait after repeated failures.
    pub retry_max: Duration,
    /// How often a queue that cannot go is looked at again, and the profile checked.
    pub tick: Duration,
    /// Bytes per upload request.
    pub chunk: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            retry_base: plan::RETRY_BASE,
            retry_max: plan::RETRY_MAX,
            tick: plan::TICK,
            chunk: MAX_CHUNK_BYTES,
        }
    }
}

/// A debug build (the tests) may shorten the tick (in milliseconds): how soon a region's
/// follow-up or a new profile is seen. A release build always uses the default.
pub const DEV_TICK_ENV: &str = "VARN_DEV_SYNC_TICK_MS";

/// The sync settings: the defaults, with a debug build's [`DEV_TICK_ENV`].
pub fn config_from_env() -> SyncConfig {
    let mut c = SyncConfig::default();
    if cfg!(debug_assertions) {
        if let Some(ms) = std::env::var(DEV_TICK_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&ms| ms >= 100)
        {
            tracing::warn!("sync tick set to {ms} ms by {DEV_TICK_ENV} (a debug build)");
            c.tick = Duration::from_millis(ms);
        }
    }
    c
}

pub use crate::events::{Progress, SyncState, SyncView};

/// Runs sync for one database.
pub struct SyncService {
    db: Arc<Db>,
    link: Arc<LinkService>,
    observer: Arc<dyn Observer>,
    profile: Option<Arc<RwLock<ActiveProfile>>>,
    config: SyncConfig,
    poke: watch::Sender<u64>,
    /// Set when the profile should be fetched again at once (a key was just confirmed).
    recheck_profile: std::sync::atomic::AtomicBool,
    view: Mutex<SyncView>,
}

/// Why one entry did not go.
enum Outcome {
    Done,
    Failed(Disposition, String),
}

impl SyncService {
    /// A service; [`SyncService::start`] runs it on `runtime`. It talks to the server through
    /// `link`, holds back while an alarm is sent there and starts when the connection comes
    /// back; `profile` is where a newer region profile from the server goes.
    pub fn new(
        db: Arc<Db>,
        link: Arc<LinkService>,
        observer: Arc<dyn Observer>,
        profile: Option<Arc<RwLock<ActiveProfile>>>,
        config: SyncConfig,
    ) -> Arc<SyncService> {
        let counts = db.queue_counts().unwrap_or_default();
        Arc::new(SyncService {
            db,
            link,
            observer,
            profile,
            config,
            poke: watch::channel(0).0,
            recheck_profile: std::sync::atomic::AtomicBool::new(false),
            view: Mutex::new(SyncView {
                state: SyncState::Idle,
                counts,
                next_try_at: None,
                last_error: None,
                progress: None,
            }),
        })
    }

    /// Starts the runner (sync at start, then on every trigger).
    pub fn start(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        runtime.spawn(async move { me.run().await })
    }

    /// Look at the queue now, without waiting out a backoff: a report marked ready, "Skicka
    /// nu", the network back, a new link.
    pub fn trigger(&self) {
        self.poke.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Fetches the region's profile again at once, whatever its ETag (after the person
    /// confirmed the region's key, the profile refused for it is taken now).
    pub fn check_profile_now(&self) {
        self.recheck_profile
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.trigger();
    }

    /// "Skicka nu": items the server refused get another try too.
    pub fn send_now(&self) -> Result<(), StorageError> {
        self.db.outbox_retry_refused()?;
        self.trigger();
        Ok(())
    }

    /// Where sync stands.
    pub fn view(&self) -> SyncView {
        self.view.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn publish(&self, f: impl FnOnce(&mut SyncView)) {
        let view = {
            let mut v = self.view.lock().unwrap_or_else(|p| p.into_inner());
            let before = v.clone();
            if let Ok(c) = self.db.queue_counts() {
                v.counts = c;
            }
            f(&mut v);
            if *v == before {
                return;
            }
            v.clone()
        };
        self.observer.event(Event::Sync(&view));
    }

    /// Sleeps up to `d`; true when a trigger cut it short.
    async fn pause(
        &self,
        poke: &mut watch::Receiver<u64>,
        online: &mut watch::Receiver<Connection>,
        d: Duration,
    ) -> bool {
        let back_online = async {
            loop {
                if online.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
                if *online.borrow() == Connection::Online {
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => false,
            _ = poke.changed() => true,
            _ = back_online => true,
        }
    }

    async fn run(self: Arc<Self>) {
        let mut poke = self.poke.subscribe();
        let mut online = self.link.watch_connection();
        let mut failures = 0u32;
        let mut not_before: Option<DateTime<Utc>> = None;
        let mut profile_checked: Option<tokio::time::Instant> = None;
        let mut followups_checked: Option<tokio::time::Instant> = None;
        let mut profile_etag: Option<String> = self.db.setting("profile_etag").ok().flatten();
        let mut delivered = 0u32;
        loop {
            poke.borrow_and_update();
            let entries = match self.db.outbox() {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!("reading the outbox failed: {e}");
                    self.pause(&mut poke, &mut online, self.config.tick).await;
                    continue;
                }
            };
            let client = match self.link.client() {
                Ok(c) => c,
                Err(block) => {
                    self.publish(|v| {
                        v.state = match block {
                            Blocked::KeychainUnavailable => SyncState::KeychainUnavailable,
                            Blocked::TokenRefused => SyncState::DeviceRefused,
                            _ => SyncState::NotEnrolled,
                        };
                        v.next_try_at = None;
                        v.progress = None;
                    });
                    self.pause(&mut poke, &mut online, self.config.tick).await;
                    continue;
                }
            };
            let recheck = self
                .recheck_profile
                .swap(false, std::sync::atomic::Ordering::SeqCst);
            if recheck {
                profile_etag = None;
            }
            let profile_due =
                recheck || profile_checked.is_none_or(|t| t.elapsed() >= self.config.tick);
            if self.profile.is_some() && profile_due && not_before.is_none() {
                profile_checked = Some(tokio::time::Instant::now());
                self.check_profile(&client, &mut profile_etag).await;
            }
            let followups_due =
                recheck || followups_checked.is_none_or(|t| t.elapsed() >= self.config.tick);
            if followups_due && not_before.is_none() {
                followups_checked = Some(tokio::time::Instant::now());
                self.check_followups(&client).await;
            }
            match plan::next(&entries, not_before, Utc::now()) {
                Next::Idle => {
                    if delivered > 0 {
                        self.observer.event(Event::ReportsDelivered(delivered));
                        delivered = 0;
                    }
                    self.publish(|v| {
                        v.state = SyncState::Idle;
                        v.next_try_at = None;
                        v.last_error = None;
                        v.progress = None;
                    });
                    self.pause(&mut poke, &mut online, self.config.tick).await;
                }
                Next::WaitUntil(t) => {
                    self.publish(|v| {
                        v.state = SyncState::Waiting;
                        v.next_try_at = Some(t);
                        v.progress = None;
                    });
                    let d = (t - Utc::now()).to_std().unwrap_or_default();
                    if self.pause(&mut poke, &mut online, d).await {
                        // A trigger: try now, and start the backoff over.
                        not_before = None;
                        failures = 0;
                    } else {
                        not_before = None;
                    }
                }
                Next::Send(entry) => {
                    self.hold_for_alarms().await;
                    self.publish(|v| {
                        v.state = SyncState::Sending;
                        v.next_try_at = None;
                    });
                    match self.send(&client, &entry).await {
                        Ok(Outcome::Done) => {
                            failures = 0;
                            self.link.server_answered();
                            if let Ok(Some(row)) = self.db.incident(entry.incident) {
                                if row.status == varn_core::incident::Status::Received {
                                    delivered += 1;
                                }
                            }
                            self.publish(|v| v.last_error = None);
                        }
                        Ok(Outcome::Failed(d, why)) => {
                            if let Some(wait) = self
                                .failed(&entry, d, why, &mut failures, &mut poke, &mut online)
                                .await
                            {
                                not_before = Some(
                                    Utc::now()
                                        + chrono::Duration::from_std(wait).unwrap_or_default(),
                                );
                            }
                        }
                        Err(e) => {
                            tracing::error!("sync could not use the database: {e}");
                            self.pause(&mut poke, &mut online, Duration::from_secs(1))
                                .await;
                        }
                    }
                }
            }
        }
    }

    /// Records a failure; returns the queue-wide wait, if one is due.
    async fn failed(
        &self,
        entry: &OutboxEntry,
        d: Disposition,
        why: String,
        failures: &mut u32,
        poke: &mut watch::Receiver<u64>,
        online: &mut watch::Receiver<Connection>,
    ) -> Option<Duration> {
        let record = |r: Result<(), StorageError>| {
            if let Err(e) = r {
                tracing::error!("recording a sync failure failed: {e}");
            }
        };
        match d {
            Disposition::RetryLater { at_least } => {
                record(self.db.outbox_attempt_failed(entry.seq));
                *failures += 1;
                let wait = plan::retry_delay(
                    *failures,
                    at_least,
                    self.config.retry_base,
                    self.config.retry_max,
                    rand::rng().random(),
                );
                tracing::info!(seq = entry.seq, "sync will try again in {wait:?}: {why}");
                self.publish(|v| v.last_error = Some(why));
                Some(wait)
            }
            Disposition::DeviceRefused => {
                record(self.db.outbox_attempt_failed(entry.seq));
                self.link.token_refused();
                self.publish(|v| {
                    v.state = SyncState::DeviceRefused;
                    v.last_error = Some(why);
                    v.progress = None;
                });
                // Only a new link helps (a trigger); look again now and then anyway.
                self.pause(poke, online, self.config.tick).await;
                None
            }
            Disposition::RevisionTaken { current } => {
                record(self.db.report_revision_taken(entry.incident, current));
                None
            }
            Disposition::Refused(msg) => {
                tracing::warn!(seq = entry.seq, "the region server refused an item: {msg}");
                record(self.db.outbox_refused(entry.seq, &msg));
                self.publish(|_| {});
                None
            }
            // Only uploads resume or restart, inside `upload`; anywhere else it is a refusal.
            Disposition::ResumeAt { .. } | Disposition::Damaged => {
                record(self.db.outbox_refused(entry.seq, &why));
                None
            }
        }
    }

    /// Waits while an alarm request is on the way.
    async fn hold_for_alarms(&self) {
        while self.link.is_sending() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn send(
        &self,
        client: &RegionClient,
        entry: &OutboxEntry,
    ) -> Result<Outcome, StorageError> {
        match entry.kind {
            ItemKind::Report => self.send_report(client, entry.incident).await,
            ItemKind::Attachment => self.upload(client, entry.incident, entry.item).await,
        }
    }

    async fn send_report(&self, client: &RegionClient, id: Uuid) -> Result<Outcome, StorageError> {
        let Some(row) = self.db.incident(id)? else {
            return Ok(Outcome::Done); // deleted meanwhile; its entries went with it
        };
        let attachments: Vec<Uuid> = row.attachments.iter().map(|a| a.id).collect();
        let req = ReportRequest {
            revision: row.revision,
            report: row.incident.to_wire(attachments.clone()),
        };
        if let Err(e) = req.validate() {
            return Ok(Outcome::Failed(
                Disposition::Refused(e.to_string()),
                e.to_string(),
            ));
        }
        let body = serde_json::to_string(&row.incident).map_err(|e| self.db.decode_err(e))?;
        match client.put_report(id, &req).await {
            Ok(receipt) => {
                let at = receipt
                    .received_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                self.db
                    .report_received(id, row.revision, &body, &attachments, &at)?;
                tracing::info!(report = %id, revision = row.revision, "report received by the region");
                Ok(Outcome::Done)
            }
            Err(e) => Ok(failure(&e)),
        }
    }

    async fn upload(
        &self,
        client: &RegionClient,
        incident: Uuid,
        id: Uuid,
    ) -> Result<Outcome, StorageError> {
        let Some(info) = self.db.attachment_info(id)? else {
            return Ok(Outcome::Done);
        };
        let meta = AttachmentMeta {
            filename: info.filename.clone(),
            content_type: info.content_type.clone(),
            size: info.size,
            sha256: info.sha256.clone(),
        };
        let mut status = match client.put_attachment(incident, id, &meta).await {
            Ok(s) => s,
            Err(e) => return Ok(failure(&e)),
        };
        let mut damaged = 0u32;
        loop {
            self.publish(|v| {
                v.progress = Some(Progress {
                    incident,
                    sent: status.offset,
                    total: info.size,
                })
            });
            if status.complete {
                self.db.attachment_received(incident, id, &storage::now())?;
                tracing::info!(attachment = %id, bytes = info.size, "attachment received by the region");
                self.publish(|v| v.progress = None);
                return Ok(Outcome::Done);
            }
            let range = plan::chunk(status.offset, info.size, self.config.chunk as u64);
            if range.is_empty() {
                // All bytes are there but the server did not confirm: ask where it stands.
                return Ok(Outcome::Failed(
                    Disposition::RetryLater { at_least: None },
                    "the upload is not confirmed yet".into(),
                ));
            }
            let bytes =
                self.db
                    .attachment_chunk(id, range.start, (range.end - range.start) as usize)?;
            self.hold_for_alarms().await;
            status = match client.patch_chunk(id, range.start, bytes).await {
                Ok(s) => s,
                Err(e) => match plan::classify(&e.to_failure()) {
                    Disposition::ResumeAt { offset } => {
                        status.offset = offset;
                        continue;
                    }
                    Disposition::Damaged => {
                        damaged += 1;
                        if damaged >= plan::MAX_CHECKSUM_RETRIES {
                            let why = format!(
                                "\"{}\" kom fram skadad {damaged} gånger / arrived damaged {damaged} times",
                                info.filename
                            );
                            return Ok(Outcome::Failed(Disposition::Refused(why.clone()), why));
                        }
                        status.offset = 0;
                        continue;
                    }
                    _ => return Ok(failure(&e)),
                },
            };
        }
    }

    /// Asks the region how it follows up the reports it has received and not closed, and
    /// records what changed (the person is told). A failure waits for the next tick.
    async fn check_followups(&self, client: &RegionClient) {
        let ids = match self.db.awaiting_followup() {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!("reading the reports awaiting follow-up failed: {e}");
                return;
            }
        };
        // Reports the region closed longer ago than the person chose to keep them go first.
        match self.db.closed_reports_days() {
            Ok(Some(days)) => match self.db.remove_closed_reports(days, Utc::now()) {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    removed = n,
                    days,
                    "closed reports past the chosen time removed"
                ),
                Err(e) => tracing::warn!("removing closed reports failed: {e}"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!("reading how long closed reports are kept failed: {e}"),
        }
        for id in ids {
            let receipt = match client.report_receipt(id).await {
                Ok(r) => r,
                Err(e) if e.is_refusal() => {
                    self.link.token_refused();
                    return;
                }
                // Not there (the region's retention removed it after closing): the next one.
                Err(e) if !e.is_retryable() => {
                    tracing::info!(report = %id, "the region has no follow-up of the report: {e}");
                    continue;
                }
                Err(e) => {
                    tracing::info!(report = %id, "the report's follow-up could not be fetched: {e}");
                    return;
                }
            };
            let Some(followup) = receipt.followup else {
                continue;
            };
            match self.db.set_followup(id, &followup) {
                Ok(true) => {
                    tracing::info!(report = %id, state = followup.state.as_str(), "the region followed up a report");
                    self.observer.event(Event::FollowedUp {
                        id,
                        followup: &followup,
                    });
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(report = %id, "recording the follow-up failed: {e}"),
            }
        }
    }

    /// Fetches the region profile if it changed; adopts a newer one the region signed,
    /// refuses any other with a note (keeping the one in use).
    async fn check_profile(&self, client: &RegionClient, etag: &mut Option<String>) {
        let Some(profile) = &self.profile else { return };
        let (json, tag) = match client.profile(etag.as_deref()).await {
            Ok(None) => return, // 304: unchanged
            Ok(Some(x)) => x,
            Err(e) => {
                if e.is_refusal() {
                    self.link.token_refused();
                }
                tracing::info!("the region profile could not be fetched: {e}");
                return;
            }
        };
        let candidate = varn_core::signing::SignedProfile::parse(&json);
        let refused = {
            let mut active = profile.write().unwrap_or_else(|p| p.into_inner());
            active.notes.retain(|n| n.source != "server");
            profiles::offer(&self.db, &mut active, candidate, "server");
            active.notes.iter().any(|n| n.source == "server")
        };
        if refused {
            tracing::warn!("the region server offered a profile that was refused");
        } else if let Some(t) = &tag {
            // Remembered across restarts only when taken (or not newer): a refused one is
            // fetched again after a restart, so its note shows again.
            if let Err(e) = self.db.set_setting("profile_etag", t) {
                tracing::warn!("storing the profile's ETag failed: {e}");
            }
        }
        // Not fetched again (304) until it changes.
        *etag = tag;
        self.observer.event(Event::ProfileChanged);
    }
}

fn failure(e: &ClientError) -> Outcome {
    Outcome::Failed(plan::classify(&e.to_failure()), e.to_string())
}
