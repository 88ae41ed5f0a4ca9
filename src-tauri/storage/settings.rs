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

/// The setting for how long reports the region has closed are kept.
pub const CLOSED_REPORTS_DAYS: &str = "closed_reports_days";

impl Db {
    /// How long reports the region has closed are kept here (None: kept until deleted).
    pub fn closed_reports_days(&self) -> Result<Option<u32>, StorageError> {
        Ok(self
            .setting(CLOSED_REPORTS_DAYS)?
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|d| varn_core::incident::CLOSED_KEEP_DAYS.contains(d)))
    }

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
