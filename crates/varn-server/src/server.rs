//! Serving: plain HTTP on loopback or TLS (rustls), with a graceful shutdown that lets requests
//! in flight finish and ends long-polls and live feeds.
//!
//! HTTP/1.1 only, with hyper's header timeout switched on (it needs a timer, and without one
//! it is silently off): a client must send its request headers within
//! [`Limits::header_read_timeout`], also between requests on a kept-alive connection.
//! HTTP/2 is not offered (neither by ALPN nor as prior knowledge): the app speaks HTTP/1.1,
//! and hyper's HTTP/2 server has no header timeout, so an idle HTTP/2 connection would be
//! held for as long as its client answers pings. Connections are capped per address and in
//! all ([`crate::connections`]).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::Handle;
use hyper_util::rt::TokioTimer;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use varn_core::signing::SignedProfile;

use crate::auth::ServerSecret;
use crate::clock::Clock;
use crate::connections::{Connections, Guard};
use crate::escalation::{self, Escalation};
use crate::limits::Limits;
use crate::store::Store;
use crate::{router, AppState, StateConfig};

/// How long shutdown waits for requests in flight.
pub const GRACE: Duration = Duration::from_secs(20);

/// What a running server is made of.
pub struct Parts {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Region profiles to start with (signed, or unsigned like the embedded default).
    pub profiles: Vec<SignedProfile>,
    /// Escalation lists and the notifier.
    pub escalation: Escalation,
    /// The bounds on time, memory and count.
    pub limits: Limits,
    /// The secret enrollment codes are stored under.
    pub secret: ServerSecret,
    /// How long closed reports and finished alarms are kept.
    pub retention: crate::retention::Retention,
    /// The regions' 24/7 alarm centres.
    pub centres: Vec<crate::centre::Centre>,
    /// How clients reach the server: trusted proxies and the public address.
    pub front: crate::front::Front,
    /// The regions' identity providers (OpenID Connect).
    pub oidc: Vec<crate::oidc::RegionOidc>,
}

/// A server that is listening.
pub struct Running {
    /// The address it listens on (the real port when bound to port 0).
    pub addr: SocketAddr,
    /// Whether it speaks TLS.
    pub tls: bool,
    /// The state its handlers share.
    pub state: AppState,
    /// Its open connections.
    pub connections: Connections,
    handle: Handle<SocketAddr>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting, ends live feeds and waits for requests in flight (up to [`GRACE`]).
    pub async fn stop(self) -> io::Result<()> {
        let _ = self.shutdown.send(true);
        self.handle.graceful_shutdown(Some(GRACE));
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(io::Error::other(e)),
        }
    }
}

/// Starts serving on an already bound listener (tests bind `127.0.0.1:0`).
pub async fn start(
    listener: std::net::TcpListener,
    parts: Parts,
    tls: Option<RustlsConfig>,
) -> io::Result<Running> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let limits = parts.limits.clone();
    let retention = parts.retention;
    let centres = parts.centres.clone();
    for c in &centres {
        for r in c.receivers.iter().filter(|r| r.key.is_none()) {
            tracing::warn!(region = %c.region, receiver = %r.name, "alarm centre without encryption (allow_cleartext): messages travel in clear text, without the place");
        }
    }
    for weaker in limits.weaker_than_default() {
        tracing::warn!("limit set weaker than the default: {weaker}");
    }
    let connections = Connections::new(
        limits.max_connections,
        limits.max_connections_per_peer,
        parts.front.trusted_proxies.clone(),
    );
    if !parts.front.trusted_proxies.is_empty() && parts.front.public_url.is_none() && tls.is_none()
    {
        tracing::warn!(
            "trusted_proxies is set but public_url is not: the session cookie is not marked \
             Secure and no HSTS is sent; set public_url to the https:// address of the proxy"
        );
    }
    let profiles = crate::profiles::starting(&parts.profiles).map_err(io::Error::other)?;
    let state = AppState::new(StateConfig {
        store: parts.store,
        clock: parts.clock,
        profiles,
        tls: tls.is_some(),
        front: parts.front,
        shutdown: shutdown_rx,
        escalation: parts.escalation,
        centre_regions: centres.iter().map(|c| c.region.clone()).collect(),
        limits: parts.limits,
        secret: parts.secret,
        providers: crate::oidc::Providers::new(&parts.oidc).map_err(io::Error::other)?,
    });
    // The newest published profiles before the first request: an instance never starts by
    // serving an older profile than the others.
    if let Err(e) = crate::profiles::refresh(&state).await {
        tracing::warn!("published profiles not read at start (trying again): {e}");
    }
    // Ends by itself when shutdown is signalled.
    tokio::spawn(escalation::run(state.clone()));
    tokio::spawn(crate::profiles::run(state.clone()));
    tokio::spawn(crate::retention::run(state.clone(), retention));
    log_last_restore(&state).await;
    tokio::spawn(crate::centre::run(state.clone(), centres));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = Handle::new();
    let is_tls = tls.is_some();
    let guard = Guard(connections.clone());
    let task = match tls {
        Some(cfg) => {
            let acceptor = RustlsAcceptor::new(cfg)
                .handshake_timeout(limits.header_read_timeout)
                .acceptor(guard);
            let mut server = axum_server::from_tcp(listener)?
                .acceptor(acceptor)
                .handle(handle.clone())
                .http1_only();
            bound_http(server.http_builder(), &limits);
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?
                .acceptor(guard)
                .handle(handle.clone())
                .http1_only();
            bound_http(server.http_builder(), &limits);
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    Ok(Running {
        addr,
        tls: is_tls,
        state,
        connections,
        handle,
        shutdown,
        task,
    })
}

/// HTTP/1.1 with a deadline for headers (hyper needs a timer for that) and bounded header
/// size and count.
fn bound_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &Limits,
) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(64)
        .max_buf_size(64 * 1024);
}

/// Loads a TLS certificate and key (PEM) with the ring provider, offering HTTP/1.1 only.
pub async fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> io::Result<RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    install_crypto_provider();
    let fail = |what: String| {
        io::Error::other(format!(
            "TLS certificate {} / key {}: {what}",
            cert.display(),
            key.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| fail(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| fail(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| fail(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Installs rustls' ring provider once (rustls needs one chosen per process).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Says in the log (the journal, under systemd) when the database was last restored from a
/// backup, from whom and what: the entry `restore` wrote into the restored database.
async fn log_last_restore(state: &AppState) {
    let query = crate::store::AuditQuery {
        region_id: Some(String::new()),
        limit: 100,
        ..Default::default()
    };
    let restored = crate::store::AuditAction::RestoreDatabase.as_str();
    match state.store().audit_log(&query).await {
        Ok(entries) => {
            if let Some(e) = entries.iter().find(|e| e.action == restored) {
                tracing::warn!(
                    at = %e.at,
                    by = %e.officer,
                    "this database was restored from a backup: {}",
                    e.item_id
                );
            }
        }
        Err(e) => tracing::error!("the audit log could not be read at start: {e}"),
    }
}
