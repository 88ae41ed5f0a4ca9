//! App updates from the person's own region server, through the official updater plugin.
//!
//! - The feed is the linked region's `GET /v1/app/update` with the device's token; nothing
//!   else is asked. The download goes to the same server: the app keeps only the path of the
//!   URL the feed names, so a feed cannot send the download (and the token) elsewhere.
//! - Signatures are always checked, with the update key built into this build
//!   (`plugins.updater.pubkey`, set by `scripts/package`) and bound to the version the feed
//!   announces (`requireSignedVersion`). A build without a key installs nothing. A debug build
//!   also trusts the key in [`DEV_KEY_ENV`] (tests).
//! - An update restarts the app, so it waits while an alarm or a check-in is open or a report
//!   has not reached the region ([`varn_core::update::UpdateHold`]), checked before the
//!   download and again before installing.
//! - The region's address is already https (or loopback: see `link::client::parse_server_url`), so
//!   the plugin's own https check is off in the config and this rule is the one that holds.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};
use url::Url;
use varn_core::update::{OpenWork, UpdateHold};
use varn_core::wire::{BUNDLE_PATH_PREFIX, UPDATE_PATH};

use crate::error::{CommandError, ErrorKind};
use crate::link::enroll;
use crate::state::AppState;

/// A debug build also trusts this update key (tests): base64 of minisign's public key text.
pub const DEV_KEY_ENV: &str = "VARN_DEV_UPDATE_PUBKEY";

/// How long the check and the download may take in all.
const TIMEOUT: Duration = Duration::from_secs(300);

/// The update found by the last check, until it is installed or a newer check replaces it.
#[derive(Default)]
pub struct Pending(Mutex<Option<Update>>);

/// What Inställningar shows.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateView {
    /// The version running.
    pub current: String,
    /// A newer version the region offers.
    pub offer: Option<Offer>,
    /// Why installing would wait now.
    pub hold: Option<UpdateHold>,
}

/// How far a download is.
#[derive(Debug, Clone, Copy, Serialize)]
struct Progress {
    received: u64,
    total: Option<u64>,
}

/// A newer version.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    /// Its version.
    pub version: String,
    /// What changed.
    pub notes: String,
}

fn err(kind: ErrorKind, message: impl Into<String>) -> CommandError {
    CommandError {
        kind,
        message: message.into(),
    }
}

/// What is open that an update must not interrupt. A silent duress alarm counts too; a
/// duress cancel looks cancelled here as on screen, so the hold gives nothing away.
pub fn open_work(state: &AppState) -> Result<OpenWork, CommandError> {
    let counts = state.db()?.queue_counts()?;
    Ok(OpenWork {
        alarm: state.alarms()?.any_open()?,
        checkin: state.checkins()?.active()?.is_some(),
        unsynced_reports: (counts.queued + counts.refused) as usize,
    })
}

/// The key updates are checked with: the built-in one, or in a debug build the test key.
fn pubkey<R: Runtime>(app: &AppHandle<R>) -> Option<String> {
    if let Ok(key) = std::env::var(DEV_KEY_ENV) {
        if cfg!(debug_assertions) {
            tracing::warn!("DEBUG BUILD: checking updates with the key from {DEV_KEY_ENV}");
            return Some(key);
        }
        tracing::warn!("{DEV_KEY_ENV} is ignored: only debug builds take another update key");
    }
    app.config()
        .plugins
        .0
        .get("updater")
        .and_then(|u| u.get("pubkey"))
        .and_then(|k| k.as_str())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

/// The linked servers and the device's token ([`enroll::linked_servers`]).
fn linked(state: &AppState) -> Result<(Vec<Url>, String), CommandError> {
    use varn_core::alarm::Blocked;
    enroll::linked_servers(state.db()?, state.secrets.as_ref(), &state.token_key).map_err(|b| {
        match b {
            Blocked::KeychainUnavailable => {
                err(ErrorKind::Keychain, "the keychain could not be read")
            }
            // A code the UI words (update.unavailable.not_linked).
            Blocked::NotEnrolled | Blocked::TokenRefused => {
                err(ErrorKind::UpdateUnavailable, "not_linked")
            }
        }
    })
}

/// The bundle's address on the linked server: the path the feed named, on the server's own
/// origin (the one the feed came from when it names one of them, else the first).
pub fn bundle_url(servers: &[Url], named: &Url) -> Result<Url, CommandError> {
    let path = named.path();
    let refused = || {
        err(
            ErrorKind::UpdateRefused,
            format!(
                "the feed names a download that is not a bundle on the region's server: {named}"
            ),
        )
    };
    if !path.starts_with(BUNDLE_PATH_PREFIX) || named.query().is_some() {
        return Err(refused());
    }
    let base = servers
        .iter()
        .find(|s| s.origin() == named.origin())
        .or_else(|| servers.first())
        .ok_or_else(refused)?;
    base.join(path).map_err(|_| refused())
}

fn updater<R: Runtime>(
    app: &AppHandle<R>,
    servers: &[Url],
    token: &str,
) -> Result<tauri_plugin_updater::Updater, CommandError> {
    let key = pubkey(app).ok_or_else(|| {
        // A code the UI words (update.unavailable.no_key).
        err(ErrorKind::UpdateUnavailable, "no_key")
    })?;
    let endpoints = servers
        .iter()
        .map(|s| {
            let mut u = s.join(UPDATE_PATH).map_err(|e| err(ErrorKind::BadUrl, e.to_string()))?;
            u.set_query(Some(
                "current_version={{current_version}}&target={{target}}&arch={{arch}}&bundle_type={{bundle_type}}",
            ));
            Ok(u)
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    let plugin = |e: tauri_plugin_updater::Error| err(ErrorKind::UpdateFailed, e.to_string());
    app.updater_builder()
        .pubkey(key)
        .endpoints(endpoints)
        .map_err(plugin)?
        .header("Authorization", format!("Bearer {token}"))
        .map_err(plugin)?
        .timeout(TIMEOUT)
        .build()
        .map_err(plugin)
}

/// Why the updater failed, as a kind the person can act on.
fn failure(e: tauri_plugin_updater::Error) -> CommandError {
    use tauri_plugin_updater::Error as E;
    let text = e.to_string();
    match e {
        E::Minisign(_)
        | E::Base64(_)
        | E::SignatureUtf8(_)
        | E::MissingSignedVersion
        | E::SignedVersionMismatch { .. } => err(ErrorKind::UpdateRefused, text),
        E::Reqwest(_) | E::Network(_) => err(ErrorKind::ServerUnreachable, text),
        _ => err(ErrorKind::UpdateFailed, text),
    }
}

fn view(state: &AppState, offer: Option<&Update>) -> Result<UpdateView, CommandError> {
    Ok(UpdateView {
        current: env!("CARGO_PKG_VERSION").to_string(),
        offer: offer.map(|u| Offer {
            version: u.version.clone(),
            notes: u.body.clone().unwrap_or_default(),
        }),
        hold: UpdateHold::of(open_work(state)?),
    })
}

/// Asks the region whether a newer version is published.
pub async fn check<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    pending: &Pending,
) -> Result<UpdateView, CommandError> {
    let (servers, token) = linked(state)?;
    let found = updater(app, &servers, &token)?
        .check()
        .await
        .map_err(failure)?;
    let v = view(state, found.as_ref())?;
    *pending.0.lock().unwrap_or_else(|p| p.into_inner()) = found;
    Ok(v)
}

fn held(state: &AppState) -> Result<(), CommandError> {
    match UpdateHold::of(open_work(state)?) {
        None => Ok(()),
        Some(hold) => Err(err(ErrorKind::UpdateHeld, hold.as_str())),
    }
}

/// Downloads the offered version, checks its signature and installs it; the caller restarts
/// the app. Waits (refuses) while something is open, before and after the download.
pub async fn install<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    pending: &Pending,
    version: &str,
) -> Result<(), CommandError> {
    held(state)?;
    let mut update = pending
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .filter(|u| u.version == version)
        .ok_or_else(|| {
            err(
                ErrorKind::NotFound,
                format!("version {version} is not offered now: look for updates again"),
            )
        })?;
    let (servers, _) = linked(state)?;
    update.download_url = bundle_url(&servers, &update.download_url)?;
    // The window shows how far the download is (`update-progress`), at most ten times a second.
    let mut received = 0u64;
    let mut shown = std::time::Instant::now() - Duration::from_secs(1);
    let bytes = update
        .download(
            |chunk, total| {
                received += chunk as u64;
                if shown.elapsed() >= Duration::from_millis(100) || Some(received) == total {
                    shown = std::time::Instant::now();
                    let _ = app.emit("update-progress", Progress { received, total });
                }
            },
            || {},
        )
        .await
        .map_err(failure)?;
    held(state)?;
    update.install(&bytes).map_err(failure)?;
    tracing::info!(version, "update installed; restarting");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_stays_on_the_linked_server() {
        let a = Url::parse("https://varn.region.example/").unwrap();
        let b = Url::parse("https://varn2.region.example:8443/").unwrap();
        let servers = [a.clone(), b.clone()];
        let on_b =
            Url::parse("https://varn2.region.example:8443/v1/app/bundles/0.2.0/linux-x86_64-deb")
                .unwrap();
        assert_eq!(bundle_url(&servers, &on_b).unwrap(), on_b);
        // A feed naming another host (a proxy's, or an attacker's) is taken to the first server.
        let elsewhere =
            Url::parse("http://evil.example/v1/app/bundles/0.2.0/linux-x86_64-deb").unwrap();
        assert_eq!(
            bundle_url(&servers, &elsewhere).unwrap().as_str(),
            "https://varn.region.example/v1/app/bundles/0.2.0/linux-x86_64-deb"
        );
        for bad in [
            "https://varn.region.example/v1/me",
            "https://varn.region.example/v1/app/bundles/0.2.0/x?redirect=http://evil.example",
        ] {
            let e = bundle_url(&servers, &Url::parse(bad).unwrap()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::UpdateRefused, "{bad}");
        }
    }
}
