//! The embedded SQLite store: WAL, `synchronous=FULL`, numbered migrations.
//!
//! All writes go through one writer thread that commits them in groups: it takes every request
//! waiting, runs each in its own savepoint (so one failing request does not undo the others),
//! commits once, and only then answers them. Many requests share one fsync, and no request is
//! answered before its data is on disk. Reads use separate connections, which WAL allows to run
//! beside the writer.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use varn_core::sqlite as core_sqlite;
use varn_core::wire::{
    AlarmRequest, AlarmStatus, AttachmentMeta, CancelRequest, CheckinRequest, CheckinStatus,
    CheckoutRequest, EventKind, ReportReceipt, ReportRequest, Role, UploadStatus,
};

use varn_core::stats::{consequences_column, consequences_from_column, AlarmFacts, ReportFacts};
use varn_core::wire::{AlarmMessage, FollowupState, IncidentReport, MessageFrom, TimelineEntry};

use crate::store::rules::*;
use crate::store::{
    Alarm, AlarmEvent, Attachment, AuditEntry, AuditQuery, CentreEvent, CentreStatus, Checkin,
    ChunkVerdict, Cutoffs, Device, FollowupChange, Officer, Purged, Release, Report, Store,
    StoreError,
};

mod access;
mod alarms;
mod centre;
mod checkins;
mod files;
mod followup;
mod reports;

pub(crate) use followup::insert_audit;

use alarms::*;
use files::*;
use reports::*;

/// The most requests committed together.
const MAX_BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write request. Called with the connection it runs; called with `None` it does not run
/// and only reports that it could not (so nothing ever runs outside a transaction).
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// SQLite behind [`Store`].
pub struct SqliteStore {
    writer: Mutex<mpsc::Sender<Job>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Readers>,
    path: PathBuf,
    feed: crate::store::AlarmFeed,
}

/// The read-only connections: idle ones for the next read, a count of those in use, and
/// whether the store is closed (then a read is refused and a returned connection dropped).
#[derive(Default)]
struct Readers {
    pool: Mutex<ReaderPool>,
    returned: std::sync::Condvar,
}

#[derive(Default)]
struct ReaderPool {
    idle: Vec<Connection>,
    busy: usize,
    closed: bool,
}

impl Readers {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReaderPool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection (`Some(None)`: open a new one), or `None` when closed.
    fn take(&self) -> Option<Option<Connection>> {
        let mut pool = self.lock();
        if pool.closed {
            return None;
        }
        pool.busy += 1;
        Some(pool.idle.pop())
    }

    /// A read is done with `conn` (`None`: it could not be opened).
    fn give_back(&self, conn: Option<Connection>) {
        let mut pool = self.lock();
        pool.busy -= 1;
        if let Some(c) = conn.filter(|_| !pool.closed) {
            pool.idle.push(c);
        }
        self.returned.notify_all();
    }

    /// Refuses new reads, drops the idle connections and waits (up to 5 s) for the reads in
    /// flight to give theirs back, which are then dropped.
    fn close(&self) {
        let mut pool = self.lock();
        pool.closed = true;
        pool.idle.clear();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while pool.busy > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            pool = self
                .returned
                .wait_timeout(pool, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close_now();
    }
}

/// Stored timestamps: UTC, RFC 3339 with microseconds, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn parse_uuid(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_ts(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

fn parse_role(s: &str) -> rusqlite::Result<Role> {
    Role::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {s}").into(),
        )
    })
}

fn parse_status(s: &str) -> rusqlite::Result<AlarmStatus> {
    stored_alarm_status(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown status {s}").into(),
        )
    })
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it and starts the writer.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = core_sqlite::open_durable(path)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        core_sqlite::migrate(&mut conn, &super::migrations::sqlite())
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        backfill_facts(&conn)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("varn-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError::Backend(format!("writer thread: {e}")))?;
        Ok(SqliteStore {
            writer: Mutex::new(tx),
            writer_thread: Mutex::new(Some(thread)),
            readers: Arc::new(Readers::default()),
            path: path.to_path_buf(),
            feed: Default::default(),
        })
    }

    /// Closes every connection: the readers (waiting for those in flight), then the writer,
    /// which finishes what it was given. The writer's connection closing last folds the WAL
    /// into the database and removes it, so a stopped server leaves one file (which `restore`
    /// requires). Reads and writes after this fail.
    fn close_now(&self) {
        let thread = self
            .writer_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // The readers first: a read-only connection closing last cannot fold the WAL in.
        self.readers.close();
        // The only sender of the writer's channel is replaced; its loop ends when drained,
        // and its connection, the last, checkpoints and removes the WAL.
        *self.writer.lock().unwrap_or_else(|p| p.into_inner()) = mpsc::channel().0;
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let res = match conn {
                Some(conn) => f(conn),
                None => Err(StoreError::Backend("the write could not run".into())),
            };
            let ok = res.is_ok();
            let finish: Finish = Box::new(move |commit| {
                let out = match commit {
                    Ok(()) => res,
                    Err(e) => Err(StoreError::Backend(e)),
                };
                let _ = tx.send(out);
            });
            (ok, finish)
        });
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| StoreError::Backend("the database writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the write was lost (internal error)".into()))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers
                .take()
                .ok_or_else(|| StoreError::Backend("the database is closed".into()))?;
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let opened = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .and_then(|c| {
                        c.busy_timeout(std::time::Duration::from_secs(5))?;
                        Ok(c)
                    });
                    match opened {
                        Ok(c) => c,
                        Err(e) => {
                            readers.give_back(None);
                            return Err(e.into());
                        }
                    }
                }
            };
            let out = f(&conn);
            readers.give_back(Some(conn));
            out
        })
        .await
        .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Nothing ran; every waiting request hears why.
            for job in batch {
                let (_, finish) = job(None);
                finish(Err(format!("could not start a transaction: {e}")));
            }
            let _ = conn.execute_batch("ROLLBACK");
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        for job in batch {
            if conn.execute_batch("SAVEPOINT job").is_err() {
                let (_, finish) = job(None);
                finishes.push(finish);
                continue;
            }
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Some(&conn))));
            match run {
                Ok((true, finish)) => {
                    let _ = conn.execute_batch("RELEASE job");
                    finishes.push(finish);
                }
                Ok((false, finish)) => {
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                    finishes.push(finish);
                }
                Err(_) => {
                    // The request's answer was lost with the panic; its caller hears
                    // "write lost". The batch goes on without its changes.
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                    tracing::error!("a storage job panicked; its changes were rolled back");
                }
            }
        }
        match conn.execute_batch("COMMIT") {
            Ok(()) => finishes.into_iter().for_each(|f| f(Ok(()))),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                let msg = format!("commit failed: {e}");
                tracing::error!("{msg}");
                finishes.into_iter().for_each(|f| f(Err(msg.clone())));
            }
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        self.close_now();
    }

    fn alarm_changes(&self) -> tokio::sync::broadcast::Receiver<Arc<crate::store::Alarm>> {
        self.feed.subscribe()
    }
}
