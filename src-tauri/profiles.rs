//! Which region profile the app uses: the newest valid one of the embedded default, the one
//! stored in the database, and a profile file an administrator dropped into the data directory.
//! A profile that fails validation is refused with a note the UI shows; the last good one stays.

use std::path::Path;

use serde::Serialize;
use varn_core::profile::{Profile, ProfileError};

use crate::storage::{self, Db};

/// File names in the data directory that offer a newer profile.
pub const DROP_IN_FILES: &[&str] = &["region-profile.toml", "region-profile.json"];

/// Something the user should know about the profile in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileNote {
    /// `refused` (an offered profile was invalid), `stored_invalid` (the stored one was
    /// unreadable) or `other_region`.
    pub kind: &'static str,
    /// Where the refused profile came from.
    pub source: String,
    /// What was wrong, naming the field.
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

/// Whether `candidate` should replace `current`.
pub fn is_newer(current: &Profile, candidate: &Profile) -> Result<bool, ProfileError> {
    if candidate.region.id != current.region.id {
        return Err(ProfileError::Invalid {
            field: "region.id".into(),
            message: format!(
                "profilen gäller \"{}\", men Värn är inställd på \"{}\"",
                candidate.region.id, current.region.id
            ),
        });
    }
    Ok(candidate.version > current.version)
}

/// Chooses the profile at start. Never fails: the embedded default is always there.
pub fn load(db: &Db, data_dir: &Path, embedded: Profile) -> ActiveProfile {
    let mut active = ActiveProfile {
        profile: embedded,
        source: "embedded".into(),
        notes: Vec::new(),
    };
    match db.stored_profile() {
        Ok(Some((json, source))) => match Profile::from_json(&json) {
            Ok(p) => {
                if let Ok(true) = is_newer(&active.profile, &p) {
                    active.profile = p;
                    active.source = source;
                }
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
        let parsed = if name.ends_with(".json") {
            Profile::from_json(&text)
        } else {
            Profile::from_toml(&text)
        };
        offer(db, &mut active, parsed, &path.display().to_string());
    }
    active
}

/// Offers a candidate profile; adopts and stores it if it is valid and newer.
/// Returns true when it was adopted.
pub fn offer(
    db: &Db,
    active: &mut ActiveProfile,
    candidate: Result<Profile, ProfileError>,
    source: &str,
) -> bool {
    let refuse = |active: &mut ActiveProfile, e: ProfileError| {
        let kind = if e.field() == "region.id" {
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
    let candidate = match candidate {
        Ok(p) => p,
        Err(e) => return refuse(active, e),
    };
    match is_newer(&active.profile, &candidate) {
        Err(e) => refuse(active, e),
        Ok(false) => false,
        Ok(true) => {
            if let Err(e) = db.store_profile(
                candidate.version,
                &candidate.to_json(),
                source,
                &storage::now(),
            ) {
                active.notes.push(ProfileNote {
                    kind: "refused",
                    source: source.to_string(),
                    detail: format!("kunde inte sparas: {e}"),
                });
                return false;
            }
            active.profile = candidate;
            active.source = source.to_string();
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use varn_core::profile::DEFAULT_PROFILE_TOML;

    fn setup() -> (tempfile::TempDir, Db, Profile) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        (dir, db, Profile::embedded_default().unwrap())
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
    fn a_newer_valid_drop_in_is_adopted_and_survives_its_file() {
        let (dir, db, embedded) = setup();
        let newer = DEFAULT_PROFILE_TOML
            .replace("version = 1", "version = 7")
            .replace("number = \"11414\"", "number = \"114 14\"");
        let file = dir.path().join("region-profile.toml");
        std::fs::write(&file, newer).unwrap();
        let a = load(&db, dir.path(), embedded.clone());
        assert_eq!(a.profile.version, 7);
        assert!(a.notes.is_empty(), "{:?}", a.notes);
        std::fs::remove_file(&file).unwrap();
        let a = load(&db, dir.path(), embedded);
        assert_eq!(a.profile.version, 7, "stored in the database");
        assert_eq!(
            a.profile.contact("police").unwrap().number.as_deref(),
            Some("114 14")
        );
    }

    #[test]
    fn an_invalid_drop_in_is_refused_with_the_field_and_the_old_profile_stays() {
        let (dir, db, embedded) = setup();
        let bad = DEFAULT_PROFILE_TOML
            .replace("version = 1", "version = 9")
            .replace("number = \"016-103000\"", "number = \"ring växeln\"");
        std::fs::write(dir.path().join("region-profile.toml"), bad).unwrap();
        let a = load(&db, dir.path(), embedded.clone());
        assert_eq!(a.profile, embedded);
        assert_eq!(a.notes.len(), 1);
        assert_eq!(a.notes[0].kind, "refused");
        assert!(
            a.notes[0].detail.contains("contacts[2].number"),
            "{}",
            a.notes[0].detail
        );
    }

    #[test]
    fn an_older_drop_in_is_ignored() {
        let (dir, db, embedded) = setup();
        let mut newer = embedded.clone();
        newer.version = 5;
        db.store_profile(5, &newer.to_json(), "server", "t")
            .unwrap();
        std::fs::write(dir.path().join("region-profile.json"), embedded.to_json()).unwrap();
        let a = load(&db, dir.path(), embedded);
        assert_eq!(a.profile.version, 5);
        assert!(a.notes.is_empty());
    }

    #[test]
    fn another_regions_profile_is_refused() {
        let (dir, db, embedded) = setup();
        let other = DEFAULT_PROFILE_TOML
            .replace("version = 1", "version = 2")
            .replace("id = \"sormland\"", "id = \"jamtland\"");
        std::fs::write(dir.path().join("region-profile.toml"), other).unwrap();
        let a = load(&db, dir.path(), embedded.clone());
        assert_eq!(a.profile, embedded);
        assert_eq!(a.notes[0].kind, "other_region");
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
