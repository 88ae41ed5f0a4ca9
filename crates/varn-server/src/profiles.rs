//! The region profiles a server hands to its devices. A region signs its profile offline and
//! publishes it (`varn-server profile publish`): the signed profile goes into the database,
//! and every instance serves the newest one within [`REFRESH_EVERY`]. The server checks what
//! it serves by the same rule as the app ([`varn_core::signing::judge`]): once a region's
//! profile is signed, a newer one must be signed with the same key (or carry the rotation to
//! a new one). Profiles given with `--profile` (or the embedded default) are the starting
//! point; an unsigned one is served, but no app adopts it as an update.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use varn_core::profile::Profile;
use varn_core::signing::{
    judge, PublicKey, SignedProfile, TrustError, TrustStore, TrustedKey, Verdict,
};

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreError};
use crate::AppState;

/// How often each instance looks for a newly published profile.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// A region profile as served: the signed profile's JSON, its ETag, the profile inside and
/// the key that signed it (none for an unsigned one).
pub struct ServedProfile {
    /// The profile.
    pub profile: Profile,
    /// The key that signed it.
    pub key: Option<PublicKey>,
    /// The signed profile (or the unsigned envelope) as JSON, what `GET /v1/profile` sends.
    pub json: String,
    /// Its ETag.
    pub etag: String,
}

impl ServedProfile {
    /// Prepares a signed (or unsigned) profile for serving; a signature that does not verify
    /// is an error.
    pub fn new(signed: &SignedProfile) -> Result<ServedProfile, TrustError> {
        let profile = signed.profile()?;
        let key = if signed.is_signed() {
            Some(signed.verified_key()?)
        } else {
            None
        };
        let json = signed.to_json();
        let etag = {
            use sha2::{Digest, Sha256};
            format!(
                "\"{}\"",
                hex::encode(&Sha256::digest(json.as_bytes())[..16])
            )
        };
        Ok(ServedProfile {
            profile,
            key,
            json,
            etag,
        })
    }
}

/// The served profiles, by region.
pub type Served = HashMap<String, Arc<ServedProfile>>;

/// Whether `offered` may replace `current` for its region: it is signed, and (once the
/// region's profile is signed) signed by that key or rotated to from it, and newer.
pub fn replaces(
    current: Option<&ServedProfile>,
    offered: &SignedProfile,
) -> Result<bool, TrustError> {
    let key = offered.verified_key()?;
    let profile = offered.profile()?;
    let Some(current) = current else {
        return Ok(true);
    };
    let trust = TrustStore {
        keys: vec![TrustedKey {
            region: profile.region.id.clone(),
            // Until a region's profile is signed, its first signed one is trusted as it is.
            key: current.key.unwrap_or(key),
        }],
        retired: Vec::new(),
    };
    match judge(
        &current.profile,
        &current.profile.region.id,
        offered,
        &trust,
    )? {
        Verdict::Adopt(..) => Ok(true),
        Verdict::NotNewer => Ok(false),
    }
}

/// The profiles to start with: those given (signed ones checked), one per region.
pub fn starting(list: &[SignedProfile]) -> Result<Served, String> {
    let mut served = Served::new();
    for signed in list {
        let s = ServedProfile::new(signed).map_err(|e| e.to_string())?;
        let region = s.profile.region.id.clone();
        if served.contains_key(&region) {
            return Err(format!("a second profile for region \"{region}\""));
        }
        if s.key.is_none() {
            tracing::warn!(
                region = %region,
                "serving an unsigned region profile: apps keep theirs and adopt only a signed one \
                 (varn-server profile sign, then profile publish)"
            );
        }
        served.insert(region, Arc::new(s));
    }
    Ok(served)
}

/// Takes every newer published profile from the database into what this instance serves.
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    for text in state.store().published_profiles().await? {
        let offered = match SignedProfile::parse(&text) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("a published profile in the database cannot be read: {e}");
                continue;
            }
        };
        let Ok(profile) = offered.profile() else {
            continue;
        };
        let region = profile.region.id.clone();
        let current = state.profile(&region);
        match replaces(current.as_deref(), &offered) {
            Ok(true) => match ServedProfile::new(&offered) {
                Ok(s) => {
                    tracing::info!(region = %region, version = profile.version, "serving a newly published region profile");
                    state.serve_profile(region, s);
                }
                Err(e) => tracing::error!(region = %region, "a published profile was refused: {e}"),
            },
            Ok(false) => {}
            Err(e) => tracing::error!(region = %region, "a published profile was refused: {e}"),
        }
    }
    Ok(())
}

/// What [`publish`] published.
#[derive(Debug)]
pub struct Published {
    /// The region.
    pub region: String,
    /// The profile's version.
    pub version: u32,
    /// The key that signed it.
    pub key: PublicKey,
}

/// Publishes a signed profile for every instance to serve: it must follow from what the
/// region's devices are served now — the newest published one, else the configured one
/// (`configured`) — by [`replaces`]. The error says why not, in words.
pub async fn publish(
    store: &dyn Store,
    configured: &[SignedProfile],
    signed: &SignedProfile,
    now: DateTime<Utc>,
) -> Result<Published, String> {
    let profile = signed.profile().map_err(|e| e.to_string())?;
    let region = profile.region.id.clone();
    let of_region = |s: &SignedProfile| s.profile().is_ok_and(|p| p.region.id == region);
    let mut current: Option<ServedProfile> = configured
        .iter()
        .filter(|s| of_region(s))
        .find_map(|s| ServedProfile::new(s).ok());
    for text in store
        .published_profiles()
        .await
        .map_err(|e| e.to_string())?
    {
        if let Ok(s) = SignedProfile::parse(&text) {
            if of_region(&s) {
                current = ServedProfile::new(&s).ok().or(current);
            }
        }
    }
    let Some(current) = current else {
        return Err(format!(
            "region \"{region}\" is not configured on this server (give its profile with --profile)"
        ));
    };
    match replaces(Some(&current), signed) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "version {} is not newer than what region \"{region}\" is served now ({})",
                profile.version, current.profile.version
            ))
        }
        Err(e) => return Err(format!("refused: {e}")),
    }
    let key = signed.verified_key().map_err(|e| e.to_string())?;
    store
        .publish_profile(&region, profile.version, &signed.to_json(), now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Published {
        region,
        version: profile.version,
        key,
    })
}

/// Looks for newly published profiles every [`REFRESH_EVERY`] until shutdown.
/// (The first look is made before the server accepts requests.)
pub async fn run(state: AppState) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REFRESH_EVERY) => {}
            _ = state.shutting_down() => return,
        }
        if let Err(e) = refresh(&state).await {
            tracing::warn!("published profiles not read (trying again): {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use varn_core::signing::{Rotation, SecretKey};

    fn profile(version: u32) -> Profile {
        let mut p = Profile::embedded_default().unwrap();
        p.version = version;
        p
    }

    #[test]
    fn the_first_signed_profile_is_taken_and_then_only_its_key_or_a_rotation() {
        let (a, b) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let unsigned = ServedProfile::new(&SignedProfile::unsigned(&profile(2))).unwrap();
        let first = SignedProfile::sign(&profile(3), &a, Vec::new());
        assert!(replaces(Some(&unsigned), &first).unwrap());
        assert!(!replaces(
            Some(&unsigned),
            &SignedProfile::sign(&profile(2), &a, Vec::new())
        )
        .unwrap());
        let served = ServedProfile::new(&first).unwrap();
        assert_eq!(served.key, Some(a.public()));
        let by_b = SignedProfile::sign(&profile(4), &b, Vec::new());
        assert_eq!(
            replaces(Some(&served), &by_b).unwrap_err().kind(),
            "unknown_key"
        );
        let rotated = SignedProfile::sign(
            &profile(4),
            &b,
            vec![Rotation::sign("sormland", &a, &b.public())],
        );
        assert!(replaces(Some(&served), &rotated).unwrap());
        assert_eq!(
            replaces(Some(&served), &SignedProfile::unsigned(&profile(9)))
                .unwrap_err()
                .kind(),
            "unsigned"
        );
        let mut tampered = SignedProfile::sign(&profile(5), &a, Vec::new());
        tampered.profile = tampered.profile.replace("Joakim Strand", "Mallory");
        assert!(ServedProfile::new(&tampered).is_err());
    }
}
