//! Key–value settings (language and the like).

use rusqlite::OptionalExtension;

use super::{Db, StorageError};

impl Db {
    /// A setting, if it has been set.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.read(|c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    /// Sets a setting durably.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.set_settings(&[(key, value)])
    }
}

impl Db {
    /// Sets several settings in one transaction.
    pub fn set_settings(&self, pairs: &[(&str, &str)]) -> Result<(), StorageError> {
        self.write(|tx| {
            for (key, value) in pairs {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )?;
            }
            Ok(())
        })
    }

    /// Removes settings in one transaction.
    pub fn delete_settings(&self, keys: &[&str]) -> Result<(), StorageError> {
        self.write(|tx| {
            for key in keys {
                tx.execute("DELETE FROM settings WHERE key = ?1", [key])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        {
            let db = Db::open(&path).unwrap();
            assert_eq!(db.setting("lang").unwrap(), None);
            db.set_setting("lang", "en").unwrap();
            db.set_setting("lang", "sv").unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(db.setting("lang").unwrap().as_deref(), Some("sv"));
    }
}
