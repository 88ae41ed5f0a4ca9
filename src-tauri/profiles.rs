//! Which region profile the app uses: the embedded default, or a newer one the region signed
//! — from its server, or dropped into the data directory as `region-profile.json` — adopted
//! by [`varn_core::signing::judge`]: signed with a key trusted for the region the app is
//! linked to, for that region, valid, and newer (by a sane step). A refused profile is noted
//! with its reason for the UI, and the last good one stays. Numbers a new profile changes
//! are remembered, to be shown once before they are used.

use std::path::Path;

use serde::Serialize;
use varn_core::profile::{changed_numbers, Profile};
use varn_core::signing::{
    built_in_keys, judge, PublicKey, SignedProfile, TrustError, TrustStore, TrustedKey, Verdict,
};

use crate::storage::{self, Db, NumberNotice};

/// File names in the data directory that offer a newer profile (the region's signed JSON;
/// a plain TOML one is refused as unsigned).
pub const DROP_IN_FILES: &[&str] = &["region-profile.json", "region-profile.toml"];

/// Extra trusted keys for debug builds only (`region=ed25519:…`, comma-separated): how the
/// end-to-end tests let the app trust their own test key. A release build ignores it.
pub const DEV_KEYS_ENV: &str = "VARN_DEV_PROFILE_KEYS";

/// Something the user should know about the profile in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileNote {
    /// `refused` (an offered profile was not adopted), `stored_invalid` (the stored one can
    /// no longer be trusted) or `other_region`.
    pub kind: &'static str,
    /// Where the refused profile came from.
    pub source: String,
    /// What was wrong, in words (naming the field, or the key's fingerprint).
    pub detail: String,
}

/// The profile in use and how it was chosen.
#[derive(Debug, Clone)]
pub struct ActiveProfile {
    /// The profile.
    pub profile: Profile,
    /// Where it came from: `embedded`, a file path or `server`.
    pub source: String,
    /// Notes for the UI.
    pub notes: Vec<ProfileNote>,
}

/// Keys from [`DEV_KEYS_ENV`] (debug builds only).
fn dev_keys() -> Vec<TrustedKey> {
    let Ok(text) = std::env::var(DEV_KEYS_ENV) else {
        return Vec::new();
    };
    if !cfg!(debug_assertions) {
        tracing::warn!("{DEV_KEYS_ENV} is ignored: only debug builds trust extra profile keys");
        return Vec::new();
    }
    let keys: Vec<TrustedKey> = text
        .split(',')
        .filter_map(|pair| {
            let (region, key) = pair.trim().split_once('=')?;
            Some(TrustedKey {
                region: region.trim().to_string(),
                key: PublicKey::parse(key).ok()?,
            })
        })
        .collect();
    tracing::warn!(
        keys = keys.len(),
        "DEBUG BUILD: trusting extra profile keys from {DEV_KEYS_ENV}"
    );
    keys
}

/// The keys trusted now: built into this build, learned (confirmed at linking, or from a
/// rotation), and in a debug build the test keys; minus every retired one.
pub fn trust_store(db: &Db) -> TrustStore {
    let mut keys = built_in_keys().unwrap_or_else(|e| {
        tracing::error!("the built-in profile keys cannot be read: {e}");
        Vec::new()
    });
    let (learned, retired) = db.trusted_keys().unwrap_or_else(|e| {
        tracing::error!("the learned profile keys cannot be read: {e}");
        (Vec::new(), Vec::new())
    });
    keys.extend(learned);
    keys.extend(dev_keys());
    TrustStore { keys, retired }
}

/// The region a profile must be for: the one the app is linked to, or (not linked) the one
/// in use.
pub fn region_for(db: &Db, current: &Profile) -> String {
    crate::storage::load_link(db)
        .ok()
        .flatten()
        .map(|l| l.region_id)
        .unwrap_or_else(|| current.region.id.clone())
}

/// Chooses the profile at start. Never fails: the embedded default is always there.
pub fn load(db: &Db, data_dir: &Path, embedded: Profile) -> ActiveProfile {
    let mut active = ActiveProfile {
        profile: embedded,
        source: "embedded".into(),
        notes: Vec::new(),
    };
    match db.stored_profile() {
        Ok(Some((json, source))) => match SignedProfile::parse(&json) {
            // Stored by this version: trusted then, checked again now (a key may have been
            // retired since).
            Ok(stored) => {
                let region = region_for(db, &active.profile);
                match judge(&active.profile, &region, &stored, &trust_store(db)) {
                    Ok(Verdict::Adopt(p, _)) => {
                        active.profile = *p;
                        active.source = source;
                    }
                    Ok(Verdict::NotNewer) => {}
                    Err(e) => active.notes.push(ProfileNote {
                        kind: "stored_invalid",
                        source,
                        detail: e.to_string(),
                    }),
                }
            }
            // Stored by a version before profiles were signed: not trusted any more, and the
            // embedded one of this build is newer anyway.
            Err(_) if Profile::from_json(&json).is_ok() => {
                tracing::info!("a stored profile from before signing is set aside");
            }
            Err(e) => active.notes.push(ProfileNote {
                kind: "stored_invalid",
                source,
                detail: e.to_string(),
            }),
        },
        Ok(None) => {}
        Err(e) => active.notes.push(ProfileNote {
            kind: "stored_invalid",
            source: db.path().display().to_string(),
            detail: e.to_string(),
        }),
    }
    for name in DROP_IN_FILES {
        let path = data_dir.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            if path.exists() {
                active.notes.push(ProfileNote {
                    kind: "refused",
                    source: path.display().to_string(),
                    detail: "filen kunde inte läsas som UTF-8-text".into(),
                });
            }
            continue;
        };
        offer(
            db,
            &mut active,
            SignedProfile::read_any(&text),
            &path.display().to_string(),
        );
    }
    active
}

/// Offers a profile; adopts and stores it if [`judge`] says so (remembering the keys a
/// rotation brings and the numbers it changes). Returns true when it was adopted.
pub fn offer(
    db: &Db,
    active: &mut ActiveProfile,
    offered: Result<SignedProfile, TrustError>,
    source: &str,
) -> bool {
    let refuse = |active: &mut ActiveProfile, e: TrustError| {
        tracing::warn!(source, reason = e.kind(), "a region profile was refused");
        let kind = if e.kind() == "other_region" {
            "other_region"
        } else {
            "refused"
        };
        active.notes.push(ProfileNote {
            kind,
            source: source.to_string(),
            detail: e.to_string(),
        });
        false
    };
    let offered = match offered {
        Ok(s) => s,
        Err(e) => return refuse(active, e),
    };
    let region = region_for(db, &active.profile);
    let (profile, changes) = match judge(&active.profile, &region, &offered, &trust_store(db)) {
        Ok(Verdict::Adopt(p, changes)) => (*p, changes),
        Ok(Verdict::NotNewer) => return false,
        Err(e) => return refuse(active, e),
    };
    let notices: Vec<NumberNotice> = if profile.region.id == active.profile.region.id {
        changed_numbers(&active.profile, &profile)
            .into_iter()
            .map(|c| NumberNotice {
                contact_id: c.contact_id,
                name: c.name,
                old_number: c.old,
                new_number: c.new,
            })
            .collect()
    } else {
        Vec::new()
    };
    let stored = db
        .store_profile(profile.version, &offered.to_json(), source, &storage::now())
        .and_then(|()| db.add_number_notices(&notices))
        .and_then(|()| {
            for k in &changes.trusted {
                db.learn_key(&k.region, &k.key, "rotation")?;
            }
            for k in &changes.retired {
                db.retire_key(&region, k)?;
            }
            Ok(())
        });
    if let Err(e) = stored {
        active.notes.push(ProfileNote {
            kind: "refused",
            source: source.to_string(),
            detail: format!("kunde inte sparas: {e}"),
        });
        return false;
    }
    tracing::info!(region = %profile.region.id, version = profile.version, source, "adopted a region profile");
    active.profile = profile;
    active.source = source.to_string();
    active.notes.clear();
    true
}

/// Whether this build knows `region`'s key (then the region's own key is the only one
/// trusted, whatever a server says, and linking changes nothing about trust).
fn built_in_region(region: &str) -> bool {
    built_in_keys()
        .unwrap_or_default()
        .iter()
        .any(|k| k.region == region)
}

/// Remembers the key a region gave at linking, for the person to confirm by its fingerprint
/// (what was learned for the region before is forgotten) — unless this build knows the
/// region's key already.
pub fn learn_linking_key(
    db: &Db,
    region: &str,
    key: Option<&str>,
) -> Result<(), storage::StorageError> {
    if built_in_region(region) {
        let known = built_in_keys().unwrap_or_default();
        if let Some(k) = key.and_then(|k| PublicKey::parse(k).ok()) {
            if !known.iter().any(|b| b.region == region && b.key == k) {
                tracing::warn!(
                    region,
                    "the server offered a key this build does not know for its region; it is not trusted"
                );
            }
        }
        return Ok(());
    }
    forget_link(db, region)?;
    match key.map(PublicKey::parse) {
        Some(Ok(k)) => db.learn_key(region, &k, "linking"),
        Some(Err(e)) => {
            tracing::warn!(region, "the server gave a key that is no key: {e}");
            Ok(())
        }
        None => Ok(()),
    }
}

/// Ends the trust a link brought: the keys learned for `region` and a profile adopted from
/// it are forgotten (a region this build knows keeps its built-in key and profile).
pub fn forget_link(db: &Db, region: &str) -> Result<(), storage::StorageError> {
    if built_in_region(region) {
        return Ok(());
    }
    db.forget_region_keys(region)?;
    let stored_region = db
        .stored_profile()?
        .and_then(|(json, _)| SignedProfile::parse(&json).ok())
        .and_then(|s| s.profile().ok())
        .map(|p| p.region.id);
    if stored_region.as_deref() == Some(region) {
        db.forget_stored_profile()?;
    }
    Ok(())
}

/// Confirms the key learned at linking for the linked region: the person compared its
/// fingerprint with the one in the region's letter. False when there is no such key (or it
/// is a different one).
pub fn confirm_linking_key(db: &Db, key: &str) -> Result<bool, storage::StorageError> {
    let Some(link) = crate::storage::load_link(db)? else {
        return Ok(false);
    };
    db.confirm_key(&link.region_id, key)
}

/// Where the region's key stands, for Inställningar: the key to compare when it came from
/// linking and is not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    /// The region.
    pub region: String,
    /// Whether this build knows the region's key.
    pub built_in: bool,
    /// A key learned at linking (or by a rotation), if any.
    pub learned: Option<storage::LearnedKey>,
}

/// The key status of the region the app is linked to, if it is linked.
pub fn key_status(db: &Db) -> Result<Option<KeyStatus>, storage::StorageError> {
    let Some(link) = crate::storage::load_link(db)? else {
        return Ok(None);
    };
    let built_in = built_in_keys()
        .unwrap_or_default()
        .iter()
        .any(|k| k.region == link.region_id);
    Ok(Some(KeyStatus {
        learned: db.learned_keys(&link.region_id)?.into_iter().next(),
        region: link.region_id,
        built_in,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use varn_core::signing::{Rotation, SecretKey};

    fn setup() -> (tempfile::TempDir, Db, Profile) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        (dir, db, Profile::embedded_default().unwrap())
    }

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    /// A key trusted for Sörmland as a rotation from the region's key would make it.
    fn trusted(db: &Db, k: &SecretKey) {
        db.learn_key("sormland", &k.public(), "rotation").unwrap();
    }

    fn newer(embedded: &Profile, version: u32) -> Profile {
        let mut p = embedded.clone();
        p.version = version;
        p
    }

    #[test]
    fn without_anything_else_the_embedded_profile_is_used() {
        let (dir, db, embedded) = setup();
        let a = load(&db, dir.path(), embedded.clone());
        assert_eq!(a.profile, embedded);
        assert_eq!(a.source, "embedded");
        assert!(a.notes.is_empty());
    }

    #[test]
    fn a_signed_newer_drop_in_is_adopted_survives_its_file_and_its_changed_number_is_noted() {
        let (dir, db, embedded) = setup();
        let k = key(1);
        trusted(&db, &k);
        let mut p = newer(&embedded, embedded.version + 5);
        p.contacts
            .iter_mut()
            .find(|c| c.id == "guard")
            .unwrap()
            .number = Some("010-470 55 99".into());
        let file = dir.path().join("region-profile.json");
        std::fs::write(&file, SignedProfile::sign(&p, &k, Vec::new()).to_json()).unwrap();
        let a = load(&db, dir.path(), embedded.clone());
        assert_eq!(a.profile.version, embedded.version + 5);
        assert!(a.notes.is_empty(), "{:?}", a.notes);
        let notice = db.number_notice("guard").unwrap().unwrap();
        assert_eq!(
            (notice.old_number.as_str(), notice.new_number.as_str()),
            ("010-470 55 64", "010-470 55 99")
        );
        std::fs::remove_file(&file).unwrap();
        let a = load(&db, dir.path(), embedded);
        assert_eq!(a.profile.version, p.version, "stored in the database");
    }

    /// Each refused profile, from a drop-in file, says why, and the last good one stays.
    #[test]
    fn unsigned_tampered_unknown_other_region_and_jumping_profiles_are_refused_with_the_reason() {
        let (dir, db, embedded) = setup();
        let k = key(1);
        trusted(&db, &k);
        let v = embedded.version;
        let mut tampered = SignedProfile::sign(&newer(&embedded, v + 1), &k, Vec::new());
        tampered.profile = tampered.profile.replace("Joakim Strand", "Mallory");
        let mut other = newer(&embedded, v + 1);
        other.region.id = "uppsala".into();
        let stranger = key(9).public().fingerprint();
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "unsigned TOML",
                varn_core::profile::DEFAULT_PROFILE_TOML.replace("version = 2", "version = 9"),
                "signatur",
            ),
            ("tampered", tampered.to_json(), "ändrats efter"),
            (
                "unknown key",
                SignedProfile::sign(&newer(&embedded, v + 1), &key(9), Vec::new()).to_json(),
                &stranger,
            ),
            (
                "other region",
                SignedProfile::sign(&other, &k, Vec::new()).to_json(),
                "uppsala",
            ),
            (
                "version jump",
                SignedProfile::sign(&newer(&embedded, u32::MAX), &k, Vec::new()).to_json(),
                "4294967295",
            ),
        ];
        for (name, text, reason) in cases {
            let file = dir.path().join(if name == "unsigned TOML" {
                "region-profile.toml"
            } else {
                "region-profile.json"
            });
            std::fs::write(&file, text).unwrap();
            let a = load(&db, dir.path(), embedded.clone());
            assert_eq!(a.profile, embedded, "{name}: the last good one stays");
            assert_eq!(a.notes.len(), 1, "{name}: {:?}", a.notes);
            assert!(
                a.notes[0].detail.contains(reason),
                "{name}: {}",
                a.notes[0].detail
            );
            std::fs::remove_file(&file).unwrap();
        }
    }

    #[test]
    fn a_rotation_trusts_the_new_key_and_retires_the_old_one() {
        let (dir, db, embedded) = setup();
        let (old, new) = (key(1), key(2));
        trusted(&db, &old);
        let rotated = SignedProfile::sign(
            &newer(&embedded, embedded.version + 1),
            &new,
            vec![Rotation::sign("sormland", &old, &new.public())],
        );
        let mut a = load(&db, dir.path(), embedded.clone());
        assert!(offer(&db, &mut a, Ok(rotated), "server"));
        let store = trust_store(&db);
        assert!(store.trusts("sormland", &new.public()));
        assert!(!store.trusts("sormland", &old.public()), "retired");
        // The old key can no longer sign anything.
        let by_old = SignedProfile::sign(&newer(&embedded, embedded.version + 2), &old, Vec::new());
        assert!(!offer(&db, &mut a, Ok(by_old), "server"));
        assert!(a.notes[0].detail.contains("inte litar på"), "{:?}", a.notes);
    }

    #[test]
    fn a_key_from_linking_is_trusted_only_after_the_person_confirms_it() {
        let (_dir, db, embedded) = setup();
        let k = key(4);
        learn_linking_key(&db, "exempel", Some(&k.public().encode())).unwrap();
        assert!(
            !trust_store(&db).trusts("exempel", &k.public()),
            "not before confirming"
        );
        assert!(db.confirm_key("exempel", &k.public().encode()).unwrap());
        assert!(trust_store(&db).trusts("exempel", &k.public()));
        // A key a server offers for a region this build knows is never learned.
        learn_linking_key(&db, "sormland", Some(&key(5).public().encode())).unwrap();
        assert!(db.learned_keys("sormland").unwrap().is_empty());

        // Unlinking ends that trust, and the region's profile with it.
        let exempel = varn_core::profile::Profile::from_toml(include_str!(
            "../crates/varn-core/profiles/fixtures/region-exempel.toml"
        ))
        .unwrap();
        let signed = SignedProfile::sign(&exempel, &k, Vec::new());
        db.store_profile(exempel.version, &signed.to_json(), "server", "t")
            .unwrap();
        forget_link(&db, "exempel").unwrap();
        assert!(!trust_store(&db).trusts("exempel", &k.public()));
        assert_eq!(db.stored_profile().unwrap(), None);
        // A region this build knows keeps its profile when unlinked.
        let mut newer = embedded.clone();
        newer.version += 1;
        let json = SignedProfile::unsigned(&newer).to_json();
        db.store_profile(newer.version, &json, "server", "t")
            .unwrap();
        forget_link(&db, "sormland").unwrap();
        assert!(db.stored_profile().unwrap().is_some());
    }

    #[test]
    fn a_damaged_stored_profile_falls_back_to_the_embedded_one() {
        let (dir, db, embedded) = setup();
        db.store_profile(3, "{not json", "server", "t").unwrap();
        let a = load(&db, dir.path(), embedded.clone());
        assert_eq!(a.profile, embedded);
        assert_eq!(a.notes[0].kind, "stored_invalid");
    }
}
