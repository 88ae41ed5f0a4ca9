//! Serving: plain HTTP on loopback or TLS (rustls), with a graceful shutdown that lets requests
//! in flight finish and ends long-polls and live feeds.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use varn_core::profile::Profile;

use crate::clock::Clock;
use crate::escalation::{self, Escalation};
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
    /// Region profiles.
    pub profiles: Vec<Profile>,
    /// Escalation lists and the notifier.
    pub escalation: Escalation,
}

/// A server that is listening.
pub struct Running {
    /// The address it listens on (the real port when bound to port 0).
    pub addr: SocketAddr,
    /// Whether it speaks TLS.
    pub tls: bool,
    /// The state its handlers share.
    pub state: AppState,
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
    let state = AppState::new(StateConfig {
        store: parts.store,
        clock: parts.clock,
        profiles: parts.profiles,
        secure_cookies: tls.is_some(),
        shutdown: shutdown_rx,
        escalation: parts.escalation,
    });
    // Ends by itself when shutdown is signalled.
    tokio::spawn(escalation::run(state.clone()));
    if let Some(remote) = state.store().remote_alarms() {
        tokio::spawn(forward_remote(state.clone(), remote));
    }
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = Handle::new();
    let is_tls = tls.is_some();
    let task = match tls {
        Some(cfg) => {
            let server = axum_server::from_tcp_rustls(listener, cfg)?.handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let server = axum_server::from_tcp(listener)?.handle(handle.clone());
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    Ok(Running {
        addr,
        tls: is_tls,
        state,
        handle,
        shutdown,
        task,
    })
}

/// Hands alarm changes made by other instances to this instance's dashboards and waiting
/// devices, until shutdown.
async fn forward_remote(
    state: AppState,
    mut remote: tokio::sync::broadcast::Receiver<crate::store::Alarm>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        tokio::select! {
            got = remote.recv() => match got {
                Ok(alarm) => state.publish(alarm),
                Err(RecvError::Lagged(n)) => {
                    // Some changes were missed: hand on every alarm still waiting instead.
                    tracing::warn!(missed = n, "live feed from other instances lagged; re-sending open alarms");
                    match state.store().unacknowledged_alarms().await {
                        Ok(open) => open.into_iter().for_each(|a| state.publish(a)),
                        Err(e) => tracing::error!("open alarms not re-read: {e}"),
                    }
                }
                Err(RecvError::Closed) => return,
            },
            _ = state.shutting_down() => return,
        }
    }
}

/// Loads a TLS certificate and key (PEM) with the ring provider.
pub async fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> io::Result<RustlsConfig> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "TLS certificate {} / key {}: {e}",
                cert.display(),
                key.display()
            ),
        )
    })
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
