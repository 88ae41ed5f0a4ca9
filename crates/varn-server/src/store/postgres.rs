//! PostgreSQL behind [`Store`], for a region that runs several server instances.
//!
//! Every call is one transaction. Whatever must hold across instances is enforced by the
//! database, not by memory: ids are primary keys (`ON CONFLICT DO NOTHING` for idempotent
//! puts), a read-modify-write locks its row first (`SELECT … FOR UPDATE`), and a claim (an
//! escalation step, an overdue check-in) is a conditional `UPDATE` whose row count says
//! whether this caller won.
//!
//! Every change to an alarm sends `NOTIFY varn_alarms` in its own transaction, so it is
//! delivered to the other instances exactly when it commits; [`PgStore::open`] starts a
//! listener that hands those changes to this instance's dashboards.
//!
//! Every instance runs the escalation and check-in loop. There is no leader whose lease
//! could outlive a partitioned machine: each step is claimed under the alarm's row lock
//! with a conditional `UPDATE`, so exactly one instance records it and alerts, and any
//! instance still alive does so within a second.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Error as PgError, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;
use uuid::Uuid;
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

/// The channel alarm changes are announced on.
const CHANNEL: &str = "varn_alarms";
/// The advisory lock key held while migrating ("varn-mig").
const MIGRATE_KEY: i64 = 0x7661_726e_2d6d_6967;
/// The longest alarm sent inside a notification (PostgreSQL allows just under 8000 bytes).
const MAX_PAYLOAD: usize = 7000;
/// The longest a statement may run.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a statement waits for another transaction's row lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per instance.
const POOL_SIZE: usize = 16;

/// PostgreSQL behind [`Store`].
pub struct PgStore {
    pool: Pool,
    connect: Connect,
    /// This instance, so that its own announcements are not handed out twice.
    instance: Uuid,
    remote: broadcast::Sender<Alarm>,
}

/// An error with its causes, e.g. "error performing TLS handshake: invalid peer certificate:
/// UnknownIssuer", so that the message says what to fix.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => StoreError::Backend(format!("PostgreSQL: {}", db.message())),
            None => StoreError::Backend(format!("PostgreSQL: {}", with_causes(&e))),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Backend(format!("PostgreSQL connection: {}", with_causes(&e)))
    }
}

/// Statements through the connection's cache of prepared statements: one round trip less
/// for every statement after its first use on a connection.
#[async_trait]
trait Cached: GenericClient {
    async fn run(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<u64, PgError> {
        let st = self.prepare_cached(sql).await?;
        self.execute(&st, p).await
    }
    async fn one(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<Row, PgError> {
        let st = self.prepare_cached(sql).await?;
        self.query_one(&st, p).await
    }
    async fn opt(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, PgError> {
        let st = self.prepare_cached(sql).await?;
        self.query_opt(&st, p).await
    }
    async fn all(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, PgError> {
        let st = self.prepare_cached(sql).await?;
        self.query(&st, p).await
    }
}

impl<T: GenericClient + ?Sized> Cached for T {}

fn unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// How to reach the database: its settings, and TLS when the URL asks for it.
#[derive(Clone)]
pub struct Connect {
    config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
}

/// Parses a `postgres://` URL, taking the password from `password` when the URL has none
/// (so it need not be written in a file). With `sslmode=require` every connection is TLS,
/// and the server's certificate must chain to the public roots or to the CA in `ca_file`
/// (PEM) and name the host; anything less is refused.
pub fn parse_url(
    url: &str,
    password: Option<&str>,
    ca_file: Option<&Path>,
) -> Result<Connect, StoreError> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
        StoreError::Backend(format!(
            "the database URL is not a PostgreSQL URL ({e}); write it as \
             postgres://user@host:5432/dbname"
        ))
    })?;
    let tls = match (config.get_ssl_mode(), ca_file) {
        (tokio_postgres::config::SslMode::Require, ca) => Some(tls_connector(ca)?),
        (_, Some(ca)) => {
            return Err(StoreError::Backend(format!(
                "a database CA ({}) is set but the URL does not ask for TLS: add \
                 ?sslmode=require to the database URL",
                ca.display()
            )))
        }
        (_, None) => None,
    };
    if config.get_password().is_none() {
        if let Some(p) = password {
            config.password(p);
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    // Nothing may hang: a statement or a lock wait that takes too long fails (and the device
    // retries, perhaps on another instance), and a database that vanished from the network is
    // noticed in seconds, not after TCP's two hours.
    let limits = format!(
        "-c statement_timeout={} -c lock_timeout={} -c idle_in_transaction_session_timeout=30000",
        STATEMENT_TIMEOUT.as_millis(),
        LOCK_TIMEOUT.as_millis()
    );
    let options = match config.get_options() {
        Some(given) => format!("{given} {limits}"),
        None => limits,
    };
    config
        .options(options)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .tcp_user_timeout(Duration::from_secs(20))
        .application_name("varn-server");
    Ok(Connect { config, tls })
}

/// A TLS connector that trusts the public roots and the CA in `ca_file`.
fn tls_connector(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, StoreError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| StoreError::Backend(format!("database CA {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(StoreError::Backend(format!(
                "database CA {}: no certificate in it (PEM expected)",
                path.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| StoreError::Backend(format!("database CA {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(tls))
}

impl PgStore {
    /// Connects, migrates (one instance at a time) and starts listening for other instances'
    /// alarm changes.
    pub async fn open(connect: Connect) -> Result<Arc<PgStore>, StoreError> {
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &connect.tls {
            Some(tls) => Manager::from_config(connect.config.clone(), tls.clone(), manager_config),
            None => Manager::from_config(connect.config.clone(), NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Backend(format!("PostgreSQL pool: {e}")))?;
        let mut c = pool.get().await?;
        migrate(&mut c).await?;
        drop(c);
        let (remote, _) = broadcast::channel(4096);
        let store = Arc::new(PgStore {
            pool,
            connect,
            instance: Uuid::now_v7(),
            remote,
        });
        listen(Arc::downgrade(&store)).await?;
        Ok(store)
    }

    async fn conn(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Announces an alarm's new state to the other instances when the transaction commits.
    /// The alarm travels in the notification, so a burst of changes costs the listeners no
    /// reads; one too large for a notification travels as its id and is read.
    async fn announce(&self, c: &impl GenericClient, alarm: &Alarm) -> Result<(), StoreError> {
        let json = serde_json::to_string(alarm)
            .map_err(|e| StoreError::Backend(format!("alarm announcement: {e}")))?;
        let payload = if json.len() <= MAX_PAYLOAD {
            format!("{} {json}", self.instance)
        } else {
            format!("{} {}", self.instance, alarm.id)
        };
        c.run("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await?;
        Ok(())
    }
}

/// Applies the PostgreSQL steps not yet applied, under an advisory lock so that instances
/// starting together migrate once.
async fn migrate(c: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    let tx = c.transaction().await?;
    tx.run("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_KEY])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS varn_schema (version INTEGER NOT NULL)")
        .await?;
    let current: i32 = match tx.opt("SELECT version FROM varn_schema", &[]).await? {
        Some(r) => r.get(0),
        None => {
            tx.run("INSERT INTO varn_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    let steps = super::migrations::postgres();
    if current as usize > steps.len() {
        return Err(StoreError::Backend(format!(
            "the database is at schema version {current}, newer than this server knows ({}); \
             run a newer varn-server",
            steps.len()
        )));
    }
    for (i, sql) in steps.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).await?;
        tx.run("UPDATE varn_schema SET version = $1", &[&(i as i32 + 1)])
            .await?;
    }
    backfill_facts(&tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Listens on [`CHANNEL`] on a connection of its own and hands other instances' alarm
/// changes to this one; reconnects after a lost connection. Ends when the store is dropped.
async fn listen(store: std::sync::Weak<PgStore>) -> Result<(), StoreError> {
    let (connect, instance) = match store.upgrade() {
        Some(s) => (s.connect.clone(), s.instance),
        None => return Ok(()),
    };
    // The first connection is made before open returns, so a store that opened listens.
    let first = connect_listener(&connect).await?;
    tokio::spawn(async move {
        let mut next = Some(first);
        loop {
            let (client, mut rx) = match next.take() {
                Some(c) => c,
                None => match connect_listener(&connect).await {
                    Ok(c) => {
                        // What was announced while the feed was down is lost; hand on every
                        // alarm still waiting for an officer, so no dashboard misses one.
                        if let Some(s) = store.upgrade() {
                            match s.unacknowledged_alarms().await {
                                Ok(open) => open.into_iter().for_each(|a| {
                                    let _ = s.remote.send(a);
                                }),
                                Err(e) => tracing::warn!("open alarms not re-read: {e}"),
                            }
                        }
                        c
                    }
                    Err(e) => {
                        tracing::warn!("live alarm feed from other instances lost: {e}");
                        if store.strong_count() == 0 {
                            return;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            loop {
                let payload = tokio::select! {
                    p = rx.recv() => p,
                    // Look now and then whether the store is still wanted.
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {
                        if store.strong_count() == 0 { return; }
                        continue;
                    }
                };
                let Some(payload) = payload else { break };
                let Some(s) = store.upgrade() else { return };
                let Some((origin, body)) = payload.split_once(' ') else {
                    continue;
                };
                if origin == instance.to_string() {
                    continue;
                }
                if let Ok(alarm) = serde_json::from_str::<Alarm>(body) {
                    let _ = s.remote.send(alarm);
                    continue;
                }
                let Ok(id) = Uuid::parse_str(body) else {
                    tracing::warn!("an announcement that is neither an alarm nor an id");
                    continue;
                };
                match s.alarm_anywhere(id).await {
                    Ok(Some(alarm)) => {
                        let _ = s.remote.send(alarm);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(alarm = %id, "announced alarm not read: {e}"),
                }
            }
            drop(client);
            tracing::warn!("live alarm feed connection closed; reconnecting");
        }
    });
    Ok(())
}

type Listener = (
    tokio_postgres::Client,
    tokio::sync::mpsc::UnboundedReceiver<String>,
);

async fn connect_listener(connect: &Connect) -> Result<Listener, StoreError> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let client = match &connect.tls {
        Some(tls) => {
            let (client, connection) = connect.config.connect(tls.clone()).await?;
            tokio::spawn(forward_notifications(connection, tx));
            client
        }
        None => {
            let (client, connection) = connect.config.connect(NoTls).await?;
            tokio::spawn(forward_notifications(connection, tx));
            client
        }
    };
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    Ok((client, rx))
}

/// Drives a listener's connection and passes on each notification's payload until the
/// connection ends.
async fn forward_notifications<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    tx: tokio::sync::mpsc::UnboundedSender<String>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::StreamExt;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    while let Some(Ok(m)) = messages.next().await {
        if let AsyncMessage::Notification(n) = m {
            if tx.send(n.payload().to_string()).is_err() {
                return;
            }
        }
    }
}

fn role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Backend(format!("stored role {s} is unknown")))
}

fn alarm_status(s: &str) -> Result<AlarmStatus, StoreError> {
    super::stored_alarm_status(s)
        .ok_or_else(|| StoreError::Backend(format!("stored status {s} is unknown")))
}

fn checkin_status(s: &str) -> Result<CheckinStatus, StoreError> {
    super::stored_checkin_status(s)
        .ok_or_else(|| StoreError::Backend(format!("stored check-in status {s} is unknown")))
}

fn u32_of(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

const DEVICE_COLS: &str = "id, region_id, name, role, created_at, revoked_at, revoked_by";

fn device_row(r: &Row) -> Result<Device, StoreError> {
    Ok(Device {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        name: r.try_get(2)?,
        role: role(r.try_get(3)?)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
        revoked_by: super::Revoker::parse(r.try_get::<_, Option<String>>(6)?.as_deref()),
    })
}

const OFFICER_COLS: &str =
    "o.id, o.region_id, o.username, o.display_name, o.password_hash, o.disabled_at";

fn officer_row(r: &Row) -> Result<Officer, StoreError> {
    Ok(Officer {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        username: r.try_get(2)?,
        display_name: r.try_get(3)?,
        password_hash: r.try_get(4)?,
        disabled_at: r.try_get(5)?,
    })
}

const ALARM_COLS: &str = "a.id, a.region_id, a.device_id, d.name, a.triggered_at, a.received_at,
    a.meeting, a.place, a.message, a.status, a.acknowledged_at, a.acknowledged_by,
    a.cancelled_at, a.cancel_reason, a.version, a.drill, a.escalation_step, a.escalated_to,
    a.duress_at, d.instructions, a.centre_received_at, a.centre_refused_at";

fn alarm_row(r: &Row) -> Result<Alarm, StoreError> {
    Ok(Alarm {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        device_id: r.try_get(2)?,
        who: r.try_get(3)?,
        triggered_at: r.try_get(4)?,
        received_at: r.try_get(5)?,
        meeting: r.try_get(6)?,
        place: r.try_get(7)?,
        message: r.try_get(8)?,
        status: alarm_status(r.try_get(9)?)?,
        acknowledged_at: r.try_get(10)?,
        acknowledged_by: r.try_get(11)?,
        cancelled_at: r.try_get(12)?,
        cancel_reason: r.try_get(13)?,
        version: r.try_get(14)?,
        drill: r.try_get(15)?,
        escalation_step: u32_of(r.try_get(16)?),
        escalated_to: serde_json::from_str(r.try_get(17)?)
            .map_err(|e| StoreError::Backend(format!("stored escalation list: {e}")))?,
        duress_at: r.try_get(18)?,
        instructions: r.try_get(19)?,
        messages: Vec::new(),
        centre_received_at: r.try_get(20)?,
        centre_refused_at: r.try_get(21)?,
    })
}

/// An alarm's conversation, oldest first.
async fn messages_of(c: &impl GenericClient, alarm: Uuid) -> Result<Vec<AlarmMessage>, StoreError> {
    c.all(
        "SELECT id, sender, author, text, at FROM alarm_messages WHERE alarm_id = $1
         ORDER BY at, id",
        &[&alarm],
    )
    .await?
    .iter()
    .map(|r| {
        let sender: &str = r.try_get(1)?;
        Ok(AlarmMessage {
            id: r.try_get(0)?,
            from: MessageFrom::parse(sender)
                .ok_or_else(|| StoreError::Backend(format!("unknown sender {sender}")))?,
            author: r.try_get(2)?,
            text: r.try_get(3)?,
            at: r.try_get(4)?,
        })
    })
    .collect()
}

async fn with_messages(c: &impl GenericClient, mut a: Alarm) -> Result<Alarm, StoreError> {
    a.messages = messages_of(c, a.id).await?;
    Ok(a)
}

/// One alarm with its device's name; `lock` takes its row for the rest of the transaction.
async fn load_alarm(
    c: &impl GenericClient,
    id: Uuid,
    lock: bool,
) -> Result<Option<Alarm>, StoreError> {
    let sql = format!(
        "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id WHERE a.id = $1{}",
        if lock { " FOR UPDATE OF a" } else { "" }
    );
    match c.opt(&sql, &[&id]).await? {
        Some(r) => Ok(Some(with_messages(c, alarm_row(&r)?).await?)),
        None => Ok(None),
    }
}

async fn add_event(
    c: &impl GenericClient,
    alarm: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    // The entry takes its region from its alarm; no alarm, no entry.
    let added = c
        .run(
            "INSERT INTO alarm_events (alarm_id, region_id, at, kind, actor, detail)
             SELECT id, region_id, $2, $3, $4, $5 FROM alarms WHERE id = $1",
            &[&alarm, &at, &kind, &actor, &detail],
        )
        .await?;
    if added != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

const CHECKIN_COLS: &str = "k.id, k.region_id, k.device_id, d.name, k.started_at, k.deadline,
    k.meeting, k.place, k.revision, k.status, k.received_at, k.checked_out_at, k.outcome, k.alarm_id";

fn checkin_row(r: &Row) -> Result<Checkin, StoreError> {
    Ok(Checkin {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        device_id: r.try_get(2)?,
        who: r.try_get(3)?,
        started_at: r.try_get(4)?,
        deadline: r.try_get(5)?,
        meeting: r.try_get(6)?,
        place: r.try_get(7)?,
        revision: u32_of(r.try_get(8)?),
        status: checkin_status(r.try_get(9)?)?,
        received_at: r.try_get(10)?,
        checked_out_at: r.try_get(11)?,
        outcome: r.try_get::<_, Option<&str>>(12)?.map(super::stored_outcome),
        alarm_id: r.try_get(13)?,
    })
}

async fn load_checkin(
    c: &impl GenericClient,
    id: Uuid,
    lock: bool,
) -> Result<Option<Checkin>, StoreError> {
    let sql = format!(
        "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id WHERE k.id = $1{}",
        if lock { " FOR UPDATE OF k" } else { "" }
    );
    c.opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(checkin_row)
        .transpose()
}

const ATTACHMENT_COLS: &str = "a.id, a.report_id, a.filename, a.content_type, a.size, a.sha256,
    a.received, a.complete_at";

fn attachment_row(r: &Row) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: r.try_get(0)?,
        report_id: r.try_get(1)?,
        filename: r.try_get(2)?,
        content_type: r.try_get(3)?,
        size: r.try_get::<_, i64>(4)? as u64,
        sha256: r.try_get(5)?,
        received: r.try_get::<_, i64>(6)? as u64,
        complete_at: r.try_get(7)?,
    })
}

/// A device's own attachment: `NotFound` if missing, `OtherDevice` if not its own.
async fn own_attachment(
    c: &impl GenericClient,
    device: &Device,
    id: Uuid,
    lock: bool,
) -> Result<Attachment, StoreError> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLS}, a.device_id FROM attachments a
         WHERE a.id = $1 AND a.region_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let Some(r) = c.opt(&sql, &[&id, &device.region_id]).await? else {
        return Err(StoreError::NotFound);
    };
    let owner: Uuid = r.try_get(8)?;
    if owner != device.id {
        return Err(StoreError::OtherDevice);
    }
    attachment_row(&r)
}

async fn load_report(
    c: &impl GenericClient,
    region: &str,
    id: Uuid,
    with_timeline: bool,
) -> Result<Option<Report>, StoreError> {
    let Some(r) = c
        .opt(
            &format!(
                "SELECT r.device_id, d.name, r.current_revision, v.body, r.first_received_at,
                    r.updated_at, {FOLLOWUP_COLS}
                 FROM reports r JOIN devices d ON d.id = r.device_id
                 JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                    AND v.region_id = r.region_id
                 WHERE r.id = $1 AND r.region_id = $2"
            ),
            &[&id, &region],
        )
        .await?
    else {
        return Ok(None);
    };
    let attachments = c
        .all(
            &format!(
                "SELECT {ATTACHMENT_COLS} FROM attachments a
                 WHERE a.report_id = $1 AND a.region_id = $2 ORDER BY a.created_at"
            ),
            &[&id, &region],
        )
        .await?
        .iter()
        .map(attachment_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Report {
        id,
        region_id: region.to_string(),
        device_id: r.try_get(0)?,
        who: r.try_get(1)?,
        revision: u32_of(r.try_get(2)?),
        body: serde_json::from_str(r.try_get(3)?)
            .map_err(|e| StoreError::Backend(format!("stored report: {e}")))?,
        first_received_at: r.try_get(4)?,
        updated_at: r.try_get(5)?,
        attachments,
        followup: followup_row(&r, 6)?,
        timeline: if with_timeline {
            report_events(c, region, id).await?
        } else {
            Vec::new()
        },
    }))
}

/// The follow-up columns of `reports r` and `first_received_at`, read by [`followup_row`].
const FOLLOWUP_COLS: &str =
    "r.followup_state, r.followup_by, r.followup_message, r.followup_at, r.first_received_at";

fn followup_row(r: &Row, at: usize) -> Result<varn_core::wire::Followup, StoreError> {
    Ok(super::stored_followup(
        r.try_get(at)?,
        r.try_get(at + 1)?,
        r.try_get(at + 2)?,
        r.try_get(at + 3)?,
        r.try_get(at + 4)?,
    ))
}

async fn report_events(
    c: &impl GenericClient,
    region: &str,
    id: Uuid,
) -> Result<Vec<TimelineEntry>, StoreError> {
    c.all(
        "SELECT at, kind, actor, detail FROM report_events
         WHERE report_id = $1 AND region_id = $2 ORDER BY seq",
        &[&id, &region],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TimelineEntry {
            at: r.try_get(0)?,
            kind: r.try_get(1)?,
            actor: r.try_get(2)?,
            detail: r.try_get(3)?,
        })
    })
    .collect()
}

async fn add_report_event(
    c: &impl GenericClient,
    report: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    c.run(
        "INSERT INTO report_events (report_id, region_id, at, kind, actor, detail)
         SELECT id, region_id, $2, $3, $4, $5 FROM reports WHERE id = $1",
        &[&report, &at, &kind, &actor, &detail],
    )
    .await?;
    Ok(())
}

async fn put_facts(
    c: &impl GenericClient,
    id: Uuid,
    region: &str,
    f: &ReportFacts,
) -> Result<(), StoreError> {
    c.run(
        "INSERT INTO report_facts (report_id, region_id, occurred_on, event, channel, sexual,
            repeated, perpetrator, consequences, police_reported, not_reported_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (report_id) DO UPDATE SET occurred_on = excluded.occurred_on,
            event = excluded.event, channel = excluded.channel, sexual = excluded.sexual,
            repeated = excluded.repeated, perpetrator = excluded.perpetrator,
            consequences = excluded.consequences, police_reported = excluded.police_reported,
            not_reported_reason = excluded.not_reported_reason",
        &[
            &id,
            &region,
            &f.occurred_on,
            &f.event.map(|x| x.as_str()),
            &f.channel.map(|x| x.as_str()),
            &f.sexual,
            &f.repeated,
            &f.perpetrator.map(|x| x.as_str()),
            &consequences_column(&f.consequences),
            &f.police_reported,
            &f.not_reported_reason.map(|x| x.as_str()),
        ],
    )
    .await?;
    Ok(())
}

/// Gives every report stored before the statistics existed its facts (once, under the
/// migration lock; later reports get theirs as they arrive).
async fn backfill_facts(c: &impl GenericClient) -> Result<(), StoreError> {
    let rows = c
        .all(
            "SELECT r.id, r.region_id, v.body, r.first_received_at FROM reports r
             JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
             WHERE NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.report_id = r.id)",
            &[],
        )
        .await?;
    for r in &rows {
        let report: IncidentReport = serde_json::from_str(r.try_get(2)?).unwrap_or_default();
        let region: &str = r.try_get(1)?;
        put_facts(
            c,
            r.try_get(0)?,
            region,
            &ReportFacts::of(&report, r.try_get(3)?),
        )
        .await?;
    }
    if !rows.is_empty() {
        tracing::info!(
            reports = rows.len(),
            "statistics facts written for earlier reports"
        );
    }
    Ok(())
}

fn day_start(d: chrono::NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl PgStore {
    /// An alarm in any region (for the live feed between instances, which hands it to the
    /// dashboards of its own region only).
    async fn alarm_anywhere(&self, id: Uuid) -> Result<Option<Alarm>, StoreError> {
        let c = self.conn().await?;
        load_alarm(&c, id, false).await
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_enrollment(
        &self,
        region_id: &str,
        name: &str,
        role: Role,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run(
            "INSERT INTO enrollment_codes (code_hash, region_id, name, role, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&code_hash, &region_id, &name, &role.as_str(), &now, &expires_at],
        )
        .await?;
        Ok(())
    }

    async fn enroll(
        &self,
        code_hashes: &[String],
        token_hash: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(r) = tx
            .opt(
                "SELECT region_id, name, role, expires_at, used_at, code_hash FROM enrollment_codes
                 WHERE code_hash = ANY($1) FOR UPDATE",
                &[&code_hashes],
            )
            .await?
        else {
            return Err(StoreError::CodeUnknown);
        };
        let code_hash: String = r.try_get(5)?;
        let (region, name, role_text): (String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let expires: DateTime<Utc> = r.try_get(3)?;
        if r.try_get::<_, Option<DateTime<Utc>>>(4)?.is_some() {
            return Err(StoreError::CodeUsed);
        }
        if expires <= now {
            return Err(StoreError::CodeExpired);
        }
        tx.run(
            "INSERT INTO devices (id, region_id, name, role, token_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&device_id, &region, &name, &role_text, &token_hash, &now],
        )
        .await?;
        tx.run(
            "UPDATE enrollment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3",
            &[&now, &device_id, &code_hash],
        )
        .await?;
        tx.commit().await?;
        Ok(Device {
            id: device_id,
            region_id: region,
            name,
            role: role(&role_text)?,
            created_at: now,
            revoked_at: None,
            revoked_by: None,
        })
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!("SELECT {DEVICE_COLS} FROM devices WHERE token_hash = $1"),
            &[&token_hash],
        )
        .await?
        .as_ref()
        .map(device_row)
        .transpose()
    }

    async fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        by: super::Revoker,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        Ok(c.run(
            "UPDATE devices SET revoked_at = $1, revoked_by = $3
             WHERE id = $2 AND revoked_at IS NULL",
            &[&now, &id, &by.as_str()],
        )
        .await?
            > 0)
    }

    async fn devices(&self, region_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE $1::TEXT IS NULL OR region_id = $1
                 ORDER BY created_at"
            ),
            &[&region_id],
        )
        .await?
        .iter()
        .map(device_row)
        .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn create_officer(&self, o: &Officer, now: DateTime<Utc>) -> Result<(), StoreError> {
        let c = self.conn().await?;
        match c
            .run(
                "INSERT INTO officers (id, region_id, username, display_name, password_hash,
                    created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &o.id,
                    &o.region_id,
                    &o.username,
                    &o.display_name,
                    &o.password_hash,
                    &now,
                ],
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if unique_violation(&e) => {
                Err(StoreError::Taken(format!("username {}", o.username)))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = $1"),
            &[&username],
        )
        .await?
        .as_ref()
        .map(officer_row)
        .transpose()
    }

    async fn officers(&self, region_id: &str) -> Result<Vec<Officer>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {OFFICER_COLS} FROM officers o WHERE o.region_id = $1 ORDER BY o.username"
            ),
            &[&region_id],
        )
        .await?
        .iter()
        .map(officer_row)
        .collect()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        officer_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        tx.run("DELETE FROM sessions WHERE expires_at <= $1", &[&now])
            .await?;
        let added = tx
            .run(
                "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, region_id,
                    last_seen_at)
                 SELECT $1, id, $3, $4, region_id, $3 FROM officers WHERE id = $2
                    AND disabled_at IS NULL",
                &[&token_hash, &officer_id, &now, &expires_at],
            )
            .await?;
        if added != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<super::Session>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!(
                "SELECT {OFFICER_COLS}, s.expires_at, s.last_seen_at FROM sessions s
                 JOIN officers o ON o.id = s.officer_id AND o.region_id = s.region_id
                 WHERE s.token_hash = $1"
            ),
            &[&token_hash],
        )
        .await?
        .as_ref()
        .map(|r| {
            Ok(super::Session {
                officer: officer_row(r)?,
                expires_at: r.try_get(6)?,
                last_seen_at: r.try_get(7)?,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1",
            &[&now, &token_hash],
        )
        .await?;
        Ok(())
    }

    async fn change_officer(
        &self,
        username: &str,
        change: &super::OfficerChange,
    ) -> Result<Option<Officer>, StoreError> {
        use super::OfficerChange;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(o) = tx
            .opt(
                &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = $1 FOR UPDATE"),
                &[&username],
            )
            .await?
            .as_ref()
            .map(officer_row)
            .transpose()?
        else {
            return Ok(None);
        };
        match change {
            OfficerChange::Disable(at) => {
                tx.run(
                    "UPDATE officers SET disabled_at = $1 WHERE id = $2",
                    &[at, &o.id],
                )
                .await?;
            }
            OfficerChange::Enable => {
                tx.run(
                    "UPDATE officers SET disabled_at = NULL WHERE id = $1",
                    &[&o.id],
                )
                .await?;
            }
            OfficerChange::Password(hash) => {
                tx.run(
                    "UPDATE officers SET password_hash = $1 WHERE id = $2",
                    &[hash, &o.id],
                )
                .await?;
            }
            OfficerChange::Remove => {}
        }
        if *change != OfficerChange::Enable {
            tx.run("DELETE FROM sessions WHERE officer_id = $1", &[&o.id])
                .await?;
        }
        if *change == OfficerChange::Remove {
            tx.run("DELETE FROM officers WHERE id = $1", &[&o.id])
                .await?;
        }
        tx.commit().await?;
        Ok(Some(o))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
            .await?;
        Ok(())
    }

    async fn put_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &AlarmRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let inserted = tx
            .run(
                "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                    place, message, status, version, drill)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 1, $9)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &device.region_id,
                    &device.id,
                    &req.triggered_at,
                    &now,
                    &req.meeting,
                    &req.place,
                    &req.message,
                    &req.drill,
                ],
            )
            .await?
            == 1;
        let alarm = load_alarm(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        if alarm.device_id != device.id {
            return Err(StoreError::OtherDevice);
        }
        if inserted {
            let what = if req.drill { "drill" } else { "" };
            add_event(
                &tx,
                id,
                req.triggered_at,
                EventKind::Triggered.as_str(),
                &device.name,
                what,
            )
            .await?;
            if let Some(stored) = req.stored_at {
                add_event(
                    &tx,
                    id,
                    stored,
                    EventKind::Stored.as_str(),
                    &device.name,
                    "",
                )
                .await?;
            }
            add_event(&tx, id, now, EventKind::Received.as_str(), "server", "").await?;
            self.announce(&tx, &alarm).await?;
        }
        tx.commit().await?;
        Ok((alarm, inserted))
    }

    async fn cancel_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &CancelRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm = load_alarm(&tx, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        if alarm.device_id != device.id {
            return Err(StoreError::OtherDevice);
        }
        if alarm.status == AlarmStatus::Cancelled || alarm.duress_at.is_some() {
            return Ok((alarm, false));
        }
        if req.duress {
            // Forced to cancel: the alarm stays as it is, marked; the device shows a cancel.
            tx.run(
                "UPDATE alarms SET duress_at = $1, version = version + 1 WHERE id = $2",
                &[&now, &id],
            )
            .await?;
            add_event(
                &tx,
                id,
                now,
                EventKind::Duress.as_str(),
                &device.name,
                &req.reason,
            )
            .await?;
        } else {
            tx.run(
                "UPDATE alarms SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2,
                    version = version + 1 WHERE id = $3",
                &[&now, &req.reason, &id],
            )
            .await?;
            add_event(
                &tx,
                id,
                now,
                EventKind::Cancelled.as_str(),
                &device.name,
                &req.reason,
            )
            .await?;
        }
        let alarm = load_alarm(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.announce(&tx, &alarm).await?;
        tx.commit().await?;
        Ok((alarm, true))
    }

    async fn acknowledge_alarm(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm = load_alarm(&tx, id, true)
            .await?
            .filter(|a| a.region_id == officer.region_id)
            .ok_or(StoreError::NotFound)?;
        if alarm.status != AlarmStatus::Open {
            return Ok((alarm, false));
        }
        tx.run(
            "UPDATE alarms SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2,
                version = version + 1 WHERE id = $3",
            &[&now, &officer.display_name, &id],
        )
        .await?;
        add_event(
            &tx,
            id,
            now,
            EventKind::Acknowledged.as_str(),
            &officer.display_name,
            "",
        )
        .await?;
        let alarm = load_alarm(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.announce(&tx, &alarm).await?;
        tx.commit().await?;
        Ok((alarm, true))
    }

    async fn alarm(&self, region_id: &str, id: Uuid) -> Result<Option<Alarm>, StoreError> {
        let c = self.conn().await?;
        Ok(load_alarm(&c, id, false)
            .await?
            .filter(|a| a.region_id == region_id))
    }

    async fn alarms(&self, region_id: &str, limit: u32) -> Result<Vec<Alarm>, StoreError> {
        let c = self.conn().await?;
        let list = c
            .all(
                &format!(
                    "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.region_id = $1 ORDER BY a.received_at DESC LIMIT $2"
                ),
                &[&region_id, &i64::from(limit)],
            )
            .await?;
        let mut out = Vec::with_capacity(list.len());
        for r in &list {
            out.push(with_messages(&c, alarm_row(r)?).await?);
        }
        Ok(out)
    }

    async fn alarm_events(&self, region_id: &str, id: Uuid) -> Result<Vec<AlarmEvent>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT e.at, e.kind, e.actor, e.detail FROM alarm_events e
             JOIN alarms a ON a.id = e.alarm_id
             WHERE e.alarm_id = $1 AND a.region_id = $2 AND e.region_id = $2 ORDER BY e.seq",
            &[&id, &region_id],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AlarmEvent {
                at: r.try_get(0)?,
                kind: r.try_get(1)?,
                actor: r.try_get(2)?,
                detail: r.try_get(3)?,
            })
        })
        .collect()
    }

    async fn unacknowledged_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.status = 'open' AND NOT a.drill ORDER BY a.received_at"
            ),
            &[],
        )
        .await?
        .iter()
        .map(alarm_row)
        .collect()
    }

    async fn escalate_alarm(
        &self,
        id: Uuid,
        step: u32,
        to: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm = load_alarm(&tx, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !super::escalation_due(&alarm, step) {
            return Ok(None);
        }
        let (names_json, detail) = super::escalation_record(&alarm, step, to)?;
        // Claimed by the database: the row is locked and the step checked in the WHERE.
        let claimed = tx
            .run(
                "UPDATE alarms SET escalation_step = $1, escalated_to = $2, version = version + 1
                 WHERE id = $3 AND escalation_step = $4 AND status = 'open'",
                &[&(step as i32), &names_json, &id, &(step as i32 - 1)],
            )
            .await?
            == 1;
        if !claimed {
            return Ok(None);
        }
        add_event(
            &tx,
            id,
            now,
            EventKind::Escalated.as_str(),
            "server",
            &detail,
        )
        .await?;
        let alarm = load_alarm(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.announce(&tx, &alarm).await?;
        tx.commit().await?;
        Ok(Some(alarm))
    }

    async fn mark_shown(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        load_alarm(&tx, id, true)
            .await?
            .filter(|a| a.region_id == officer.region_id)
            .ok_or(StoreError::NotFound)?;
        let seen: bool = tx
            .one(
                "SELECT EXISTS (SELECT 1 FROM alarm_events
                    WHERE alarm_id = $1 AND region_id = $3 AND kind = 'shown' AND actor = $2)",
                &[&id, &officer.display_name, &officer.region_id],
            )
            .await?
            .try_get(0)?;
        if seen {
            return Ok(false);
        }
        add_event(
            &tx,
            id,
            now,
            EventKind::Shown.as_str(),
            &officer.display_name,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn put_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckinRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let revision = req.revision as i32;
        let inserted = tx
            .run(
                "INSERT INTO checkins (id, region_id, device_id, started_at, deadline, meeting,
                    place, revision, status, received_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &device.region_id,
                    &device.id,
                    &req.started_at,
                    &req.deadline,
                    &req.meeting,
                    &req.place,
                    &revision,
                    &now,
                ],
            )
            .await?
            == 1;
        let k = load_checkin(&tx, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        if k.device_id != device.id {
            return Err(StoreError::OtherDevice);
        }
        if inserted {
            tx.commit().await?;
            return Ok((k, true));
        }
        // An extension: only a newer revision of a check-in still running.
        let changed = tx
            .run(
                "UPDATE checkins SET deadline = $1, meeting = $2, place = $3, revision = $4,
                    updated_at = $5
                 WHERE id = $6 AND status = 'active' AND revision < $4",
                &[
                    &req.deadline,
                    &req.meeting,
                    &req.place,
                    &revision,
                    &now,
                    &id,
                ],
            )
            .await?
            == 1;
        let k = load_checkin(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((k, changed))
    }

    async fn checkout_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckoutRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, Option<Alarm>), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let k = load_checkin(&tx, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        if k.device_id != device.id {
            return Err(StoreError::OtherDevice);
        }
        if k.checked_out_at.is_some() {
            return Ok((k, None));
        }
        // A missed check-in stays overdue; the check-out is recorded beside it.
        let status = super::checkout_status(&k);
        tx.run(
            "UPDATE checkins SET status = $1, checked_out_at = $2, outcome = $3, updated_at = $4
             WHERE id = $5",
            &[
                &status,
                &req.at,
                &super::outcome_str(req.outcome),
                &now,
                &id,
            ],
        )
        .await?;
        let mut alarm = None;
        if let Some(alarm_id) = k.alarm_id {
            // Late: the alarm stands until an officer acknowledges it.
            let detail = super::late_checkout_detail(req.outcome);
            load_alarm(&tx, alarm_id, true).await?;
            add_event(
                &tx,
                alarm_id,
                now,
                EventKind::CheckedOut.as_str(),
                &device.name,
                detail,
            )
            .await?;
            tx.run(
                "UPDATE alarms SET version = version + 1 WHERE id = $1",
                &[&alarm_id],
            )
            .await?;
            alarm = load_alarm(&tx, alarm_id, false).await?;
            if let Some(a) = &alarm {
                self.announce(&tx, a).await?;
            }
        }
        let k = load_checkin(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((k, alarm))
    }

    async fn checkin(&self, region_id: &str, id: Uuid) -> Result<Option<Checkin>, StoreError> {
        let c = self.conn().await?;
        Ok(load_checkin(&c, id, false)
            .await?
            .filter(|k| k.region_id == region_id))
    }

    async fn open_checkins(&self, region_id: &str) -> Result<Vec<Checkin>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.region_id = $1
                   AND (k.status = 'active' OR (k.status = 'overdue' AND k.checked_out_at IS NULL))
                 ORDER BY k.deadline"
            ),
            &[&region_id],
        )
        .await?
        .iter()
        .map(checkin_row)
        .collect()
    }

    async fn overdue_checkins(&self, now: DateTime<Utc>) -> Result<Vec<Checkin>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.status = 'active' AND k.deadline <= $1 ORDER BY k.deadline"
            ),
            &[&now],
        )
        .await?
        .iter()
        .map(checkin_row)
        .collect()
    }

    async fn raise_overdue_checkin(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm_id = Checkin::alarm_id_for(id);
        // Claimed by the database: only an active check-in past its deadline turns.
        let claimed = tx
            .run(
                "UPDATE checkins SET status = 'overdue', alarm_id = $1, updated_at = $2
                 WHERE id = $3 AND status = 'active' AND deadline <= $2",
                &[&alarm_id, &now, &id],
            )
            .await?
            == 1;
        if !claimed {
            return Ok(None);
        }
        let k = load_checkin(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        let message = super::overdue_message(&k);
        tx.run(
            "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                place, message, status, version, drill)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 1, false)",
            &[
                &alarm_id,
                &k.region_id,
                &k.device_id,
                &k.deadline,
                &now,
                &k.meeting,
                &k.place,
                &message,
            ],
        )
        .await?;
        add_event(
            &tx,
            alarm_id,
            k.started_at,
            EventKind::CheckedIn.as_str(),
            &k.who,
            "",
        )
        .await?;
        add_event(
            &tx,
            alarm_id,
            now,
            EventKind::CheckinOverdue.as_str(),
            "server",
            &message,
        )
        .await?;
        let alarm = load_alarm(&tx, alarm_id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.announce(&tx, &alarm).await?;
        tx.commit().await?;
        Ok(Some(alarm))
    }

    async fn add_alarm_event(
        &self,
        region_id: &str,
        id: Uuid,
        event: &AlarmEvent,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        load_alarm(&tx, id, true)
            .await?
            .filter(|a| a.region_id == region_id)
            .ok_or(StoreError::NotFound)?;
        add_event(&tx, id, event.at, &event.kind, &event.actor, &event.detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_report(
        &self,
        device: &Device,
        id: Uuid,
        req: &ReportRequest,
        now: DateTime<Utc>,
    ) -> Result<(ReportReceipt, bool), StoreError> {
        let revision = req.revision;
        let body = serde_json::to_string(&req.report)
            .map_err(|e| StoreError::Backend(format!("report body: {e}")))?;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let inserted = tx
            .run(
                "INSERT INTO reports (id, region_id, device_id, current_revision,
                    first_received_at, updated_at) VALUES ($1, $2, $3, 0, $4, $4)
                 ON CONFLICT (id) DO NOTHING",
                &[&id, &device.region_id, &device.id, &now],
            )
            .await?
            == 1;
        let row = tx
            .one(
                "SELECT device_id, current_revision, first_received_at FROM reports
                 WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?;
        let owner: Uuid = row.try_get(0)?;
        if owner != device.id {
            return Err(StoreError::OtherDevice);
        }
        let current = u32_of(row.try_get(1)?);
        let first_received_at: DateTime<Utc> = row.try_get(2)?;
        let stored = tx
            .opt(
                "SELECT body, received_at FROM report_revisions
                 WHERE report_id = $1 AND revision = $2 AND region_id = $3",
                &[&id, &(revision as i32), &device.region_id],
            )
            .await?;
        if let Some(r) = stored {
            let stored_body: &str = r.try_get(0)?;
            if stored_body != body {
                return Err(StoreError::RevisionConflict { revision, current });
            }
            let receipt = ReportReceipt {
                id,
                revision,
                received_at: r.try_get(1)?,
                current_revision: current.max(revision),
                followup: None,
            };
            return Ok((receipt, false));
        }
        tx.run(
            "INSERT INTO report_revisions (report_id, revision, body, received_at, region_id)
             VALUES ($1, $2, $3, $4, $5)",
            &[&id, &(revision as i32), &body, &now, &device.region_id],
        )
        .await?;
        if revision > current || inserted {
            tx.run(
                "UPDATE reports SET current_revision = GREATEST(current_revision, $1),
                    updated_at = $2 WHERE id = $3",
                &[&(revision as i32), &now, &id],
            )
            .await?;
        }
        if revision > current {
            put_facts(
                &tx,
                id,
                &device.region_id,
                &ReportFacts::of(&req.report, first_received_at),
            )
            .await?;
        }
        let (kind, detail) = super::report_arrival(current, revision);
        add_report_event(&tx, id, now, kind, &device.name, &detail).await?;
        tx.commit().await?;
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
    }

    async fn report(&self, region_id: &str, id: Uuid) -> Result<Option<Report>, StoreError> {
        let c = self.conn().await?;
        load_report(&c, region_id, id, true).await
    }

    async fn report_receipt(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<Option<ReportReceipt>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!(
                "SELECT r.current_revision, v.received_at, {FOLLOWUP_COLS} FROM reports r
                 JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                    AND v.region_id = r.region_id
                 WHERE r.id = $1 AND r.device_id = $2"
            ),
            &[&id, &device.id],
        )
        .await?
        .map(|r| {
            let followup = followup_row(&r, 2)?;
            Ok(ReportReceipt {
                id,
                followup: (followup.state != FollowupState::New).then_some(followup),
                revision: u32_of(r.try_get(0)?),
                received_at: r.try_get(1)?,
                current_revision: u32_of(r.try_get(0)?),
            })
        })
        .transpose()
    }

    async fn reports(&self, region_id: &str, limit: u32) -> Result<Vec<Report>, StoreError> {
        let c = self.conn().await?;
        let ids: Vec<Uuid> = c
            .all(
                "SELECT id FROM reports WHERE region_id = $1 ORDER BY updated_at DESC LIMIT $2",
                &[&region_id, &i64::from(limit)],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = load_report(&c, region_id, id, false).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn add_alarm_message(
        &self,
        region_id: &str,
        alarm_id: Uuid,
        device: Option<Uuid>,
        message: &AlarmMessage,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The alarm's row lock orders messages written at once on several instances.
        let alarm = load_alarm(&tx, alarm_id, true)
            .await?
            .filter(|a| a.region_id == region_id)
            .filter(|a| device.is_none_or(|d| a.device_id == d))
            .ok_or(StoreError::NotFound)?;
        if let Some(stored) = alarm.messages.iter().find(|m| m.id == message.id) {
            super::same_message(stored, message)?;
            return Ok((alarm, false));
        }
        super::message_allowed(&alarm)?;
        let inserted = tx
            .run(
                "INSERT INTO alarm_messages (id, alarm_id, region_id, sender, author, text, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[
                    &message.id,
                    &alarm_id,
                    &region_id,
                    &message.from.as_str(),
                    &message.author,
                    &message.text,
                    &message.at,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::Conflict(
                "this message id was already used for another message".into(),
            ));
        }
        add_event(
            &tx,
            alarm_id,
            message.at,
            message.from.event_kind().as_str(),
            &message.author,
            &message.text,
        )
        .await?;
        tx.run(
            "UPDATE alarms SET version = version + 1 WHERE id = $1",
            &[&alarm_id],
        )
        .await?;
        let alarm = load_alarm(&tx, alarm_id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.announce(&tx, &alarm).await?;
        tx.commit().await?;
        Ok((alarm, true))
    }

    async fn centre_since(
        &self,
        region_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let c = self.conn().await?;
        c.run(
            "INSERT INTO centre_state (region_id, since) VALUES ($1, $2) ON CONFLICT (region_id) DO NOTHING",
            &[&region_id, &now],
        )
        .await?;
        Ok(c.one(
            "SELECT since FROM centre_state WHERE region_id = $1",
            &[&region_id],
        )
        .await?
        .try_get(0)?)
    }

    async fn centre_lease(
        &self,
        region_id: &str,
        holder: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE centre_state SET lease_holder = $2, lease_until = $4 WHERE region_id = $1
                   AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < $3)",
                &[&region_id, &holder, &now, &until],
            )
            .await?;
        Ok(n == 1)
    }

    async fn centre_pending(
        &self,
        region_id: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CentreEvent>, StoreError> {
        let c = self.conn().await?;
        let kinds: Vec<&str> = super::CENTRE_KINDS.to_vec();
        c.all(
            "SELECT e.seq, e.alarm_id, e.kind, a.drill, a.device_id, a.place
             FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id
             WHERE e.region_id = $1 AND e.at >= $2 AND e.kind = ANY($3)
               AND NOT EXISTS (SELECT 1 FROM centre_sent s WHERE s.event_seq = e.seq)
             ORDER BY e.seq LIMIT $4",
            &[&region_id, &since, &kinds, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(CentreEvent {
                seq: r.try_get(0)?,
                alarm_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                drill: r.try_get(3)?,
                device_id: r.try_get(4)?,
                place: r.try_get(5)?,
            })
        })
        .collect()
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
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let added = tx
            .run(
                "INSERT INTO centre_sent (event_seq, region_id, answer, at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (event_seq) DO NOTHING",
                &[&seq, &region_id, &answer, &now],
            )
            .await?;
        if added == 0 {
            return Ok(None);
        }
        let kind: String = tx
            .one("SELECT kind FROM alarm_events WHERE seq = $1", &[&seq])
            .await?
            .try_get(0)?;
        let Some(outcome) = super::centre_outcome(taken, &kind, answer) else {
            tx.commit().await?;
            return Ok(None);
        };
        let (entry, detail) = &outcome.entry;
        add_event(&tx, alarm_id, now, entry, "larmcentral", detail).await?;
        if outcome.received {
            tx.run(
                "UPDATE alarms SET centre_received_at = COALESCE(centre_received_at, $2) WHERE id = $1",
                &[&alarm_id, &now],
            )
            .await?;
        }
        if outcome.refused {
            tx.run(
                "UPDATE alarms SET centre_refused_at = $2 WHERE id = $1",
                &[&alarm_id, &now],
            )
            .await?;
        }
        tx.run(
            "UPDATE alarms SET version = version + 1 WHERE id = $1",
            &[&alarm_id],
        )
        .await?;
        let alarm = load_alarm(&tx, alarm_id, false).await?;
        if let Some(a) = &alarm {
            self.announce(&tx, a).await?;
        }
        tx.commit().await?;
        Ok(alarm)
    }

    async fn centre_link(
        &self,
        region_id: &str,
        up: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.conn().await?;
        if up {
            c.run(
                "UPDATE centre_state SET last_answer_at = $2, down_since = NULL WHERE region_id = $1",
                &[&region_id, &now],
            )
            .await?;
        } else {
            c.run(
                "UPDATE centre_state SET down_since = COALESCE(down_since, $2) WHERE region_id = $1",
                &[&region_id, &now],
            )
            .await?;
        }
        Ok(())
    }

    async fn centre_status(&self, region_id: &str) -> Result<Option<CentreStatus>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            "SELECT last_answer_at, down_since FROM centre_state WHERE region_id = $1",
            &[&region_id],
        )
        .await?
        .map(|r| {
            Ok(CentreStatus {
                last_answer_at: r.try_get(0)?,
                down_since: r.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn set_instructions(&self, device: Uuid, text: &str) -> Result<(), StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE devices SET instructions = $2 WHERE id = $1",
                &[&device, &text],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn follow_up(
        &self,
        region_id: &str,
        id: Uuid,
        officer: &str,
        change: &FollowupChange,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The row lock orders concurrent changes by officers on other instances.
        tx.opt(
            "SELECT 1 FROM reports WHERE id = $1 AND region_id = $2 FOR UPDATE",
            &[&id, &region_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        let current = load_report(&tx, region_id, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(plan) = super::followup_plan(&current.followup, change)? {
            tx.run(
                "UPDATE reports SET followup_state = $1, followup_by = $2,
                    followup_message = $3, followup_at = $4 WHERE id = $5 AND region_id = $6",
                &[
                    &change.state.as_str(),
                    &officer,
                    &plan.message,
                    &now,
                    &id,
                    &region_id,
                ],
            )
            .await?;
            for (kind, detail) in plan.entries {
                add_report_event(&tx, id, now, kind, officer, &detail).await?;
            }
        }
        let report = load_report(&tx, region_id, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(report)
    }

    async fn report_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ReportFacts>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT occurred_on, event, channel, sexual, repeated, perpetrator, consequences,
                police_reported, not_reported_reason
             FROM report_facts WHERE region_id = $1 AND occurred_on >= $2 AND occurred_on <= $3",
            &[&region_id, &from, &to],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(ReportFacts {
                occurred_on: r.try_get(0)?,
                event: r
                    .try_get::<_, Option<&str>>(1)?
                    .and_then(varn_core::ptu::EventType::parse),
                channel: r
                    .try_get::<_, Option<&str>>(2)?
                    .and_then(varn_core::ptu::Channel::parse),
                sexual: r.try_get(3)?,
                repeated: r.try_get(4)?,
                perpetrator: r
                    .try_get::<_, Option<&str>>(5)?
                    .and_then(varn_core::ptu::Perpetrator::parse),
                consequences: consequences_from_column(r.try_get(6)?),
                police_reported: r.try_get(7)?,
                not_reported_reason: r
                    .try_get::<_, Option<&str>>(8)?
                    .and_then(varn_core::ptu::NotReportedReason::parse),
            })
        })
        .collect()
    }

    async fn alarm_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<AlarmFacts>, StoreError> {
        let c = self.conn().await?;
        let (start, end) = (day_start(from), day_start(to.succ_opt().unwrap_or(to)));
        c.all(
            "SELECT a.received_at, a.drill,
                a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                EXTRACT(EPOCH FROM (a.acknowledged_at - a.received_at))::BIGINT,
                a.escalation_step > 0
             FROM alarms a WHERE a.region_id = $1 AND a.received_at >= $2 AND a.received_at < $3
             UNION ALL
             SELECT received_at, drill, from_checkin, ack_seconds, escalated FROM alarm_facts
             WHERE region_id = $1 AND received_at >= $2 AND received_at < $3",
            &[&region_id, &start, &end],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AlarmFacts {
                received_at: r.try_get(0)?,
                drill: r.try_get(1)?,
                from_checkin: r.try_get(2)?,
                ack_seconds: r.try_get(3)?,
                escalated: r.try_get(4)?,
            })
        })
        .collect()
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run(
            "INSERT INTO audit_log (region_id, at, officer, action, item_kind, item_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &entry.region_id,
                &entry.at,
                &entry.officer,
                &entry.action,
                &entry.item_kind,
                &entry.item_id,
            ],
        )
        .await?;
        Ok(())
    }

    async fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT at, region_id, officer, action, item_kind, item_id FROM audit_log
             WHERE ($1::TEXT IS NULL OR region_id = $1) AND ($2::TEXT IS NULL OR item_id = $2)
               AND ($3::TIMESTAMPTZ IS NULL OR at >= $3) AND ($4::TIMESTAMPTZ IS NULL OR at < $4)
             ORDER BY seq DESC LIMIT $5",
            &[
                &q.region_id,
                &q.item_id,
                &q.from,
                &q.until,
                &i64::from(q.limit),
            ],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get(0)?,
                region_id: r.try_get(1)?,
                officer: r.try_get(2)?,
                action: r.try_get(3)?,
                item_kind: r.try_get(4)?,
                item_id: r.try_get(5)?,
            })
        })
        .collect()
    }

    async fn purge(
        &self,
        reports_before: Option<DateTime<Utc>>,
        alarms_before: Option<DateTime<Utc>>,
    ) -> Result<Purged, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let mut purged = Purged::default();
        if let Some(cutoff) = reports_before {
            const OLD: &str = "SELECT id FROM reports
                WHERE followup_state = 'closed' AND followup_at < $1";
            let n: i64 = tx
                .one(
                    &format!("SELECT COUNT(*) FROM attachments WHERE report_id IN ({OLD})"),
                    &[&cutoff],
                )
                .await?
                .try_get(0)?;
            purged.attachments = n as u64;
            tx.run(
                &format!(
                    "DELETE FROM attachment_chunks WHERE attachment_id IN
                        (SELECT id FROM attachments WHERE report_id IN ({OLD}))"
                ),
                &[&cutoff],
            )
            .await?;
            for table in ["attachments", "report_revisions", "report_events"] {
                tx.run(
                    &format!("DELETE FROM {table} WHERE report_id IN ({OLD})"),
                    &[&cutoff],
                )
                .await?;
            }
            purged.reports = tx
                .run(
                    "DELETE FROM reports WHERE followup_state = 'closed' AND followup_at < $1",
                    &[&cutoff],
                )
                .await?;
        }
        if let Some(cutoff) = alarms_before {
            const OLD: &str = "SELECT id FROM alarms WHERE received_at < $1
                AND status IN ('acknowledged', 'cancelled') AND duress_at IS NULL";
            tx.run(
                &format!(
                    "INSERT INTO alarm_facts (alarm_id, region_id, received_at, drill,
                        from_checkin, ack_seconds, escalated)
                     SELECT a.id, a.region_id, a.received_at, a.drill,
                        a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                        EXTRACT(EPOCH FROM (a.acknowledged_at - a.received_at))::BIGINT,
                        a.escalation_step > 0
                     FROM alarms a WHERE a.id IN ({OLD})
                     ON CONFLICT (alarm_id) DO NOTHING"
                ),
                &[&cutoff],
            )
            .await?;
            for table in ["alarm_events", "alarm_messages"] {
                tx.run(
                    &format!("DELETE FROM {table} WHERE alarm_id IN ({OLD})"),
                    &[&cutoff],
                )
                .await?;
            }
            purged.alarms = tx
                .run(
                    "DELETE FROM alarms WHERE received_at < $1
                        AND status IN ('acknowledged', 'cancelled') AND duress_at IS NULL",
                    &[&cutoff],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(purged)
    }

    async fn create_attachment(
        &self,
        device: &Device,
        report_id: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let owner: Option<Uuid> = tx
            .opt(
                "SELECT device_id FROM reports WHERE id = $1 FOR SHARE",
                &[&report_id],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match owner {
            None => return Err(StoreError::NotFound),
            Some(o) if o != device.id => return Err(StoreError::OtherDevice),
            Some(_) => {}
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
            Some(now)
        } else {
            None
        };
        tx.run(
            "INSERT INTO attachments (id, report_id, device_id, filename, content_type, size,
                sha256, received, complete_at, created_at, region_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)
             ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &report_id,
                &device.id,
                &meta.filename,
                &meta.content_type,
                &(meta.size as i64),
                &meta.sha256,
                &complete,
                &now,
                &device.region_id,
            ],
        )
        .await?;
        let a = own_attachment(&tx, device, id, false).await?;
        let same = a.report_id == report_id
            && a.filename == meta.filename
            && a.content_type == meta.content_type
            && a.size == meta.size
            && a.sha256 == meta.sha256;
        if !same {
            return Err(StoreError::MetaConflict);
        }
        tx.commit().await?;
        Ok(a.status())
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
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let a = own_attachment(&tx, device, id, true).await?;
        if a.complete_at.is_some() {
            // A retry of the last chunk whose answer was lost: already done.
            return Ok(a.status());
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
            return Ok(a.status());
        }
        let (state, complete_at) = match verdict {
            ChunkVerdict::Mismatch { actual } => {
                // The reset is committed although the answer is an error.
                tx.run(
                    "DELETE FROM attachment_chunks WHERE attachment_id = $1",
                    &[&id],
                )
                .await?;
                tx.run(
                    "UPDATE attachments SET received = 0, hash_state = NULL WHERE id = $1",
                    &[&id],
                )
                .await?;
                tx.commit().await?;
                return Err(StoreError::ChecksumMismatch {
                    expected: a.sha256,
                    actual,
                });
            }
            ChunkVerdict::Partial(state) => (Some(state), None),
            ChunkVerdict::Complete => (None, Some(now)),
        };
        tx.run(
            "INSERT INTO attachment_chunks (attachment_id, \"offset\", data, region_id)
             VALUES ($1, $2, $3, $4)",
            &[&id, &(offset as i64), &bytes, &device.region_id],
        )
        .await?;
        tx.run(
            "UPDATE attachments SET received = $1, hash_state = $2, complete_at = $3 WHERE id = $4",
            &[&(end as i64), &state, &complete_at, &id],
        )
        .await?;
        tx.commit().await?;
        Ok(UploadStatus {
            id,
            offset: end,
            size: a.size,
            complete: complete_at.is_some(),
        })
    }

    async fn publish_profile(
        &self,
        region_id: &str,
        version: u32,
        signed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        Ok(c.run(
            "INSERT INTO published_profiles (region_id, version, signed, published_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&region_id, &i64::from(version), &signed, &now],
        )
        .await?
            == 1)
    }

    async fn published_profiles(&self) -> Result<Vec<String>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT DISTINCT ON (region_id) signed FROM published_profiles
             ORDER BY region_id, version DESC",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    async fn add_release(&self, release: &Release, bundle: &[u8]) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let r = release;
        Ok(c.run(
            "INSERT INTO app_releases
                 (version, platform, notes, signature, sha256, size, bundle, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                &r.version,
                &r.platform,
                &r.notes,
                &r.signature,
                &r.sha256,
                &(r.size as i64),
                &bundle,
                &r.published_at,
            ],
        )
        .await?
            == 1)
    }

    async fn releases(&self) -> Result<Vec<Release>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT version, platform, notes, signature, sha256, size, published_at
             FROM app_releases ORDER BY published_at, version, platform",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Release {
                version: r.try_get(0)?,
                platform: r.try_get(1)?,
                notes: r.try_get(2)?,
                signature: r.try_get(3)?,
                sha256: r.try_get(4)?,
                size: r.try_get::<_, i64>(5)?.max(0) as u64,
                published_at: r.try_get(6)?,
            })
        })
        .collect()
    }

    async fn release_bundle(
        &self,
        version: &str,
        platform: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let c = self.conn().await?;
        Ok(
            match c
                .opt(
                    "SELECT bundle FROM app_releases WHERE version = $1 AND platform = $2",
                    &[&version, &platform],
                )
                .await?
            {
                Some(row) => Some(row.try_get(0)?),
                None => None,
            },
        )
    }

    async fn upload(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
        let c = self.conn().await?;
        let a = own_attachment(&c, device, id, false).await?;
        let state: Option<Vec<u8>> = c
            .one("SELECT hash_state FROM attachments WHERE id = $1", &[&id])
            .await?
            .try_get(0)?;
        Ok((a, state))
    }

    async fn attachment(&self, region_id: &str, id: Uuid) -> Result<Attachment, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!(
                "SELECT {ATTACHMENT_COLS} FROM attachments a
                 JOIN reports r ON r.id = a.report_id
                 WHERE a.id = $1 AND r.region_id = $2 AND a.region_id = $2"
            ),
            &[&id, &region_id],
        )
        .await?
        .as_ref()
        .map(attachment_row)
        .transpose()?
        .filter(|a| a.complete_at.is_some())
        .ok_or(StoreError::NotFound)
    }

    async fn attachment_chunk(
        &self,
        region_id: &str,
        id: Uuid,
        offset: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            "SELECT \"offset\", data FROM attachment_chunks
             WHERE attachment_id = $1 AND region_id = $2 AND \"offset\" >= $3
             ORDER BY \"offset\" LIMIT 1",
            &[&id, &region_id, &(offset as i64)],
        )
        .await?
        .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
        .transpose()
    }

    fn remote_alarms(&self) -> Option<broadcast::Receiver<Alarm>> {
        Some(self.remote.subscribe())
    }
}
