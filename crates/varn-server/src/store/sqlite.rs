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

use super::{
    Alarm, AlarmEvent, Attachment, AuditEntry, AuditQuery, CentreEvent, CentreStatus, Checkin,
    ChunkVerdict, Device, FollowupChange, Officer, Purged, Release, Report, Store, StoreError,
};

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
    super::stored_alarm_status(s).ok_or_else(|| {
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

const DEVICE_COLS: &str = "id, region_id, name, role, created_at, revoked_at, revoked_by";

fn device_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        name: r.get(2)?,
        role: parse_role(&r.get::<_, String>(3)?)?,
        created_at: parse_ts(&r.get::<_, String>(4)?)?,
        revoked_at: opt_ts(r.get(5)?)?,
        revoked_by: super::Revoker::parse(r.get::<_, Option<String>>(6)?.as_deref()),
    })
}

const OFFICER_COLS: &str =
    "o.id, o.region_id, o.username, o.display_name, o.password_hash, o.disabled_at";

fn officer_row(r: &Row<'_>) -> rusqlite::Result<Officer> {
    Ok(Officer {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        username: r.get(2)?,
        display_name: r.get(3)?,
        password_hash: r.get(4)?,
        disabled_at: opt_ts(r.get(5)?)?,
    })
}

const ALARM_COLS: &str = "a.id, a.region_id, a.device_id, d.name, a.triggered_at, a.received_at,
    a.meeting, a.place, a.message, a.status, a.acknowledged_at, a.acknowledged_by,
    a.cancelled_at, a.cancel_reason, a.version, a.drill, a.escalation_step, a.escalated_to,
    a.duress_at, d.instructions, a.centre_received_at, a.centre_refused_at";

fn alarm_row(r: &Row<'_>) -> rusqlite::Result<Alarm> {
    Ok(Alarm {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        device_id: parse_uuid(&r.get::<_, String>(2)?)?,
        who: r.get(3)?,
        triggered_at: parse_ts(&r.get::<_, String>(4)?)?,
        received_at: parse_ts(&r.get::<_, String>(5)?)?,
        meeting: r.get(6)?,
        place: r.get(7)?,
        message: r.get(8)?,
        status: parse_status(&r.get::<_, String>(9)?)?,
        acknowledged_at: opt_ts(r.get(10)?)?,
        acknowledged_by: r.get(11)?,
        cancelled_at: opt_ts(r.get(12)?)?,
        cancel_reason: r.get(13)?,
        version: r.get(14)?,
        drill: r.get(15)?,
        escalation_step: r.get(16)?,
        escalated_to: serde_json::from_str(&r.get::<_, String>(17)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(17, rusqlite::types::Type::Text, Box::new(e))
        })?,
        duress_at: opt_ts(r.get(18)?)?,
        instructions: r.get(19)?,
        messages: Vec::new(),
        centre_received_at: opt_ts(r.get(20)?)?,
        centre_refused_at: opt_ts(r.get(21)?)?,
    })
}

/// An alarm's conversation, oldest first.
fn messages_of(c: &Connection, alarm: Uuid) -> rusqlite::Result<Vec<AlarmMessage>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, sender, author, text, at FROM alarm_messages WHERE alarm_id = ?1
         ORDER BY at, rowid",
    )?;
    let rows = stmt.query_map([alarm.to_string()], |r| {
        let sender: String = r.get(1)?;
        Ok(AlarmMessage {
            id: parse_uuid(&r.get::<_, String>(0)?)?,
            from: MessageFrom::parse(&sender).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    format!("unknown sender {sender}").into(),
                )
            })?,
            author: r.get(2)?,
            text: r.get(3)?,
            at: parse_ts(&r.get::<_, String>(4)?)?,
        })
    })?;
    rows.collect()
}

fn with_messages(c: &Connection, mut a: Alarm) -> rusqlite::Result<Alarm> {
    a.messages = messages_of(c, a.id)?;
    Ok(a)
}

fn load_alarm(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Alarm>> {
    c.query_row(
        &format!("SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id WHERE a.id = ?1"),
        [id.to_string()],
        alarm_row,
    )
    .optional()?
    .map(|a| with_messages(c, a))
    .transpose()
}

fn add_event(
    c: &Connection,
    alarm: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    // The entry takes its region from its alarm; no alarm, no entry.
    let added = c.execute(
        "INSERT INTO alarm_events (alarm_id, region_id, at, kind, actor, detail)
         SELECT id, region_id, ?2, ?3, ?4, ?5 FROM alarms WHERE id = ?1",
        params![alarm.to_string(), ts(at), kind, actor, detail],
    )?;
    if added != 1 {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    }
    Ok(())
}

const CHECKIN_COLS: &str = "k.id, k.region_id, k.device_id, d.name, k.started_at, k.deadline,
    k.meeting, k.place, k.revision, k.status, k.received_at, k.checked_out_at, k.outcome, k.alarm_id";

fn checkin_status(s: &str) -> rusqlite::Result<CheckinStatus> {
    super::stored_checkin_status(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            9,
            rusqlite::types::Type::Text,
            format!("unknown check-in status {s}").into(),
        )
    })
}

fn checkin_row(r: &Row<'_>) -> rusqlite::Result<Checkin> {
    Ok(Checkin {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        device_id: parse_uuid(&r.get::<_, String>(2)?)?,
        who: r.get(3)?,
        started_at: parse_ts(&r.get::<_, String>(4)?)?,
        deadline: parse_ts(&r.get::<_, String>(5)?)?,
        meeting: r.get(6)?,
        place: r.get(7)?,
        revision: r.get(8)?,
        status: checkin_status(&r.get::<_, String>(9)?)?,
        received_at: parse_ts(&r.get::<_, String>(10)?)?,
        checked_out_at: opt_ts(r.get(11)?)?,
        outcome: r
            .get::<_, Option<String>>(12)?
            .as_deref()
            .map(super::stored_outcome),
        alarm_id: r
            .get::<_, Option<String>>(13)?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
    })
}

fn load_checkin(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Checkin>> {
    c.query_row(
        &format!("SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id WHERE k.id = ?1"),
        [id.to_string()],
        checkin_row,
    )
    .optional()
}

const ATTACHMENT_COLS: &str =
    "id, report_id, filename, content_type, size, sha256, received, complete_at";

fn attachment_row(r: &Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        report_id: parse_uuid(&r.get::<_, String>(1)?)?,
        filename: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        sha256: r.get(5)?,
        received: r.get::<_, i64>(6)? as u64,
        complete_at: opt_ts(r.get(7)?)?,
    })
}

/// Loads a device's own attachment with its running hash state: `NotFound` if missing,
/// `OtherDevice` if not its own.
fn own_upload(
    c: &Connection,
    device: &Device,
    id: Uuid,
) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
    let row: Option<(Attachment, String, Option<Vec<u8>>)> = c
        .query_row(
            &format!(
                "SELECT {ATTACHMENT_COLS}, device_id, hash_state FROM attachments
                 WHERE id = ?1 AND region_id = ?2"
            ),
            params![id.to_string(), device.region_id],
            |r| Ok((attachment_row(r)?, r.get(8)?, r.get(9)?)),
        )
        .optional()?;
    match row {
        None => Err(StoreError::NotFound),
        Some((_, owner, _)) if owner != device.id.to_string() => Err(StoreError::OtherDevice),
        Some((a, _, state)) => Ok((a, state)),
    }
}

/// Loads a device's own attachment.
fn own_attachment(c: &Connection, device: &Device, id: Uuid) -> Result<Attachment, StoreError> {
    own_upload(c, device, id).map(|(a, _)| a)
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

    async fn create_enrollment(
        &self,
        region_id: &str,
        name: &str,
        role: Role,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (region, name, code) = (
            region_id.to_string(),
            name.to_string(),
            code_hash.to_string(),
        );
        self.write(move |c| {
            c.execute(
                "INSERT INTO enrollment_codes (code_hash, region_id, name, role, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![code, region, name, role.as_str(), ts(now), ts(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn enroll(
        &self,
        code_hashes: &[String],
        token_hash: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError> {
        let (codes, token) = (code_hashes.to_vec(), token_hash.to_string());
        self.write(move |c| {
            let mut row: Option<(String, String, String, String, Option<String>, String)> = None;
            for code in &codes {
                row = c
                    .query_row(
                        "SELECT region_id, name, role, expires_at, used_at, code_hash
                         FROM enrollment_codes WHERE code_hash = ?1",
                        [code],
                        |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                            ))
                        },
                    )
                    .optional()?;
                if row.is_some() {
                    break;
                }
            }
            let Some((region, name, role, expires, used, code)) = row else {
                return Err(StoreError::CodeUnknown);
            };
            if used.is_some() {
                return Err(StoreError::CodeUsed);
            }
            if parse_ts(&expires)? <= now {
                return Err(StoreError::CodeExpired);
            }
            c.execute(
                "INSERT INTO devices (id, region_id, name, role, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![device_id.to_string(), region, name, role, token, ts(now)],
            )?;
            c.execute(
                "UPDATE enrollment_codes SET used_at = ?1, device_id = ?2 WHERE code_hash = ?3",
                params![ts(now), device_id.to_string(), code],
            )?;
            Ok(Device {
                id: device_id,
                region_id: region,
                name,
                role: parse_role(&role)?,
                created_at: now,
                revoked_at: None,
                revoked_by: None,
            })
        })
        .await
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        let token = token_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {DEVICE_COLS} FROM devices WHERE token_hash = ?1"),
                [token],
                device_row,
            )
            .optional()?)
        })
        .await
    }

    async fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        by: super::Revoker,
    ) -> Result<bool, StoreError> {
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE devices SET revoked_at = ?1, revoked_by = ?3
                 WHERE id = ?2 AND revoked_at IS NULL",
                params![ts(now), id.to_string(), by.as_str()],
            )? > 0)
        })
        .await
    }

    async fn devices(&self, region_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        let region = region_id.map(str::to_string);
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE ?1 IS NULL OR region_id = ?1
                 ORDER BY created_at"
            ))?;
            let rows = stmt.query_map([region], device_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn create_officer(&self, o: &Officer, now: DateTime<Utc>) -> Result<(), StoreError> {
        let o = o.clone();
        self.write(move |c| {
            let taken: bool = c
                .query_row("SELECT 1 FROM officers WHERE username = ?1", [&o.username], |_| Ok(true))
                .optional()?
                .unwrap_or(false);
            if taken {
                return Err(StoreError::Taken(format!("username {}", o.username)));
            }
            c.execute(
                "INSERT INTO officers (id, region_id, username, display_name, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![o.id.to_string(), o.region_id, o.username, o.display_name, o.password_hash, ts(now)],
            )?;
            Ok(())
        })
        .await
    }

    async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, StoreError> {
        let u = username.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = ?1"),
                [u],
                officer_row,
            )
            .optional()?)
        })
        .await
    }

    async fn officers(&self, region_id: &str) -> Result<Vec<Officer>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {OFFICER_COLS} FROM officers o WHERE o.region_id = ?1 ORDER BY o.username"
            ))?;
            let rows = stmt.query_map([region], officer_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        officer_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let token = token_hash.to_string();
        self.write(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [ts(now)])?;
            let added = c.execute(
                "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, region_id,
                    last_seen_at)
                 SELECT ?1, id, ?3, ?4, region_id, ?3 FROM officers WHERE id = ?2
                    AND disabled_at IS NULL",
                params![token, officer_id.to_string(), ts(now), ts(expires_at)],
            )?;
            if added != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<super::Session>, StoreError> {
        let token = token_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {OFFICER_COLS}, s.expires_at, s.last_seen_at FROM sessions s
                     JOIN officers o ON o.id = s.officer_id AND o.region_id = s.region_id
                     WHERE s.token_hash = ?1"
                ),
                params![token],
                |r| {
                    Ok(super::Session {
                        officer: officer_row(r)?,
                        expires_at: parse_ts(&r.get::<_, String>(6)?)?,
                        last_seen_at: parse_ts(&r.get::<_, String>(7)?)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let token = token_hash.to_string();
        self.write(move |c| {
            c.execute(
                "UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2 AND last_seen_at < ?1",
                params![ts(now), token],
            )?;
            Ok(())
        })
        .await
    }

    async fn change_officer(
        &self,
        username: &str,
        change: &super::OfficerChange,
    ) -> Result<Option<Officer>, StoreError> {
        use super::OfficerChange;
        let (username, change) = (username.to_string(), change.clone());
        self.write(move |c| {
            let Some(o) = c
                .query_row(
                    &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = ?1"),
                    [&username],
                    officer_row,
                )
                .optional()?
            else {
                return Ok(None);
            };
            let id = o.id.to_string();
            match &change {
                OfficerChange::Disable(at) => {
                    c.execute(
                        "UPDATE officers SET disabled_at = ?1 WHERE id = ?2",
                        params![ts(*at), id],
                    )?;
                }
                OfficerChange::Enable => {
                    c.execute(
                        "UPDATE officers SET disabled_at = NULL WHERE id = ?1",
                        [&id],
                    )?;
                }
                OfficerChange::Password(hash) => {
                    c.execute(
                        "UPDATE officers SET password_hash = ?1 WHERE id = ?2",
                        params![hash, id],
                    )?;
                }
                OfficerChange::Remove => {}
            }
            if change != OfficerChange::Enable {
                c.execute("DELETE FROM sessions WHERE officer_id = ?1", [&id])?;
            }
            if change == OfficerChange::Remove {
                c.execute("DELETE FROM officers WHERE id = ?1", [&id])?;
            }
            Ok(Some(o))
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token = token_hash.to_string();
        self.write(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token])?;
            Ok(())
        })
        .await
    }

    async fn put_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &AlarmRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        self.write(move |c| {
            let inserted = c.execute(
                "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                    place, message, status, version, drill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', 1, ?9)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    id.to_string(),
                    device.region_id,
                    device.id.to_string(),
                    ts(req.triggered_at),
                    ts(now),
                    req.meeting,
                    req.place,
                    req.message,
                    req.drill
                ],
            )? == 1;
            let alarm = load_alarm(c, id)?.ok_or(StoreError::NotFound)?;
            if alarm.device_id != device.id {
                return Err(StoreError::OtherDevice);
            }
            if inserted {
                let what = if req.drill { "drill" } else { "" };
                add_event(
                    c,
                    id,
                    req.triggered_at,
                    EventKind::Triggered.as_str(),
                    &device.name,
                    what,
                )?;
                if let Some(stored) = req.stored_at {
                    add_event(c, id, stored, EventKind::Stored.as_str(), &device.name, "")?;
                }
                add_event(c, id, now, EventKind::Received.as_str(), "server", "")?;
            }
            Ok((alarm, inserted))
        })
        .await
    }

    async fn cancel_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &CancelRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        self.write(move |c| {
            let alarm = load_alarm(c, id)?.ok_or(StoreError::NotFound)?;
            if alarm.device_id != device.id {
                return Err(StoreError::OtherDevice);
            }
            if alarm.status == AlarmStatus::Cancelled || alarm.duress_at.is_some() {
                return Ok((alarm, false));
            }
            if req.duress {
                // Forced to cancel: the alarm stays as it is, marked, and the dashboard
                // puts it first. The device shows a cancel.
                c.execute(
                    "UPDATE alarms SET duress_at = ?1, version = version + 1 WHERE id = ?2",
                    params![ts(now), id.to_string()],
                )?;
                add_event(
                    c,
                    id,
                    now,
                    EventKind::Duress.as_str(),
                    &device.name,
                    &req.reason,
                )?;
                return Ok((load_alarm(c, id)?.ok_or(StoreError::NotFound)?, true));
            }
            c.execute(
                "UPDATE alarms SET status = 'cancelled', cancelled_at = ?1, cancel_reason = ?2,
                    version = version + 1 WHERE id = ?3",
                params![ts(now), req.reason, id.to_string()],
            )?;
            add_event(
                c,
                id,
                now,
                EventKind::Cancelled.as_str(),
                &device.name,
                &req.reason,
            )?;
            Ok((load_alarm(c, id)?.ok_or(StoreError::NotFound)?, true))
        })
        .await
    }

    async fn acknowledge_alarm(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let officer = officer.clone();
        self.write(move |c| {
            let alarm = load_alarm(c, id)?
                .filter(|a| a.region_id == officer.region_id)
                .ok_or(StoreError::NotFound)?;
            if alarm.status != AlarmStatus::Open {
                return Ok((alarm, false));
            }
            c.execute(
                "UPDATE alarms SET status = 'acknowledged', acknowledged_at = ?1, acknowledged_by = ?2,
                    version = version + 1 WHERE id = ?3",
                params![ts(now), officer.display_name, id.to_string()],
            )?;
            add_event(c, id, now, EventKind::Acknowledged.as_str(), &officer.display_name, "")?;
            Ok((load_alarm(c, id)?.ok_or(StoreError::NotFound)?, true))
        })
        .await
    }

    async fn alarm(&self, region_id: &str, id: Uuid) -> Result<Option<Alarm>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| Ok(load_alarm(c, id)?.filter(|a| a.region_id == region)))
            .await
    }

    async fn alarms(&self, region_id: &str, limit: u32) -> Result<Vec<Alarm>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.region_id = ?1 ORDER BY a.received_at DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![region, limit], alarm_row)?;
            let list = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(list
                .into_iter()
                .map(|a| with_messages(c, a))
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn alarm_events(&self, region_id: &str, id: Uuid) -> Result<Vec<AlarmEvent>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT e.at, e.kind, e.actor, e.detail FROM alarm_events e
                 JOIN alarms a ON a.id = e.alarm_id
                 WHERE e.alarm_id = ?1 AND a.region_id = ?2 AND e.region_id = ?2 ORDER BY e.seq",
            )?;
            let rows = stmt.query_map(params![id.to_string(), region], |r| {
                Ok(AlarmEvent {
                    at: parse_ts(&r.get::<_, String>(0)?)?,
                    kind: r.get(1)?,
                    actor: r.get(2)?,
                    detail: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn unacknowledged_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.status = 'open' AND a.drill = 0 ORDER BY a.received_at"
            ))?;
            let rows = stmt.query_map([], alarm_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn escalate_alarm(
        &self,
        id: Uuid,
        step: u32,
        to: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let to = to.to_vec();
        self.write(move |c| {
            let Some(alarm) = load_alarm(c, id)? else {
                return Err(StoreError::NotFound);
            };
            // Claimed by the database: a second caller for the same step changes nothing.
            if !super::escalation_due(&alarm, step) {
                return Ok(None);
            }
            let (names_json, detail) = super::escalation_record(&alarm, step, &to)?;
            c.execute(
                "UPDATE alarms SET escalation_step = ?1, escalated_to = ?2, version = version + 1
                 WHERE id = ?3 AND escalation_step = ?4 AND status = 'open'",
                params![step, names_json, id.to_string(), step - 1],
            )?;
            add_event(c, id, now, EventKind::Escalated.as_str(), "server", &detail)?;
            Ok(Some(load_alarm(c, id)?.ok_or(StoreError::NotFound)?))
        })
        .await
    }

    async fn mark_shown(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let officer = officer.clone();
        self.write(move |c| {
            load_alarm(c, id)?
                .filter(|a| a.region_id == officer.region_id)
                .ok_or(StoreError::NotFound)?;
            let seen: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM alarm_events
                    WHERE alarm_id = ?1 AND region_id = ?3 AND kind = 'shown' AND actor = ?2)",
                params![id.to_string(), officer.display_name, officer.region_id],
                |r| r.get(0),
            )?;
            if seen {
                return Ok(false);
            }
            add_event(
                c,
                id,
                now,
                EventKind::Shown.as_str(),
                &officer.display_name,
                "",
            )?;
            Ok(true)
        })
        .await
    }

    async fn put_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckinRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, bool), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        self.write(move |c| {
            let inserted = c.execute(
                "INSERT INTO checkins (id, region_id, device_id, started_at, deadline, meeting,
                    place, revision, status, received_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', ?9, ?9)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    id.to_string(),
                    device.region_id,
                    device.id.to_string(),
                    ts(req.started_at),
                    ts(req.deadline),
                    req.meeting,
                    req.place,
                    req.revision,
                    ts(now)
                ],
            )? == 1;
            let k = load_checkin(c, id)?.ok_or(StoreError::NotFound)?;
            if k.device_id != device.id {
                return Err(StoreError::OtherDevice);
            }
            if inserted {
                return Ok((k, true));
            }
            // An extension: only a newer revision of a check-in still running.
            let changed = c.execute(
                "UPDATE checkins SET deadline = ?1, meeting = ?2, place = ?3, revision = ?4,
                    updated_at = ?5
                 WHERE id = ?6 AND status = 'active' AND revision < ?4",
                params![
                    ts(req.deadline),
                    req.meeting,
                    req.place,
                    req.revision,
                    ts(now),
                    id.to_string()
                ],
            )? == 1;
            Ok((load_checkin(c, id)?.ok_or(StoreError::NotFound)?, changed))
        })
        .await
    }

    async fn checkout_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckoutRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, Option<Alarm>), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        self.write(move |c| {
            let k = load_checkin(c, id)?.ok_or(StoreError::NotFound)?;
            if k.device_id != device.id {
                return Err(StoreError::OtherDevice);
            }
            if k.checked_out_at.is_some() {
                return Ok((k, None));
            }
            // A missed check-in stays overdue; the check-out is recorded beside it.
            let status = super::checkout_status(&k);
            c.execute(
                "UPDATE checkins SET status = ?1, checked_out_at = ?2, outcome = ?3, updated_at = ?4
                 WHERE id = ?5",
                params![status, ts(req.at), super::outcome_str(req.outcome), ts(now), id.to_string()],
            )?;
            let mut alarm = None;
            if let Some(alarm_id) = k.alarm_id {
                // Late: the alarm stands until an officer acknowledges it; its timeline and
                // its version say that the person checked out.
                let detail = super::late_checkout_detail(req.outcome);
                add_event(c, alarm_id, now, EventKind::CheckedOut.as_str(), &device.name, detail)?;
                c.execute(
                    "UPDATE alarms SET version = version + 1 WHERE id = ?1",
                    [alarm_id.to_string()],
                )?;
                alarm = load_alarm(c, alarm_id)?;
            }
            Ok((load_checkin(c, id)?.ok_or(StoreError::NotFound)?, alarm))
        })
        .await
    }

    async fn checkin(&self, region_id: &str, id: Uuid) -> Result<Option<Checkin>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| Ok(load_checkin(c, id)?.filter(|k| k.region_id == region)))
            .await
    }

    async fn open_checkins(&self, region_id: &str) -> Result<Vec<Checkin>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.region_id = ?1
                   AND (k.status = 'active' OR (k.status = 'overdue' AND k.checked_out_at IS NULL))
                 ORDER BY k.deadline"
            ))?;
            let rows = stmt.query_map([region], checkin_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn overdue_checkins(&self, now: DateTime<Utc>) -> Result<Vec<Checkin>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.status = 'active' AND k.deadline <= ?1 ORDER BY k.deadline"
            ))?;
            let rows = stmt.query_map([ts(now)], checkin_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn raise_overdue_checkin(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        self.write(move |c| {
            let alarm_id = Checkin::alarm_id_for(id);
            // Claimed by the database: only an active check-in past its deadline turns.
            let claimed = c.execute(
                "UPDATE checkins SET status = 'overdue', alarm_id = ?1, updated_at = ?2
                 WHERE id = ?3 AND status = 'active' AND deadline <= ?2",
                params![alarm_id.to_string(), ts(now), id.to_string()],
            )? == 1;
            if !claimed {
                return Ok(None);
            }
            let k = load_checkin(c, id)?.ok_or(StoreError::NotFound)?;
            let message = super::overdue_message(&k);
            c.execute(
                "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                    place, message, status, version, drill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', 1, 0)",
                params![
                    alarm_id.to_string(),
                    k.region_id,
                    k.device_id.to_string(),
                    ts(k.deadline),
                    ts(now),
                    k.meeting,
                    k.place,
                    message
                ],
            )?;
            add_event(
                c,
                alarm_id,
                k.started_at,
                EventKind::CheckedIn.as_str(),
                &k.who,
                "",
            )?;
            add_event(
                c,
                alarm_id,
                now,
                EventKind::CheckinOverdue.as_str(),
                "server",
                &message,
            )?;
            Ok(load_alarm(c, alarm_id)?)
        })
        .await
    }

    async fn add_alarm_event(
        &self,
        region_id: &str,
        id: Uuid,
        event: &AlarmEvent,
    ) -> Result<(), StoreError> {
        let (region, event) = (region_id.to_string(), event.clone());
        self.write(move |c| {
            let alarm = load_alarm(c, id)?
                .filter(|a| a.region_id == region)
                .ok_or(StoreError::NotFound)?;
            add_event(
                c,
                alarm.id,
                event.at,
                &event.kind,
                &event.actor,
                &event.detail,
            )?;
            Ok(())
        })
        .await
    }

    async fn put_report(
        &self,
        device: &Device,
        id: Uuid,
        req: &ReportRequest,
        now: DateTime<Utc>,
    ) -> Result<(ReportReceipt, bool), StoreError> {
        let device = device.clone();
        let revision = req.revision;
        let report = req.report.clone();
        let body = serde_json::to_string(&req.report)
            .map_err(|e| StoreError::Backend(format!("report body: {e}")))?;
        self.write(move |c| {
            let existing: Option<(String, u32, String)> = c
                .query_row(
                    "SELECT device_id, current_revision, first_received_at FROM reports WHERE id = ?1",
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let first_received_at = match &existing {
                Some((_, _, first)) => parse_ts(first)?,
                None => now,
            };
            let current = match existing {
                None => {
                    c.execute(
                        "INSERT INTO reports (id, region_id, device_id, current_revision,
                            first_received_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                        params![
                            id.to_string(),
                            device.region_id,
                            device.id.to_string(),
                            revision,
                            ts(now)
                        ],
                    )?;
                    0
                }
                Some((owner, _, _)) if owner != device.id.to_string() => {
                    return Err(StoreError::OtherDevice)
                }
                Some((_, current, _)) => current,
            };
            let stored: Option<(String, String)> = c
                .query_row(
                    "SELECT body, received_at FROM report_revisions
                     WHERE report_id = ?1 AND revision = ?2 AND region_id = ?3",
                    params![id.to_string(), revision, device.region_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((stored_body, received_at)) = stored {
                if stored_body != body {
                    return Err(StoreError::RevisionConflict { revision, current });
                }
                let receipt = ReportReceipt {
                    id,
                    revision,
                    received_at: parse_ts(&received_at)?,
                    current_revision: current.max(revision),
                    followup: None,
                };
                return Ok((receipt, false));
            }
            c.execute(
                "INSERT INTO report_revisions (report_id, revision, body, received_at, region_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), revision, body, ts(now), device.region_id],
            )?;
            if revision > current {
                c.execute(
                    "UPDATE reports SET current_revision = ?1, updated_at = ?2 WHERE id = ?3",
                    params![revision, ts(now), id.to_string()],
                )?;
                put_facts(
                    c,
                    id,
                    &device.region_id,
                    &ReportFacts::of(&report, first_received_at),
                )?;
            }
            let (kind, detail) = super::report_arrival(current, revision);
            add_report_event(c, id, now, kind, &device.name, &detail)?;
            Ok((
                ReportReceipt {
                    id,
                    revision,
                    received_at: now,
                    current_revision: current.max(revision),
                    followup: None,
                },
                true,
            ))
        })
        .await
    }

    async fn report(&self, region_id: &str, id: Uuid) -> Result<Option<Report>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| load_report(c, &region, id, true)).await
    }

    async fn report_receipt(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<Option<ReportReceipt>, StoreError> {
        let device_id = device.id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT r.current_revision, v.received_at, {FOLLOWUP_COLS} FROM reports r
                     JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                        AND v.region_id = r.region_id
                     WHERE r.id = ?1 AND r.device_id = ?2"
                ),
                params![id.to_string(), device_id],
                |r| {
                    let followup = followup_row(r, 2)?;
                    Ok(ReportReceipt {
                        id,
                        revision: r.get(0)?,
                        received_at: parse_ts(&r.get::<_, String>(1)?)?,
                        current_revision: r.get(0)?,
                        followup: (followup.state != FollowupState::New).then_some(followup),
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn reports(&self, region_id: &str, limit: u32) -> Result<Vec<Report>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let ids: Vec<String> = {
                let mut stmt = c.prepare(
                    "SELECT id FROM reports WHERE region_id = ?1 ORDER BY updated_at DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![region, limit], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(r) = load_report(c, &region, parse_uuid(&id)?, false)? {
                    out.push(r);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn add_alarm_message(
        &self,
        region_id: &str,
        alarm_id: Uuid,
        device: Option<Uuid>,
        message: &AlarmMessage,
    ) -> Result<(Alarm, bool), StoreError> {
        let (region, message) = (region_id.to_string(), message.clone());
        self.write(move |c| {
            let alarm = load_alarm(c, alarm_id)?
                .filter(|a| a.region_id == region)
                .filter(|a| device.is_none_or(|d| a.device_id == d))
                .ok_or(StoreError::NotFound)?;
            if let Some(stored) = alarm.messages.iter().find(|m| m.id == message.id) {
                super::same_message(stored, &message)?;
                return Ok((alarm, false));
            }
            let taken: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM alarm_messages WHERE id = ?1)",
                [message.id.to_string()],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict(
                    "this message id was already used for another message".into(),
                ));
            }
            super::message_allowed(&alarm)?;
            c.execute(
                "INSERT INTO alarm_messages (id, alarm_id, region_id, sender, author, text, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    message.id.to_string(),
                    alarm_id.to_string(),
                    region,
                    message.from.as_str(),
                    message.author,
                    message.text,
                    ts(message.at)
                ],
            )?;
            add_event(
                c,
                alarm_id,
                message.at,
                message.from.event_kind().as_str(),
                &message.author,
                &message.text,
            )?;
            c.execute(
                "UPDATE alarms SET version = version + 1 WHERE id = ?1",
                [alarm_id.to_string()],
            )?;
            let alarm = load_alarm(c, alarm_id)?.ok_or(StoreError::NotFound)?;
            Ok((alarm, true))
        })
        .await
    }

    async fn centre_since(
        &self,
        region_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let region = region_id.to_string();
        self.write(move |c| {
            c.execute(
                "INSERT INTO centre_state (region_id, since) VALUES (?1, ?2) ON CONFLICT (region_id) DO NOTHING",
                params![region, ts(now)],
            )?;
            let since: String = c.query_row(
                "SELECT since FROM centre_state WHERE region_id = ?1",
                [&region],
                |r| r.get(0),
            )?;
            Ok(parse_ts(&since)?)
        })
        .await
    }

    async fn centre_lease(
        &self,
        region_id: &str,
        holder: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let region = region_id.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE centre_state SET lease_holder = ?2, lease_until = ?4 WHERE region_id = ?1
                   AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_until < ?3)",
                params![region, holder.to_string(), ts(now), ts(until)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn centre_pending(
        &self,
        region_id: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CentreEvent>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let kinds = super::CENTRE_KINDS.map(|k| format!("'{k}'")).join(", ");
            let mut stmt = c.prepare_cached(&format!(
                "SELECT e.seq, e.alarm_id, e.kind, a.drill, a.device_id, a.place
                 FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id
                 WHERE e.region_id = ?1 AND e.at >= ?2 AND e.kind IN ({kinds})
                   AND NOT EXISTS (SELECT 1 FROM centre_sent s WHERE s.event_seq = e.seq)
                 ORDER BY e.seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![region, ts(since), limit], |r| {
                Ok(CentreEvent {
                    seq: r.get(0)?,
                    alarm_id: parse_uuid(&r.get::<_, String>(1)?)?,
                    kind: r.get(2)?,
                    drill: r.get(3)?,
                    device_id: parse_uuid(&r.get::<_, String>(4)?)?,
                    place: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn centre_record(
        &self,
        region_id: &str,
        seq: i64,
        alarm_id: Uuid,
        answer: &str,
        taken: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let (region, answer) = (region_id.to_string(), answer.to_string());
        self.write(move |c| {
            let added = c.execute(
                "INSERT INTO centre_sent (event_seq, region_id, answer, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (event_seq) DO NOTHING",
                params![seq, region, answer, ts(now)],
            )?;
            if added == 0 {
                return Ok(None);
            }
            let kind: String = c.query_row(
                "SELECT kind FROM alarm_events WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )?;
            let Some(outcome) = super::centre_outcome(taken, &kind, &answer) else {
                return Ok(None);
            };
            let (entry, detail) = &outcome.entry;
            add_event(c, alarm_id, now, entry, "larmcentral", detail)?;
            if outcome.received {
                c.execute(
                    "UPDATE alarms SET centre_received_at = COALESCE(centre_received_at, ?2) WHERE id = ?1",
                    params![alarm_id.to_string(), ts(now)],
                )?;
            }
            if outcome.refused {
                c.execute(
                    "UPDATE alarms SET centre_refused_at = ?2 WHERE id = ?1",
                    params![alarm_id.to_string(), ts(now)],
                )?;
            }
            c.execute(
                "UPDATE alarms SET version = version + 1 WHERE id = ?1",
                [alarm_id.to_string()],
            )?;
            Ok(load_alarm(c, alarm_id)?)
        })
        .await
    }

    async fn centre_link(
        &self,
        region_id: &str,
        up: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let region = region_id.to_string();
        self.write(move |c| {
            if up {
                c.execute(
                    "UPDATE centre_state SET last_answer_at = ?2, down_since = NULL WHERE region_id = ?1",
                    params![region, ts(now)],
                )?;
            } else {
                c.execute(
                    "UPDATE centre_state SET down_since = COALESCE(down_since, ?2) WHERE region_id = ?1",
                    params![region, ts(now)],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn centre_status(&self, region_id: &str) -> Result<Option<CentreStatus>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT last_answer_at, down_since FROM centre_state WHERE region_id = ?1",
                [region],
                |r| {
                    Ok(CentreStatus {
                        last_answer_at: opt_ts(r.get(0)?)?,
                        down_since: opt_ts(r.get(1)?)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn set_instructions(&self, device: Uuid, text: &str) -> Result<(), StoreError> {
        let text = text.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE devices SET instructions = ?2 WHERE id = ?1",
                params![device.to_string(), text],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn follow_up(
        &self,
        region_id: &str,
        id: Uuid,
        officer: &str,
        change: &FollowupChange,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError> {
        let (region, officer, change) =
            (region_id.to_string(), officer.to_string(), change.clone());
        self.write(move |c| {
            let current = load_report(c, &region, id, false)?.ok_or(StoreError::NotFound)?;
            if let Some(plan) = super::followup_plan(&current.followup, &change)? {
                c.execute(
                    "UPDATE reports SET followup_state = ?1, followup_by = ?2,
                        followup_message = ?3, followup_at = ?4 WHERE id = ?5 AND region_id = ?6",
                    params![
                        change.state.as_str(),
                        officer,
                        plan.message,
                        ts(now),
                        id.to_string(),
                        region
                    ],
                )?;
                for (kind, detail) in plan.entries {
                    add_report_event(c, id, now, kind, &officer, &detail)?;
                }
            }
            load_report(c, &region, id, true)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn report_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ReportFacts>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT occurred_on, event, channel, sexual, repeated, perpetrator, consequences,
                    police_reported, not_reported_reason
                 FROM report_facts WHERE region_id = ?1 AND occurred_on >= ?2 AND occurred_on <= ?3",
            )?;
            let rows = stmt.query_map(params![region, from.to_string(), to.to_string()], |r| {
                let on: String = r.get(0)?;
                Ok(ReportFacts {
                    occurred_on: chrono::NaiveDate::parse_from_str(&on, "%Y-%m-%d").map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
                    })?,
                    event: r.get::<_, Option<String>>(1)?.as_deref().and_then(varn_core::ptu::EventType::parse),
                    channel: r.get::<_, Option<String>>(2)?.as_deref().and_then(varn_core::ptu::Channel::parse),
                    sexual: r.get(3)?,
                    repeated: r.get(4)?,
                    perpetrator: r.get::<_, Option<String>>(5)?.as_deref().and_then(varn_core::ptu::Perpetrator::parse),
                    consequences: consequences_from_column(&r.get::<_, String>(6)?),
                    police_reported: r.get(7)?,
                    not_reported_reason: r.get::<_, Option<String>>(8)?.as_deref().and_then(varn_core::ptu::NotReportedReason::parse),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn alarm_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<AlarmFacts>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let (start, end) = (day_start(from), day_after(to));
            let mut out = Vec::new();
            let mut stmt = c.prepare_cached(
                "SELECT a.received_at, a.drill,
                    a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                    a.acknowledged_at, a.escalation_step > 0
                 FROM alarms a WHERE a.region_id = ?1 AND a.received_at >= ?2 AND a.received_at < ?3",
            )?;
            let rows = stmt.query_map(params![region, start, end], |r| {
                let received_at = parse_ts(&r.get::<_, String>(0)?)?;
                Ok(AlarmFacts {
                    received_at,
                    drill: r.get(1)?,
                    from_checkin: r.get(2)?,
                    ack_seconds: opt_ts(r.get(3)?)?.map(|t| (t - received_at).num_seconds()),
                    escalated: r.get(4)?,
                })
            })?;
            out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            let mut stmt = c.prepare_cached(
                "SELECT received_at, drill, from_checkin, ack_seconds, escalated FROM alarm_facts
                 WHERE region_id = ?1 AND received_at >= ?2 AND received_at < ?3",
            )?;
            let rows = stmt.query_map(params![region, start, end], |r| {
                Ok(AlarmFacts {
                    received_at: parse_ts(&r.get::<_, String>(0)?)?,
                    drill: r.get(1)?,
                    from_checkin: r.get(2)?,
                    ack_seconds: r.get(3)?,
                    escalated: r.get(4)?,
                })
            })?;
            out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            Ok(out)
        })
        .await
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let e = entry.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO audit_log (region_id, at, officer, action, item_kind, item_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    e.region_id,
                    ts(e.at),
                    e.officer,
                    e.action,
                    e.item_kind,
                    e.item_id
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let q = query.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, region_id, officer, action, item_kind, item_id FROM audit_log
                 WHERE (?1 IS NULL OR region_id = ?1) AND (?2 IS NULL OR item_id = ?2)
                   AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)
                 ORDER BY seq DESC LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![
                    q.region_id,
                    q.item_id,
                    q.from.map(ts),
                    q.until.map(ts),
                    q.limit
                ],
                |r| {
                    Ok(AuditEntry {
                        at: parse_ts(&r.get::<_, String>(0)?)?,
                        region_id: r.get(1)?,
                        officer: r.get(2)?,
                        action: r.get(3)?,
                        item_kind: r.get(4)?,
                        item_id: r.get(5)?,
                    })
                },
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn purge(
        &self,
        reports_before: Option<DateTime<Utc>>,
        alarms_before: Option<DateTime<Utc>>,
    ) -> Result<Purged, StoreError> {
        self.write(move |c| {
            let mut purged = Purged::default();
            if let Some(cutoff) = reports_before {
                const OLD: &str = "SELECT id FROM reports
                    WHERE followup_state = 'closed' AND followup_at < ?1";
                let cutoff = ts(cutoff);
                purged.attachments = c.query_row(
                    &format!("SELECT COUNT(*) FROM attachments WHERE report_id IN ({OLD})"),
                    [&cutoff],
                    |r| r.get::<_, i64>(0),
                )? as u64;
                c.execute(
                    &format!(
                        "DELETE FROM attachment_chunks WHERE attachment_id IN
                            (SELECT id FROM attachments WHERE report_id IN ({OLD}))"
                    ),
                    [&cutoff],
                )?;
                for table in ["attachments", "report_revisions", "report_events"] {
                    c.execute(
                        &format!("DELETE FROM {table} WHERE report_id IN ({OLD})"),
                        [&cutoff],
                    )?;
                }
                purged.reports = c.execute(
                    "DELETE FROM reports WHERE followup_state = 'closed' AND followup_at < ?1",
                    [&cutoff],
                )? as u64;
            }
            if let Some(cutoff) = alarms_before {
                const OLD: &str = "SELECT id FROM alarms WHERE received_at < ?1
                    AND status IN ('acknowledged', 'cancelled') AND duress_at IS NULL";
                let cutoff = ts(cutoff);
                c.execute(
                    &format!(
                        "INSERT OR IGNORE INTO alarm_facts (alarm_id, region_id, received_at, drill,
                            from_checkin, ack_seconds, escalated)
                         SELECT a.id, a.region_id, a.received_at, a.drill,
                            a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                            CAST(ROUND((julianday(a.acknowledged_at) - julianday(a.received_at)) * 86400) AS INTEGER),
                            a.escalation_step > 0
                         FROM alarms a WHERE a.id IN ({OLD})"
                    ),
                    [&cutoff],
                )?;
                for table in ["alarm_events", "alarm_messages"] {
                    c.execute(
                        &format!("DELETE FROM {table} WHERE alarm_id IN ({OLD})"),
                        [&cutoff],
                    )?;
                }
                purged.alarms = c.execute(
                    "DELETE FROM alarms WHERE received_at < ?1
                        AND status IN ('acknowledged', 'cancelled') AND duress_at IS NULL",
                    [&cutoff],
                )? as u64;
            }
            Ok(purged)
        })
        .await
    }

    async fn create_attachment(
        &self,
        device: &Device,
        report_id: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError> {
        let (device, meta) = (device.clone(), meta.clone());
        self.write(move |c| {
            let owner: Option<String> = c
                .query_row(
                    "SELECT device_id FROM reports WHERE id = ?1",
                    [report_id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            match owner {
                None => return Err(StoreError::NotFound),
                Some(o) if o != device.id.to_string() => return Err(StoreError::OtherDevice),
                Some(_) => {}
            }
            match own_attachment(c, &device, id) {
                Ok(a) => {
                    let same = a.report_id == report_id
                        && a.filename == meta.filename
                        && a.content_type == meta.content_type
                        && a.size == meta.size
                        && a.sha256 == meta.sha256;
                    return if same {
                        Ok(a.status())
                    } else {
                        Err(StoreError::MetaConflict)
                    };
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
            // An empty file is complete at once, if its checksum is the empty one.
            let complete = if meta.size == 0 {
                let empty = hex::encode(Sha256::digest(b""));
                if meta.sha256 != empty {
                    return Err(StoreError::ChecksumMismatch {
                        expected: meta.sha256.clone(),
                        actual: empty,
                    });
                }
                Some(ts(now))
            } else {
                None
            };
            c.execute(
                "INSERT INTO attachments (id, report_id, device_id, filename, content_type, size,
                    sha256, received, complete_at, created_at, region_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10)",
                params![
                    id.to_string(),
                    report_id.to_string(),
                    device.id.to_string(),
                    meta.filename,
                    meta.content_type,
                    meta.size as i64,
                    meta.sha256,
                    complete,
                    ts(now),
                    device.region_id
                ],
            )?;
            Ok(UploadStatus {
                id,
                offset: 0,
                size: meta.size,
                complete: meta.size == 0,
            })
        })
        .await
    }

    async fn append_chunk(
        &self,
        device: &Device,
        id: Uuid,
        offset: u64,
        bytes: Vec<u8>,
        verdict: ChunkVerdict,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError> {
        let device = device.clone();
        // The reset after a mismatch must be committed even though the answer is an error,
        // so the inner result travels through a successful write.
        let outcome = self
            .write(
                move |c| -> Result<Result<UploadStatus, StoreError>, StoreError> {
                    let a = own_attachment(c, &device, id)?;
                    if a.complete_at.is_some() {
                        // A retry of the last chunk whose answer was lost: already done.
                        return Ok(Ok(a.status()));
                    }
                    if offset != a.received {
                        return Err(StoreError::OffsetMismatch {
                            expected: a.received,
                        });
                    }
                    let end = a.received + bytes.len() as u64;
                    if end > a.size {
                        return Err(StoreError::TooLarge { size: a.size });
                    }
                    if bytes.is_empty() {
                        return Ok(Ok(a.status()));
                    }
                    let (state, complete_at) = match verdict {
                        ChunkVerdict::Mismatch { actual } => {
                            c.execute(
                                "DELETE FROM attachment_chunks WHERE attachment_id = ?1",
                                [id.to_string()],
                            )?;
                            c.execute(
                                "UPDATE attachments SET received = 0, hash_state = NULL WHERE id = ?1",
                                [id.to_string()],
                            )?;
                            return Ok(Err(StoreError::ChecksumMismatch {
                                expected: a.sha256,
                                actual,
                            }));
                        }
                        ChunkVerdict::Partial(state) => (Some(state), None),
                        ChunkVerdict::Complete => (None, Some(ts(now))),
                    };
                    c.execute(
                        "INSERT INTO attachment_chunks (attachment_id, offset, data, region_id)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![id.to_string(), offset as i64, bytes, device.region_id],
                    )?;
                    c.execute(
                        "UPDATE attachments SET received = ?1, hash_state = ?2, complete_at = ?3
                         WHERE id = ?4",
                        params![end as i64, state, complete_at, id.to_string()],
                    )?;
                    let a = own_attachment(c, &device, id)?;
                    Ok(Ok(a.status()))
                },
            )
            .await?;
        outcome
    }

    async fn publish_profile(
        &self,
        region_id: &str,
        version: u32,
        signed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (region, signed) = (region_id.to_string(), signed.to_string());
        self.write(move |c| {
            Ok(c.execute(
                "INSERT INTO published_profiles (region_id, version, signed, published_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![region, version, signed, ts(now)],
            )? == 1)
        })
        .await
    }

    async fn published_profiles(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT p.signed FROM published_profiles p
                 WHERE p.version = (SELECT max(version) FROM published_profiles q
                                    WHERE q.region_id = p.region_id)
                 ORDER BY p.region_id",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .await
    }

    async fn add_release(&self, release: &Release, bundle: &[u8]) -> Result<bool, StoreError> {
        let (r, bundle) = (release.clone(), bundle.to_vec());
        self.write(move |c| {
            Ok(c.execute(
                "INSERT INTO app_releases
                     (version, platform, notes, signature, sha256, size, bundle, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                params![
                    r.version,
                    r.platform,
                    r.notes,
                    r.signature,
                    r.sha256,
                    r.size as i64,
                    bundle,
                    ts(r.published_at)
                ],
            )? == 1)
        })
        .await
    }

    async fn releases(&self) -> Result<Vec<Release>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT version, platform, notes, signature, sha256, size, published_at
                 FROM app_releases ORDER BY published_at, version, platform",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Release {
                    version: r.get(0)?,
                    platform: r.get(1)?,
                    notes: r.get(2)?,
                    signature: r.get(3)?,
                    sha256: r.get(4)?,
                    size: r.get::<_, i64>(5)?.max(0) as u64,
                    published_at: parse_ts(&r.get::<_, String>(6)?)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<Release>>>()?)
        })
        .await
    }

    async fn release_bundle(
        &self,
        version: &str,
        platform: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (version, platform) = (version.to_string(), platform.to_string());
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT bundle FROM app_releases WHERE version = ?1 AND platform = ?2",
                [version, platform],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn upload(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
        let device = device.clone();
        self.read(move |c| own_upload(c, &device, id)).await
    }

    async fn attachment(&self, region_id: &str, id: Uuid) -> Result<Attachment, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {} FROM attachments a JOIN reports r ON r.id = a.report_id
                     WHERE a.id = ?1 AND r.region_id = ?2 AND a.region_id = ?2",
                    ATTACHMENT_COLS
                        .split(", ")
                        .map(|col| format!("a.{col}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                params![id.to_string(), region],
                attachment_row,
            )
            .optional()?
            .filter(|a| a.complete_at.is_some())
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn attachment_chunk(
        &self,
        region_id: &str,
        id: Uuid,
        offset: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT offset, data FROM attachment_chunks
                 WHERE attachment_id = ?1 AND region_id = ?2 AND offset >= ?3
                 ORDER BY offset LIMIT 1",
                params![id.to_string(), region, offset as i64],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
        })
        .await
    }
}

fn load_report(
    c: &Connection,
    region: &str,
    id: Uuid,
    with_timeline: bool,
) -> Result<Option<Report>, StoreError> {
    let row = c
        .query_row(
            &format!("SELECT r.device_id, d.name, r.current_revision, v.body, r.first_received_at, r.updated_at,
                {FOLLOWUP_COLS}
             FROM reports r JOIN devices d ON d.id = r.device_id
             JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                    AND v.region_id = r.region_id
             WHERE r.id = ?1 AND r.region_id = ?2"),
            params![id.to_string(), region],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    followup_row(r, 6)?,
                ))
            },
        )
        .optional()?;
    let Some((device_id, who, revision, body, first, updated, followup)) = row else {
        return Ok(None);
    };
    let mut stmt = c.prepare(&format!(
        "SELECT {ATTACHMENT_COLS} FROM attachments WHERE report_id = ?1 AND region_id = ?2
         ORDER BY created_at"
    ))?;
    let attachments = stmt
        .query_map(params![id.to_string(), region], attachment_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Report {
        id,
        region_id: region.to_string(),
        device_id: parse_uuid(&device_id)?,
        who,
        revision,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Backend(format!("stored report: {e}")))?,
        first_received_at: parse_ts(&first)?,
        updated_at: parse_ts(&updated)?,
        attachments,
        followup,
        timeline: if with_timeline {
            report_events(c, region, id)?
        } else {
            Vec::new()
        },
    }))
}

/// The follow-up columns of `reports r` and `first_received_at`, read by [`followup_row`].
const FOLLOWUP_COLS: &str =
    "r.followup_state, r.followup_by, r.followup_message, r.followup_at, r.first_received_at";

fn followup_row(r: &Row<'_>, at: usize) -> rusqlite::Result<varn_core::wire::Followup> {
    Ok(super::stored_followup(
        &r.get::<_, String>(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        opt_ts(r.get(at + 3)?)?,
        parse_ts(&r.get::<_, String>(at + 4)?)?,
    ))
}

fn report_events(c: &Connection, region: &str, id: Uuid) -> rusqlite::Result<Vec<TimelineEntry>> {
    let mut stmt = c.prepare(
        "SELECT at, kind, actor, detail FROM report_events
         WHERE report_id = ?1 AND region_id = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![id.to_string(), region], |r| {
        Ok(TimelineEntry {
            at: parse_ts(&r.get::<_, String>(0)?)?,
            kind: r.get(1)?,
            actor: r.get(2)?,
            detail: r.get(3)?,
        })
    })?;
    rows.collect()
}

fn add_report_event(
    c: &Connection,
    report: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO report_events (report_id, region_id, at, kind, actor, detail)
         SELECT id, region_id, ?2, ?3, ?4, ?5 FROM reports WHERE id = ?1",
        params![report.to_string(), ts(at), kind, actor, detail],
    )?;
    Ok(())
}

fn put_facts(c: &Connection, id: Uuid, region: &str, f: &ReportFacts) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO report_facts (report_id, region_id, occurred_on, event, channel, sexual,
            repeated, perpetrator, consequences, police_reported, not_reported_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (report_id) DO UPDATE SET occurred_on = excluded.occurred_on,
            event = excluded.event, channel = excluded.channel, sexual = excluded.sexual,
            repeated = excluded.repeated, perpetrator = excluded.perpetrator,
            consequences = excluded.consequences, police_reported = excluded.police_reported,
            not_reported_reason = excluded.not_reported_reason",
        params![
            id.to_string(),
            region,
            f.occurred_on.to_string(),
            f.event.map(|x| x.as_str()),
            f.channel.map(|x| x.as_str()),
            f.sexual,
            f.repeated,
            f.perpetrator.map(|x| x.as_str()),
            consequences_column(&f.consequences),
            f.police_reported,
            f.not_reported_reason.map(|x| x.as_str()),
        ],
    )?;
    Ok(())
}

/// Gives every report stored before the statistics existed its facts (once; later reports
/// get theirs as they arrive).
fn backfill_facts(c: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(String, String, String, String)> = {
        let mut stmt = c.prepare(
            "SELECT r.id, r.region_id, v.body, r.first_received_at FROM reports r
             JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
             WHERE NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.report_id = r.id)",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if rows.is_empty() {
        return Ok(());
    }
    c.execute_batch("BEGIN IMMEDIATE")?;
    for (id, region, body, first) in &rows {
        let report: IncidentReport = serde_json::from_str(body).unwrap_or_default();
        put_facts(
            c,
            parse_uuid(id)?,
            region,
            &ReportFacts::of(&report, parse_ts(first)?),
        )?;
    }
    c.execute_batch("COMMIT")?;
    tracing::info!(
        reports = rows.len(),
        "statistics facts written for earlier reports"
    );
    Ok(())
}

fn day_start(d: chrono::NaiveDate) -> String {
    ts(d.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn day_after(d: chrono::NaiveDate) -> String {
    day_start(d.succ_opt().unwrap_or(d))
}
