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

use crate::store::prelude::*;
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

use alarms::*;
use files::*;
use reports::*;

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
    /// This instance's changes after their commit, and the other instances' as announced.
    feed: crate::store::AlarmFeed,
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
        let store = Arc::new(PgStore {
            pool,
            connect,
            instance: Uuid::now_v7(),
            feed: Default::default(),
        });
        listen(Arc::downgrade(&store)).await?;
        Ok(store)
    }

    /// Ends a change to alarm `id`: reads it as it now stands, tells the other instances
    /// (`NOTIFY`, delivered exactly when this commits), commits, and announces it here.
    async fn commit_alarm(
        &self,
        tx: deadpool_postgres::Transaction<'_>,
        id: Uuid,
    ) -> Result<Alarm, StoreError> {
        let alarm = load_alarm(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.announce(&tx, &alarm).await?;
        tx.commit().await?;
        self.feed.changed(alarm.clone());
        Ok(alarm)
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
                                    s.feed.changed(a);
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
                    s.feed.changed(alarm);
                    continue;
                }
                let Ok(id) = Uuid::parse_str(body) else {
                    tracing::warn!("an announcement that is neither an alarm nor an id");
                    continue;
                };
                match s.alarm_anywhere(id).await {
                    Ok(Some(alarm)) => {
                        s.feed.changed(alarm);
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
    stored_alarm_status(s)
        .ok_or_else(|| StoreError::Backend(format!("stored status {s} is unknown")))
}

fn checkin_status(s: &str) -> Result<CheckinStatus, StoreError> {
    stored_checkin_status(s)
        .ok_or_else(|| StoreError::Backend(format!("stored check-in status {s} is unknown")))
}

fn u32_of(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
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
    fn alarm_changes(&self) -> broadcast::Receiver<Arc<Alarm>> {
        self.feed.subscribe()
    }
}
