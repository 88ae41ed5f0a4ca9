//! The app's check-ins: the whole state written durably before anything is sent.

use rusqlite::OptionalExtension;
use uuid::Uuid;
use varn_core::checkin::LocalCheckin;

use super::{Db, StorageError};

impl Db {
    /// Stores a check-in (new or changed) durably.
    pub fn save_checkin(&self, k: &LocalCheckin) -> Result<(), StorageError> {
        let body = serde_json::to_string(k).map_err(|e| self.decode_err(e))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO checkins (id, body, started_at, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET body = ?2, updated_at = ?4",
                rusqlite::params![
                    k.id.to_string(),
                    body,
                    k.started_at.to_rfc3339(),
                    super::now()
                ],
            )
            .map(|_| ())
        })
    }

    /// One check-in.
    pub fn checkin(&self, id: Uuid) -> Result<Option<LocalCheckin>, StorageError> {
        let body: Option<String> = self.read(|c| {
            c.query_row(
                "SELECT body FROM checkins WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
        })?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| self.decode_err(e)))
            .transpose()
    }

    /// The newest check-ins, newest first.
    pub fn checkins(&self, limit: u32) -> Result<Vec<LocalCheckin>, StorageError> {
        let bodies: Vec<String> = self.read(|c| {
            let mut stmt =
                c.prepare("SELECT body FROM checkins ORDER BY started_at DESC LIMIT ?1")?;
            let rows = stmt.query_map([limit], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(|e| self.decode_err(e)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn check_ins_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        let mut k = LocalCheckin {
            id: Uuid::now_v7(),
            meeting: "Möte".into(),
            place: "Sal".into(),
            started_at: Utc::now(),
            deadline: Utc::now() + chrono::Duration::hours(1),
            revision: 1,
            receipt: None,
            checkout: None,
        };
        {
            let db = Db::open(&path).unwrap();
            db.save_checkin(&k).unwrap();
            k.revision = 2;
            db.save_checkin(&k).unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(db.checkin(k.id).unwrap(), Some(k.clone()));
        assert_eq!(db.checkins(10).unwrap(), vec![k]);
    }
}
