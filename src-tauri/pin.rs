//! The app PIN and the duress PIN, kept only as Argon2id hashes in the (encrypted) database.
//! Wrong PINs make the next try wait ([`varn_core::pin::Throttle`]); the count is stored,
//! so closing the app does not reset it. Both hashes are always checked, so how long a try
//! takes does not tell which PIN was entered.
//!
//! The duress PIN is indistinguishable from the PIN to whoever watches: wherever a PIN is
//! asked for, it is taken as if it were right ([`Guarded::Duress`]) but changes nothing, and
//! the caller raises a silent duress alarm. Whether one is set is never shown, and using it
//! never resets the count of wrong tries.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use serde::Serialize;
use varn_core::pin::{self, PinFormatError, Throttle};
use zeroize::Zeroize;

use crate::storage::{Db, StorageError};

const APP_KEY: &str = "pin.app";
const DURESS_KEY: &str = "pin.duress";
const THROTTLE_KEY: &str = "pin.throttle";
const IDLE_KEY: &str = "lock.idle_minutes";

/// The longest idle lock a person can choose, in minutes.
pub const MAX_IDLE_MINUTES: u32 = 240;

/// Which PIN was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entered {
    /// The person's own PIN.
    Pin,
    /// The duress PIN: looks like the PIN, raises the alarm silently.
    Duress,
}

/// Why a PIN was not taken.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// No PIN is set, so there is nothing to check.
    #[error("no PIN is set")]
    NotSet,
    /// Wrong; the next try is possible after this many seconds (0: at once).
    #[error("wrong PIN; next try in {0} s")]
    Wrong(i64),
    /// Too many wrong tries: wait this many seconds.
    #[error("too many wrong PINs; wait {0} s")]
    Wait(i64),
    /// Not a valid PIN to set.
    #[error(transparent)]
    Format(#[from] PinFormatError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Hashing failed (should not happen).
    #[error("the PIN could not be hashed: {0}")]
    Hash(String),
}

/// What the settings screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinStatus {
    /// A PIN is set: cancelling an alarm and opening the lock need it.
    pub pin_set: bool,
    /// A duress PIN is set. Never sent to the window: whoever forces the person to open the
    /// app must not be able to read it off the settings.
    #[serde(skip)]
    pub duress_set: bool,
    /// Minutes without use before the app locks; 0 = never.
    pub idle_lock_minutes: u32,
}

/// What a change of PINs did to the duress PIN, shown once right after the change: only to
/// whoever gave the person's own PIN (after the duress PIN, what a change would have said
/// with no duress PIN ever set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuressNote {
    /// A duress PIN was set now.
    Set,
    /// The duress PIN that was set is still set.
    Kept,
    /// No duress PIN is set.
    None,
    /// The duress PIN was removed.
    Removed,
}

/// What changing the PIN answers: the status, and what became of the duress PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinChanged {
    /// The PINs and the idle lock now.
    #[serde(flatten)]
    pub status: PinStatus,
    /// The duress PIN after the change.
    pub duress: DuressNote,
}

/// Argon2id with OWASP's smallest recommended costs (19 MiB, 2 passes): a PIN has few
/// possibilities, so the stored throttle, not the hash, is what stops guessing on the device;
/// the hash keeps the PIN out of the database.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash(pin: &str) -> Result<String, PinError> {
    let salt_bytes: [u8; 16] = rand::Rng::random(&mut rand::rng());
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| PinError::Hash(e.to_string()))?;
    hasher()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PinError::Hash(e.to_string()))
}

/// A throw-away hash, made once: without a stored hash the PIN is checked against it, so
/// both paths cost one Argon2id verify and take as long.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("0000").unwrap_or_default())
}

fn matches(pin: &str, stored: Option<&str>) -> bool {
    let phc = match stored {
        Some(s) => s,
        None => dummy_hash(),
    };
    let ok = PasswordHash::new(phc)
        .map(|h| hasher().verify_password(pin.as_bytes(), &h).is_ok())
        .unwrap_or(false);
    ok && stored.is_some()
}

fn throttle(db: &Db) -> Result<Throttle, StorageError> {
    Ok(db
        .setting(THROTTLE_KEY)?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

fn save_throttle(db: &Db, t: &Throttle) -> Result<(), StorageError> {
    let json = serde_json::to_string(t).unwrap_or_default();
    db.set_setting(THROTTLE_KEY, &json)
}

/// Whether PINs are set and the idle lock.
pub fn status(db: &Db) -> Result<PinStatus, StorageError> {
    let pin_set = db.setting(APP_KEY)?.is_some();
    Ok(PinStatus {
        pin_set,
        duress_set: pin_set && db.setting(DURESS_KEY)?.is_some(),
        idle_lock_minutes: if pin_set {
            db.setting(IDLE_KEY)?
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        } else {
            0
        },
    })
}

/// Checks a PIN: which one it is, or why not. Wrong PINs count towards the wait.
pub fn verify(db: &Db, entered: &str, now: DateTime<Utc>) -> Result<Entered, PinError> {
    let app = db.setting(APP_KEY)?.ok_or(PinError::NotSet)?;
    let mut t = throttle(db)?;
    t.check(now).map_err(PinError::Wait)?;
    let duress = db.setting(DURESS_KEY)?;
    let is_pin = matches(entered, Some(&app));
    let is_duress = matches(entered, duress.as_deref());
    if is_pin || is_duress {
        // Only the person's own PIN starts the count of wrong tries again: the duress PIN
        // is typed by someone being forced, and must not help whoever forces them.
        if is_pin && t != Throttle::default() {
            t.succeeded();
            save_throttle(db, &t)?;
        }
        return Ok(if is_pin {
            Entered::Pin
        } else {
            Entered::Duress
        });
    }
    let wait = t.failed(now);
    save_throttle(db, &t)?;
    Err(PinError::Wrong(wait))
}

/// What a change that needs the PIN did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guarded<T> {
    /// The PIN was right (or none is set): done.
    Done(T),
    /// The duress PIN: nothing was changed. `T` is what the change would have returned, to
    /// show as if it had happened; the caller raises a silent duress alarm.
    Duress(T),
}

impl<T> Guarded<T> {
    /// What to show, either way.
    pub fn shown(self) -> T {
        match self {
            Guarded::Done(t) | Guarded::Duress(t) => t,
        }
    }
}

/// Checks `entered` when a PIN is set; with no PIN set there is nothing to check.
pub fn guard(db: &Db, entered: Option<&str>, now: DateTime<Utc>) -> Result<Entered, PinError> {
    if db.setting(APP_KEY)?.is_none() {
        return Ok(Entered::Pin);
    }
    verify(db, entered.unwrap_or(""), now)
}

/// Sets the PIN and, optionally, the duress PIN. Changing a PIN that is set needs it
/// (`current`); the duress PIN there changes nothing and looks like success. Without a new
/// duress PIN the one that is set stays set (removing it is [`remove_duress`]): a PIN change
/// never quietly leaves the person without the duress PIN they rely on.
pub fn set(
    db: &Db,
    current: Option<&str>,
    mut new_pin: String,
    mut duress: Option<String>,
    now: DateTime<Utc>,
) -> Result<Guarded<PinChanged>, PinError> {
    let result = (|| {
        let entered = if db.setting(APP_KEY)?.is_some() {
            verify(db, current.unwrap_or(""), now)?
        } else {
            Entered::Pin
        };
        pin::check_format(&new_pin)?;
        if let Some(d) = duress.as_deref() {
            pin::check_format(d)?;
            if d == new_pin {
                return Err(PinFormatError::SameAsPin.into());
            }
        }
        if entered == Entered::Duress {
            let before = status(db)?;
            return Ok(Guarded::Duress(PinChanged {
                status: PinStatus {
                    pin_set: true,
                    duress_set: duress.is_some(),
                    idle_lock_minutes: before.idle_lock_minutes,
                },
                duress: if duress.is_some() {
                    DuressNote::Set
                } else {
                    DuressNote::None
                },
            }));
        }
        let app_hash = hash(&new_pin)?;
        let note = match duress.as_deref() {
            Some(d) => {
                db.set_settings(&[(APP_KEY, &app_hash), (DURESS_KEY, &hash(d)?)])?;
                DuressNote::Set
            }
            None => {
                let kept = db.setting(DURESS_KEY)?;
                // The new PIN must not be the duress PIN that stays: one of them would never
                // be taken for what it is.
                if kept.is_some() && matches(&new_pin, kept.as_deref()) {
                    return Err(PinFormatError::SameAsPin.into());
                }
                db.set_setting(APP_KEY, &app_hash)?;
                if kept.is_some() {
                    DuressNote::Kept
                } else {
                    DuressNote::None
                }
            }
        };
        Ok(Guarded::Done(PinChanged {
            status: status(db)?,
            duress: note,
        }))
    })();
    new_pin.zeroize();
    if let Some(d) = duress.as_mut() {
        d.zeroize();
    }
    result
}

/// Removes the duress PIN alone; needs the person's own PIN. The duress PIN here changes
/// nothing and answers what removing one answers.
pub fn remove_duress(
    db: &Db,
    current: &str,
    now: DateTime<Utc>,
) -> Result<Guarded<DuressNote>, PinError> {
    match verify(db, current, now)? {
        Entered::Pin => {
            let had = db.setting(DURESS_KEY)?.is_some();
            db.delete_settings(&[DURESS_KEY])?;
            Ok(Guarded::Done(if had {
                DuressNote::Removed
            } else {
                DuressNote::None
            }))
        }
        Entered::Duress => Ok(Guarded::Duress(DuressNote::Removed)),
    }
}

/// Removes both PINs (and so the idle lock); needs the PIN.
pub fn clear(db: &Db, current: &str, now: DateTime<Utc>) -> Result<Guarded<PinStatus>, PinError> {
    let none = PinStatus {
        pin_set: false,
        duress_set: false,
        idle_lock_minutes: 0,
    };
    match verify(db, current, now)? {
        Entered::Pin => {
            db.delete_settings(&[APP_KEY, DURESS_KEY, IDLE_KEY])?;
            Ok(Guarded::Done(status(db)?))
        }
        Entered::Duress => Ok(Guarded::Duress(none)),
    }
}

/// Whether moving the idle lock from `from` to `to` minutes weakens it (off, or longer):
/// only that needs the PIN.
pub fn idle_change_weakens(from: u32, to: u32) -> bool {
    to == 0 || (from != 0 && to > from)
}

/// Sets the idle lock (minutes; 0 = off). Needs a PIN to be set, since the lock opens
/// with it, and the PIN itself to turn it off or lengthen it.
pub fn set_idle_lock(
    db: &Db,
    minutes: u32,
    entered: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Guarded<PinStatus>, PinError> {
    if db.setting(APP_KEY)?.is_none() {
        return Err(PinError::NotSet);
    }
    let minutes = minutes.min(MAX_IDLE_MINUTES);
    let before = status(db)?;
    if idle_change_weakens(before.idle_lock_minutes, minutes)
        && verify(db, entered.unwrap_or(""), now)? == Entered::Duress
    {
        return Ok(Guarded::Duress(PinStatus {
            idle_lock_minutes: minutes,
            ..before
        }));
    }
    db.set_setting(IDLE_KEY, &minutes.to_string())?;
    Ok(Guarded::Done(status(db)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        (dir, db)
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + s, 0).unwrap()
    }

    #[test]
    fn pins_are_stored_only_as_argon2id_hashes() {
        let (dir, db) = db();
        set(&db, None, "4711".into(), Some("9999".into()), at(0)).unwrap();
        for key in [APP_KEY, DURESS_KEY] {
            let stored = db.setting(key).unwrap().unwrap();
            assert!(stored.starts_with("$argon2id$"), "{stored}");
            assert!(!stored.contains("4711") && !stored.contains("9999"));
        }
        drop(db);
        // Nowhere in the file either (the test database is not encrypted).
        let bytes = std::fs::read(dir.path().join("varn.db")).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("4711") && !text.contains("9999"));
    }

    #[test]
    fn the_pin_and_the_duress_pin_are_told_apart() {
        let (_dir, db) = db();
        assert!(matches!(verify(&db, "1234", at(0)), Err(PinError::NotSet)));
        let s = set(&db, None, "1234".into(), Some("4321".into()), at(0))
            .unwrap()
            .shown();
        assert!(s.status.pin_set && s.status.duress_set && s.duress == DuressNote::Set);
        assert_eq!(verify(&db, "1234", at(0)).unwrap(), Entered::Pin);
        assert_eq!(verify(&db, "4321", at(0)).unwrap(), Entered::Duress);
        assert!(matches!(
            verify(&db, "1111", at(0)),
            Err(PinError::Wrong(0))
        ));
    }

    #[test]
    fn wrong_pins_are_delayed_and_the_delay_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        {
            let db = Db::open(&path).unwrap();
            set(&db, None, "1234".into(), None, at(0)).unwrap();
            assert!(matches!(
                verify(&db, "0000", at(0)),
                Err(PinError::Wrong(0))
            ));
            assert!(matches!(
                verify(&db, "0000", at(0)),
                Err(PinError::Wrong(0))
            ));
            assert!(matches!(
                verify(&db, "0000", at(0)),
                Err(PinError::Wrong(5))
            ));
        }
        let db = Db::open(&path).unwrap();
        // Even the right PIN waits its turn.
        assert!(matches!(verify(&db, "1234", at(2)), Err(PinError::Wait(3))));
        assert!(matches!(
            verify(&db, "0000", at(5)),
            Err(PinError::Wrong(10))
        ));
        assert_eq!(verify(&db, "1234", at(15)).unwrap(), Entered::Pin);
        // A right PIN starts the count again.
        assert!(matches!(
            verify(&db, "0000", at(15)),
            Err(PinError::Wrong(0))
        ));
    }

    #[test]
    fn changing_or_clearing_needs_the_pin_and_the_duress_pin_changes_nothing() {
        let (_dir, db) = db();
        set(&db, None, "1234".into(), Some("4321".into()), at(0)).unwrap();
        let before = (
            db.setting(APP_KEY).unwrap(),
            db.setting(DURESS_KEY).unwrap(),
        );
        // The duress PIN as "current": looks like success, changes nothing.
        let fake = set(&db, Some("4321"), "5555".into(), None, at(0)).unwrap();
        assert!(
            matches!(fake, Guarded::Duress(ref c) if c.status.pin_set && c.duress == DuressNote::None),
            "after the duress PIN: what a change says with no duress PIN ever set"
        );
        assert!(matches!(
            remove_duress(&db, "4321", at(0)).unwrap(),
            Guarded::Duress(DuressNote::Removed)
        ));
        assert!(matches!(clear(&db, "4321", at(0)).unwrap(), Guarded::Duress(ref s) if !s.pin_set));
        assert!(matches!(
            set_idle_lock(&db, 0, Some("4321"), at(0)).unwrap(),
            Guarded::Duress(_)
        ));
        assert_eq!(
            (
                db.setting(APP_KEY).unwrap(),
                db.setting(DURESS_KEY).unwrap()
            ),
            before
        );
        assert_eq!(status(&db).unwrap().idle_lock_minutes, 0);
        // A wrong one is refused; formats are checked before anything else.
        assert!(matches!(
            set(&db, Some("0000"), "5555".into(), None, at(0)),
            Err(PinError::Wrong(_))
        ));
        assert!(matches!(
            set(&db, Some("1234"), "5555".into(), Some("5555".into()), at(0)),
            Err(PinError::Format(PinFormatError::SameAsPin))
        ));
        assert!(matches!(
            set(&db, Some("1234"), "12".into(), None, at(0)),
            Err(PinError::Format(PinFormatError::Digits))
        ));
        // The new PIN may not be the duress PIN that stays.
        assert!(matches!(
            set(&db, Some("1234"), "4321".into(), None, at(0)),
            Err(PinError::Format(PinFormatError::SameAsPin))
        ));
        let s = set(&db, Some("1234"), "5555".into(), None, at(0)).unwrap();
        assert!(
            matches!(s, Guarded::Done(ref c) if c.status.pin_set && c.status.duress_set && c.duress == DuressNote::Kept),
            "no duress PIN given: the one set stays"
        );
        assert_eq!(
            verify(&db, "4321", at(0)).unwrap(),
            Entered::Duress,
            "and still works"
        );
        // Removing it is its own action, behind the person's own PIN.
        assert!(matches!(
            remove_duress(&db, "0000", at(0)),
            Err(PinError::Wrong(_))
        ));
        assert_eq!(
            remove_duress(&db, "5555", at(40)).unwrap(),
            Guarded::Done(DuressNote::Removed)
        );
        assert!(!status(&db).unwrap().duress_set);
        assert!(matches!(
            verify(&db, "4321", at(40)),
            Err(PinError::Wrong(_))
        ));
        assert_eq!(
            remove_duress(&db, "5555", at(40)).unwrap(),
            Guarded::Done(DuressNote::None)
        );
        // Setting an idle lock is free; turning it off or lengthening it needs the PIN.
        assert_eq!(
            set_idle_lock(&db, 5, None, at(20))
                .unwrap()
                .shown()
                .idle_lock_minutes,
            5
        );
        assert_eq!(
            set_idle_lock(&db, 1, None, at(20))
                .unwrap()
                .shown()
                .idle_lock_minutes,
            1
        );
        assert!(matches!(
            set_idle_lock(&db, 0, None, at(20)),
            Err(PinError::Wrong(_))
        ));
        assert!(matches!(
            set_idle_lock(&db, 30, Some("0000"), at(20)),
            Err(PinError::Wrong(_))
        ));
        assert_eq!(
            set_idle_lock(&db, 0, Some("5555"), at(60)).unwrap(),
            Guarded::Done(PinStatus {
                pin_set: true,
                duress_set: false,
                idle_lock_minutes: 0
            })
        );
        let s = clear(&db, "5555", at(60)).unwrap().shown();
        assert_eq!(
            s,
            PinStatus {
                pin_set: false,
                duress_set: false,
                idle_lock_minutes: 0
            }
        );
        assert!(matches!(
            set_idle_lock(&db, 5, None, at(60)),
            Err(PinError::NotSet)
        ));
    }

    #[test]
    fn the_duress_pin_never_resets_the_count_of_wrong_tries() {
        let (_dir, db) = db();
        set(&db, None, "1234".into(), Some("4321".into()), at(0)).unwrap();
        for _ in 0..2 {
            assert!(matches!(
                verify(&db, "0000", at(0)),
                Err(PinError::Wrong(0))
            ));
        }
        assert_eq!(verify(&db, "4321", at(0)).unwrap(), Entered::Duress);
        // Still the third wrong try: it waits, as it would have without the duress PIN.
        assert!(matches!(
            verify(&db, "0000", at(0)),
            Err(PinError::Wrong(5))
        ));
        assert_eq!(verify(&db, "1234", at(5)).unwrap(), Entered::Pin);
        assert!(matches!(
            verify(&db, "0000", at(5)),
            Err(PinError::Wrong(0))
        ));
    }

    #[test]
    fn whether_a_duress_pin_is_set_never_reaches_the_window() {
        let s = PinStatus {
            pin_set: true,
            duress_set: true,
            idle_lock_minutes: 5,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("duress"), "{json}");
    }

    #[test]
    fn weakening_the_idle_lock_is_turning_it_off_or_lengthening_it() {
        assert!(idle_change_weakens(5, 0));
        assert!(idle_change_weakens(5, 15));
        assert!(!idle_change_weakens(15, 5));
        assert!(!idle_change_weakens(0, 5));
        assert!(!idle_change_weakens(5, 5));
    }
}
