//! App releases the region publishes (`varn-server release add`) and serves to its devices'
//! updater (`GET /v1/app/update`, `GET /v1/app/bundles/{version}/{platform}`).
//!
//! The server never signs anything: it stores the bundle and the signature made with the
//! update key's private half, which stays with whoever builds the packages. Before it
//! publishes, it verifies the signature against the update key's public half (the one built
//! into the app), and refuses a release whose signature is not bound to the version it is
//! published under, so the feed cannot pair a version with another build and a bundle the
//! app would refuse never reaches a device; the app verifies the signature itself again.

use std::path::Path;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use varn_core::update::{is_version, newest_offer, platform, signed_version};
use varn_core::wire::{UpdateOffer, BUNDLE_PATH_PREFIX};

use crate::contract::{
    Arch, BundleType, DeviceProblems, Octets, ProblemAnswer, ReleaseVersion, Target,
};

use crate::auth::DeviceAuth;
use crate::problem::{ApiError, ApiPath, ApiQuery};
use crate::ratelimit::Quota;
use crate::store::{Release, Store, StoreError};
use crate::AppState;

/// The largest bundle `release add` takes.
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// Why a release cannot be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A file could not be read.
    #[error("{path} cannot be read: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Something about the release is wrong; the message says what.
    #[error("{0}")]
    Invalid(String),
    /// The version is published for this platform already.
    #[error("version {version} for {platform} is published already; a published release is never replaced: publish a new version")]
    Exists {
        /// The version.
        version: String,
        /// The platform.
        platform: String,
    },
    /// The database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The platform a bundle file is for, from its name (the Tauri bundler's names), on x86_64.
pub fn platform_of_file(name: &str) -> Option<String> {
    let bundle_type = if name.ends_with(".deb") {
        "deb"
    } else if name.ends_with(".rpm") {
        "rpm"
    } else if name.ends_with(".AppImage") || name.ends_with(".AppImage.tar.gz") {
        "appimage"
    } else {
        return None;
    };
    platform("linux", "x86_64", bundle_type)
}

/// What `release add` was given.
pub struct NewRelease<'a> {
    /// The bundle the updater installs (a `.deb`, `.rpm` or AppImage).
    pub bundle: &'a Path,
    /// The `.sig` file `cargo tauri signer sign --app-version` wrote beside it.
    pub signature: &'a Path,
    /// What changed, shown to the person before they install.
    pub notes: String,
    /// The version; by default the one the signature is bound to.
    pub version: Option<String>,
    /// The platform; by default from the bundle's file name.
    pub platform: Option<String>,
    /// The update key's public half, as the app is built with it (the `.pub` file's text).
    pub update_key: &'a str,
}

/// Whether `signature` (a `.sig` file's text) is `update_key`'s signature of `bundle`.
pub fn verify_signature(update_key: &str, bundle: &[u8], signature: &str) -> Result<(), String> {
    use base64::Engine;
    let b64 = |what: &str, s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| format!("the {what} is not what cargo tauri signer writes"))
    };
    let key = minisign::PublicKeyBox::from_string(&b64("update key", update_key)?)
        .and_then(|b| b.into_public_key())
        .map_err(|e| format!("the update key cannot be read: {e}"))?;
    let sig = minisign::SignatureBox::from_string(&b64("signature", signature)?)
        .map_err(|e| format!("the signature cannot be read: {e}"))?;
    minisign::verify(&key, &sig, std::io::Cursor::new(bundle), true, false, false).map_err(|_| {
        "the signature does not verify with the app's update key: the bundle was changed \
         after signing, or signed with another key; the app would refuse it"
            .to_string()
    })
}

/// The record of a release as it is stored and offered.
pub fn record(
    version: String,
    platform: String,
    notes: &str,
    signature: String,
    bundle: &[u8],
    now: DateTime<Utc>,
) -> Release {
    Release {
        version,
        platform,
        notes: notes.trim().to_string(),
        signature,
        sha256: hex::encode(Sha256::digest(bundle)),
        size: bundle.len() as u64,
        published_at: now,
    }
}

fn read(path: &Path, limit: u64) -> Result<Vec<u8>, PublishError> {
    let err = |source| PublishError::Read {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(err)?.len();
    if len > limit {
        return Err(PublishError::Invalid(format!(
            "{} is {len} bytes; the largest accepted is {limit}",
            path.display()
        )));
    }
    std::fs::read(path).map_err(err)
}

/// Checks and stores a release.
pub async fn publish(
    store: &dyn Store,
    new: NewRelease<'_>,
    now: DateTime<Utc>,
) -> Result<Release, PublishError> {
    let signature = String::from_utf8(read(new.signature, 64 * 1024)?)
        .map_err(|_| PublishError::Invalid("the signature file is not text".into()))?
        .trim()
        .to_string();
    let signed = signed_version(&signature).map_err(|e| PublishError::Invalid(e.to_string()))?;
    let version = new.version.unwrap_or_else(|| signed.clone());
    if !is_version(&version) {
        return Err(PublishError::Invalid(format!(
            "{version:?} is not a release version: write it as three numbers, 1.2.3"
        )));
    }
    if version != signed {
        return Err(PublishError::Invalid(format!(
            "the signature is bound to version {signed}, not {version}: the app would refuse it"
        )));
    }
    let file_name = new
        .bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let platform = match new.platform {
        Some(p) => {
            let mut parts = p.splitn(3, '-');
            let (os, arch, kind) = (parts.next(), parts.next(), parts.next());
            match (os, arch, kind) {
                (Some(os), Some(arch), Some(kind)) => platform(os, arch, kind),
                _ => None,
            }
            .ok_or_else(|| {
                PublishError::Invalid(format!(
                    "{p:?} is not a platform: write it as os-arch-bundle, e.g. linux-x86_64-deb"
                ))
            })?
        }
        None => platform_of_file(&file_name).ok_or_else(|| {
            PublishError::Invalid(format!(
                "{file_name:?} is not a .deb, .rpm or AppImage: name the platform with --platform"
            ))
        })?,
    };
    if new.notes.trim().is_empty() || new.notes.chars().count() > 2_000 {
        return Err(PublishError::Invalid(
            "the notes say what changed, in 1 to 2000 characters".into(),
        ));
    }
    let bundle = read(new.bundle, MAX_BUNDLE_BYTES)?;
    if bundle.is_empty() {
        return Err(PublishError::Invalid(format!("{file_name} is empty")));
    }
    verify_signature(new.update_key, &bundle, &signature).map_err(PublishError::Invalid)?;
    let release = record(version, platform, &new.notes, signature, &bundle, now);
    if !store.add_release(&release, &bundle).await? {
        return Err(PublishError::Exists {
            version: release.version,
            platform: release.platform,
        });
    }
    Ok(release)
}

/// One bundle kept in memory, so that many devices updating at once share one copy instead
/// of each reading it from the database.
#[derive(Default)]
pub struct BundleCache(Mutex<Option<(String, Bytes)>>);

impl BundleCache {
    fn get(&self, sha256: &str) -> Option<Bytes> {
        let slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .filter(|(hash, _)| hash == sha256)
            .map(|(_, bytes)| bytes.clone())
    }

    fn put(&self, sha256: &str, bytes: Bytes) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((sha256.to_string(), bytes));
    }
}

/// What the updater sends (the `{{…}}` variables of its endpoint).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateQuery {
    current_version: String,
    target: String,
    arch: String,
    bundle_type: String,
}

/// `GET /v1/app/update`: the newest release for the device's platform that is newer than the
/// version it runs, or 204.
#[utoipa::path(
    get,
    path = varn_core::wire::UPDATE_PATH,
    summary = "The newest app release for the device's platform that is newer than the version it runs",
    description = "Read by the app's updater (Tauri's format). The bundle's signature is bound to the version; the app verifies it with the update key built into it and downloads the bundle from this same server.",
    security(("bearer" = [])),
    params(
        ("current_version" = inline(ReleaseVersion), Query, description = "The version the app runs (three numbers)"),
        ("target" = inline(Target), Query),
        ("arch" = inline(Arch), Query),
        ("bundle_type" = inline(BundleType), Query, description = "How the app was installed (`unknown` for a build that was not)"),
    ),
    responses(
        (status = 200, description = "A newer release", body = UpdateOffer),
        (status = 204, description = "No newer release for this platform"),
        (status = 400, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn update(
    State(state): State<AppState>,
    DeviceAuth(_device): DeviceAuth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<UpdateQuery>,
) -> Result<Response, ApiError> {
    if !is_version(&q.current_version) {
        return Err(ApiError::bad_request(
            "current_version is three numbers, 1.2.3",
        ));
    }
    let platform = platform(&q.target, &q.arch, &q.bundle_type).ok_or_else(|| {
        ApiError::bad_request("target, arch or bundle_type is not one the updater names")
    })?;
    let releases = state
        .store()
        .releases()
        .await?
        .into_iter()
        .filter(|r| r.platform == platform);
    let Some(r) = newest_offer(&q.current_version, releases, |r| &r.version) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    // The app keeps only the path and asks its own server for it, so the host named here
    // cannot send the download (and the device's token) elsewhere.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies() {
        "https"
    } else {
        "http"
    };
    Ok(Json(UpdateOffer {
        pub_date: r.published_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        url: format!(
            "{scheme}://{host}{BUNDLE_PATH_PREFIX}{}/{}",
            r.version, r.platform
        ),
        version: r.version,
        notes: r.notes,
        signature: r.signature,
    })
    .into_response())
}

/// `GET /v1/app/bundles/{version}/{platform}`: a published bundle's bytes.
#[utoipa::path(
    get,
    path = varn_core::wire::BUNDLE_PATH,
    summary = "A published bundle's bytes",
    security(("bearer" = [])),
    params(
        ("version" = String, Path),
        ("platform" = String, Path, description = "target-arch-bundle_type, e.g. linux-x86_64-deb"),
    ),
    responses(
        (status = 200, description = "The bundle, byte for byte as published", content_type = "application/octet-stream", body = inline(Octets)),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn bundle(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath((version, platform)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found("no such release is published");
    let release = state
        .store()
        .releases()
        .await?
        .into_iter()
        .find(|r| r.version == version && r.platform == platform)
        .ok_or_else(missing)?;
    // Counted once found: megabytes each, so a device gets a few a day (`[limits]`).
    let _taken = state
        .quotas()
        .take(device.id, Quota::BundleDownload, 1)
        .map_err(crate::api::over)?;
    let bytes = match state.bundles().get(&release.sha256) {
        Some(bytes) => bytes,
        None => {
            let bytes = Bytes::from(
                state
                    .store()
                    .release_bundle(&version, &platform)
                    .await?
                    .ok_or_else(missing)?,
            );
            state.bundles().put(&release.sha256, bytes.clone());
            bytes
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_named_as_the_updater_names_them() {
        assert_eq!(
            platform_of_file("Värn_0.1.1_amd64.deb").as_deref(),
            Some("linux-x86_64-deb")
        );
        assert_eq!(
            platform_of_file("Värn-0.1.1-1.x86_64.rpm").as_deref(),
            Some("linux-x86_64-rpm")
        );
        assert_eq!(platform_of_file("varn.exe"), None);
        assert_eq!(
            platform("linux", "x86_64", "deb").as_deref(),
            Some("linux-x86_64-deb")
        );
        assert_eq!(platform("linux", "x86_64", "../x"), None);
        assert_eq!(platform("Linux", "x86_64", "deb"), None);
        assert_eq!(platform("", "x86_64", "deb"), None);
    }
}
