//! The database key. The app's database is encrypted at rest with SQLCipher under a random
//! 256-bit key kept in the OS keychain. Where there is no keychain, the person chooses a
//! passphrase instead and the key is derived from it with Argon2id; only the salt and the
//! parameters are stored (`varn.key.json`). Nothing ever falls back to plaintext, and a
//! missing or wrong key never replaces or damages the database.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use serde::{Deserialize, Serialize};
use varn_core::sqlite::Key;
use zeroize::Zeroize;

use crate::os::secrets::SecretStore;
use crate::storage::{Db, StorageError};

/// The database file in the data directory.
pub const DB_FILE: &str = "varn.db";
/// The passphrase parameters (salt, Argon2id costs), only in passphrase mode.
pub const KEY_FILE: &str = "varn.key.json";
/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// The keychain entry of a data directory's database key.
pub fn key_name(data_dir: &Path) -> String {
    crate::os::secrets::device_token_key(data_dir).replace("device-token:", "db-key:")
}

/// What opening the database needs.
pub enum Opening {
    /// It is open.
    Open(Db),
    /// The person must give a passphrase: to choose one (`first_time`) or to unlock.
    NeedPassphrase {
        /// No database yet: the person chooses a passphrase.
        first_time: bool,
        /// Why (shown to the person).
        reason: String,
    },
}

/// Why the database cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The keychain holds the key but cannot be reached now.
    #[error("the keychain cannot be read ({0}); unlock it (log in to the desktop) and start Värn again. Nothing was changed.")]
    KeychainUnavailable(String),
    /// The keychain works but has no key for an existing encrypted database.
    #[error(
        "the keychain has no key for the database {0}; it cannot be opened. Nothing was changed."
    )]
    KeyLost(PathBuf),
    /// The key in the keychain does not open the database.
    #[error("the key in the keychain does not open the database {0}. Nothing was changed.")]
    KeyMismatch(PathBuf),
    /// The passphrase is wrong (or too short to choose).
    #[error("{0}")]
    Passphrase(String),
    /// Wait before the next attempt.
    #[error("wait {0} s before the next attempt")]
    Wait(u64),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    kdf: String,
    salt: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
}

fn random_key() -> Key {
    rand::rng().random()
}

fn key_to_hex(key: &Key) -> String {
    hex::encode(key)
}

fn key_from_hex(text: &str) -> Option<Key> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

/// Opens the database with the keychain's key, creating key and database on the first start.
pub fn open(data_dir: &Path, secrets: &dyn SecretStore) -> Result<Opening, VaultError> {
    let db_path = data_dir.join(DB_FILE);
    if data_dir.join(KEY_FILE).exists() {
        return Ok(Opening::NeedPassphrase {
            first_time: false,
            reason: String::new(),
        });
    }
    let name = key_name(data_dir);
    let stored = match secrets.get(&name) {
        Ok(v) => v,
        Err(e) => {
            if db_path.exists() && !is_plaintext(&db_path) {
                return Err(VaultError::KeychainUnavailable(e.0));
            }
            return Ok(Opening::NeedPassphrase {
                first_time: true,
                reason: e.0,
            });
        }
    };
    match stored.as_deref().and_then(key_from_hex) {
        Some(key) => match Db::open_keyed(&db_path, Some(&key)) {
            Ok(db) => Ok(Opening::Open(db)),
            Err(StorageError::Corrupt { .. }) => Err(VaultError::KeyMismatch(db_path)),
            Err(e) => Err(e.into()),
        },
        None if db_path.exists() && !is_plaintext(&db_path) => Err(VaultError::KeyLost(db_path)),
        None => {
            let key = random_key();
            // A keychain that cannot take the key (locked, no prompt possible) is as good as
            // none: on a first start the person chooses a passphrase instead.
            let stored = secrets
                .set(&name, &key_to_hex(&key))
                .map_err(|e| e.0)
                .and_then(|()| {
                    // Read it back: a keychain that takes a key but cannot give it back would lock
                    // the person out of their own data at the next start.
                    match secrets
                        .get(&name)
                        .ok()
                        .flatten()
                        .as_deref()
                        .and_then(key_from_hex)
                    {
                        Some(k) if k == key => Ok(()),
                        _ => Err("the key could not be read back from the keychain".to_string()),
                    }
                });
            if let Err(reason) = stored {
                let _ = secrets.delete(&name);
                return Ok(Opening::NeedPassphrase {
                    first_time: true,
                    reason,
                });
            }
            encrypt_if_plaintext(&db_path, &key)?;
            Ok(Opening::Open(Db::open_keyed(&db_path, Some(&key))?))
        }
    }
}

/// Opens (or, the first time, creates) the database with a passphrase.
pub fn open_with_passphrase(
    data_dir: &Path,
    passphrase: &str,
    first_time: bool,
) -> Result<Db, VaultError> {
    let db_path = data_dir.join(DB_FILE);
    let key_file = data_dir.join(KEY_FILE);
    if first_time && !key_file.exists() {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::Passphrase(format!(
                "välj en lösenfras med minst {MIN_PASSPHRASE_CHARS} tecken / at least {MIN_PASSPHRASE_CHARS} characters"
            )));
        }
        let salt: [u8; 16] = rand::rng().random();
        let kf = KeyFile {
            kdf: "argon2id".into(),
            salt: hex::encode(salt),
            m_cost: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        };
        let key = derive(passphrase, &kf)?;
        encrypt_if_plaintext(&db_path, &key)?;
        let db = Db::open_keyed(&db_path, Some(&key))?;
        write_key_file(&key_file, &kf)?;
        return Ok(db);
    }
    let text = std::fs::read_to_string(&key_file).map_err(|e| {
        VaultError::Storage(StorageError::Other {
            path: key_file.clone(),
            detail: e.to_string(),
        })
    })?;
    let kf: KeyFile = serde_json::from_str(&text).map_err(|e| {
        VaultError::Storage(StorageError::Decode {
            path: key_file.clone(),
            detail: e.to_string(),
        })
    })?;
    let key = derive(passphrase, &kf)?;
    match Db::open_keyed(&db_path, Some(&key)) {
        Ok(db) => Ok(db),
        Err(StorageError::Corrupt { .. }) => Err(VaultError::Passphrase(
            "fel lösenfras / wrong passphrase".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

fn derive(passphrase: &str, kf: &KeyFile) -> Result<Key, VaultError> {
    let bad = |d: String| {
        VaultError::Storage(StorageError::Other {
            path: KEY_FILE.into(),
            detail: d,
        })
    };
    if kf.kdf != "argon2id" {
        return Err(bad(format!("unknown key derivation {}", kf.kdf)));
    }
    let salt = hex::decode(&kf.salt).map_err(|e| bad(e.to_string()))?;
    let params =
        Params::new(kf.m_cost, kf.t_cost, kf.p_cost, Some(32)).map_err(|e| bad(e.to_string()))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
        .map_err(|e| bad(e.to_string()))?;
    Ok(key)
}

fn write_key_file(path: &Path, kf: &KeyFile) -> Result<(), VaultError> {
    let err = |e: std::io::Error| {
        VaultError::Storage(StorageError::Other {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    };
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(kf).unwrap_or_default();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(text.as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)?;
    if let Some(dir) = path.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// True when the file is an SQLite database without encryption (from a Värn before encryption).
fn is_plaintext(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| b.starts_with(b"SQLite format 3\0"))
        .unwrap_or(false)
}

/// Encrypts a plaintext database in place (copy, then rename over it): the plaintext file is
/// replaced whole or not at all.
fn encrypt_if_plaintext(db_path: &Path, key: &Key) -> Result<(), VaultError> {
    if !is_plaintext(db_path) {
        return Ok(());
    }
    let tmp = db_path.with_extension("db.encrypting");
    let _ = std::fs::remove_file(&tmp);
    let fail = |detail: String| {
        VaultError::Storage(StorageError::Other {
            path: db_path.to_path_buf(),
            detail,
        })
    };
    // Fold the WAL in first so the copy has everything.
    if let Ok(c) = rusqlite::Connection::open(db_path) {
        let _ = c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    }
    varn_core::sqlite::encrypt_copy(db_path, &tmp, key).map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, db_path).map_err(|e| fail(e.to_string()))?;
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(db_path.with_extension(ext));
    }
    tracing::info!("the database was encrypted");
    Ok(())
}

/// Growing delays after wrong passphrases: 1, 2, 4 … 60 seconds.
#[derive(Default)]
pub struct Attempts {
    failures: u32,
    next: Option<Instant>,
}

impl Attempts {
    /// `Err(seconds)` while the person must wait.
    pub fn check(&self) -> Result<(), u64> {
        match self.next {
            Some(t) if t > Instant::now() => Err((t - Instant::now()).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a wrong passphrase; returns the wait before the next try.
    pub fn failed(&mut self) -> u64 {
        self.failures += 1;
        let wait = 2u64.saturating_pow(self.failures - 1).min(60);
        self.next = Some(Instant::now() + Duration::from_secs(wait));
        wait
    }
}

/// Wipes a passphrase from memory once it has been used.
pub fn forget(mut passphrase: String) {
    passphrase.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::secrets::{MemorySecrets, SecretError};

    struct NoKeychain;
    impl SecretStore for NoKeychain {
        fn get(&self, _: &str) -> Result<Option<String>, SecretError> {
            Err(SecretError("no Secret Service on the bus".into()))
        }
        fn set(&self, _: &str, _: &str) -> Result<(), SecretError> {
            Err(SecretError("no Secret Service on the bus".into()))
        }
        fn delete(&self, _: &str) -> Result<(), SecretError> {
            Ok(())
        }
    }

    fn open_db(dir: &Path, s: &dyn SecretStore) -> Db {
        match open(dir, s).unwrap() {
            Opening::Open(db) => db,
            Opening::NeedPassphrase { .. } => panic!("expected the keychain path"),
        }
    }

    #[test]
    fn the_first_start_makes_a_key_in_the_keychain_and_an_encrypted_database() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::default();
        let db = open_db(dir.path(), &secrets);
        db.set_setting("note", "Hotet kom via telefon").unwrap();
        drop(db);
        assert!(secrets.get(&key_name(dir.path())).unwrap().is_some());
        assert!(!is_plaintext(&dir.path().join(DB_FILE)));
        let db = open_db(dir.path(), &secrets);
        assert_eq!(
            db.setting("note").unwrap().as_deref(),
            Some("Hotet kom via telefon")
        );
    }

    #[test]
    fn a_lost_key_refuses_and_leaves_the_database_alone() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::default();
        drop(open_db(dir.path(), &secrets));
        let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();
        let empty = MemorySecrets::default();
        assert!(matches!(
            open(dir.path(), &empty),
            Err(VaultError::KeyLost(_))
        ));
        assert!(matches!(
            open(dir.path(), &NoKeychain),
            Err(VaultError::KeychainUnavailable(_))
        ));
        let other = MemorySecrets::default();
        other.set(&key_name(dir.path()), &"ab".repeat(32)).unwrap();
        assert!(matches!(
            open(dir.path(), &other),
            Err(VaultError::KeyMismatch(_))
        ));
        assert_eq!(std::fs::read(dir.path().join(DB_FILE)).unwrap(), before);
    }

    #[test]
    fn without_a_keychain_a_passphrase_is_chosen_then_needed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            open(dir.path(), &NoKeychain).unwrap(),
            Opening::NeedPassphrase {
                first_time: true,
                ..
            }
        ));
        assert!(matches!(
            open_with_passphrase(dir.path(), "kort", true),
            Err(VaultError::Passphrase(_))
        ));
        let db = open_with_passphrase(dir.path(), "en lång och hemlig fras", true).unwrap();
        db.set_setting("x", "y").unwrap();
        drop(db);
        let kf = std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        assert!(kf.contains("argon2id") && !kf.contains("hemlig"));
        // Now the passphrase is needed even if a keychain appears.
        assert!(matches!(
            open(dir.path(), &MemorySecrets::default()).unwrap(),
            Opening::NeedPassphrase {
                first_time: false,
                ..
            }
        ));
        let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();
        assert!(matches!(
            open_with_passphrase(dir.path(), "fel fras helt och hållet", false),
            Err(VaultError::Passphrase(_))
        ));
        assert_eq!(
            std::fs::read(dir.path().join(DB_FILE)).unwrap(),
            before,
            "a wrong passphrase changes nothing"
        );
        let db = open_with_passphrase(dir.path(), "en lång och hemlig fras", false).unwrap();
        assert_eq!(db.setting("x").unwrap().as_deref(), Some("y"));
    }

    /// A locked keychain: nothing to read, writes refused.
    struct LockedKeychain;
    impl SecretStore for LockedKeychain {
        fn get(&self, _: &str) -> Result<Option<String>, SecretError> {
            Ok(None)
        }
        fn set(&self, _: &str, _: &str) -> Result<(), SecretError> {
            Err(SecretError("the collection is locked".into()))
        }
        fn delete(&self, _: &str) -> Result<(), SecretError> {
            Ok(())
        }
    }

    #[test]
    fn a_locked_keychain_on_the_first_start_leads_to_a_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        match open(dir.path(), &LockedKeychain).unwrap() {
            Opening::NeedPassphrase { first_time, reason } => {
                assert!(first_time);
                assert!(reason.contains("locked"), "{reason}");
            }
            Opening::Open(_) => panic!("must not open without a stored key"),
        }
        assert!(!dir.path().join(DB_FILE).exists(), "nothing created yet");
    }

    #[test]
    fn a_plaintext_database_from_before_encryption_is_encrypted_with_its_data() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Db::open(&dir.path().join(DB_FILE)).unwrap();
            db.set_setting("lang", "en").unwrap();
        }
        assert!(is_plaintext(&dir.path().join(DB_FILE)));
        let db = open_db(dir.path(), &MemorySecrets::default());
        assert_eq!(db.setting("lang").unwrap().as_deref(), Some("en"));
        assert!(!is_plaintext(&dir.path().join(DB_FILE)));
    }

    #[test]
    fn wrong_attempts_wait_longer_each_time() {
        let mut a = Attempts::default();
        assert!(a.check().is_ok());
        assert_eq!(a.failed(), 1);
        assert!(a.check().is_err());
        assert_eq!(a.failed(), 2);
        assert_eq!(a.failed(), 4);
        for _ in 0..10 {
            a.failed();
        }
        assert_eq!(a.failed(), 60);
    }
}
