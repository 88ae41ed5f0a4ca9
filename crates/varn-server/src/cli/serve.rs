//! `serve`: the region server itself, until a stop signal.

use std::sync::Arc;

use varn_server::clock::SystemClock;
use varn_server::config::{self, Config};
use varn_server::store::Store;
use varn_server::{auth, server};

/// Raises the soft limit on open files to the hard limit (connections are files), and says
/// how many connections that leaves room for.
fn raise_file_limit(limits: &mut varn_server::limits::Limits) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => {
            // Keep files for the database, logs and listeners.
            let room = usize::try_from(n.saturating_sub(256)).unwrap_or(usize::MAX);
            if room < limits.max_connections {
                tracing::warn!(
                    files = n,
                    "the open-file limit allows only {room} connections (limits.max_connections is {}); \
                     raise it (LimitNOFILE= in the systemd unit, ulimit -n)",
                    limits.max_connections
                );
                limits.max_connections = room.max(16);
            } else {
                tracing::info!(files = n, "open-file limit");
            }
        }
        Err(e) => tracing::warn!("the open-file limit could not be raised: {e}"),
    }
}

/// Serves the API and the dashboard until a stop signal; then finishes what is in flight.
pub async fn serve(
    config: &Config,
    store: Arc<dyn Store>,
    secret: auth::ServerSecret,
) -> Result<(), String> {
    let profiles = config::load_profiles(config).map_err(|e| e.to_string())?;
    let smtp_password = config::secret_value(
        "VARN_SERVER_SMTP_PASSWORD",
        std::env::var("VARN_SERVER_SMTP_PASSWORD").ok(),
        config
            .smtp
            .as_ref()
            .and_then(|s| s.password_file.as_deref()),
    )?;
    let escalation = config::escalation(config, smtp_password).map_err(|e| e.to_string())?;
    if config.insecure_dev && config.tls.is_none() {
        for _ in 0..3 {
            tracing::warn!("INSECURE: --insecure-dev serves plain HTTP on {}; alarms and tokens travel unencrypted. Never use this for a region.", config.bind);
        }
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(
            server::tls_config(cert, key)
                .await
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let listener = std::net::TcpListener::bind(config.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let mut limits = config.limits.clone();
    raise_file_limit(&mut limits);
    let database = store.clone();
    let running = server::start(
        listener,
        server::Parts {
            store,
            clock: Arc::new(SystemClock),
            profiles,
            escalation,
            limits,
            secret,
            retention: config.retention,
            centres: config.centres.clone(),
            oidc: config.oidc.clone(),
            front: config.front.clone(),
        },
        tls,
    )
    .await
    .map_err(|e| e.to_string())?;
    tracing::info!(url = %running.url(), database = %config.database, "serving; dashboard at {}/dashboard", running.url());
    server::stop_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.stop().await.map_err(|e| e.to_string())?;
    database.close().await;
    tracing::info!("stopped");
    Ok(())
}
