//! Ticks of the EFTER checklist, each saved with the time it was ticked.

use serde::Serialize;

use super::{Db, StorageError};

/// One ticked checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tick {
    /// The checklist item's id from the profile.
    pub item_id: String,
    /// When it was ticked (UTC, RFC 3339).
    pub ticked_at: String,
}

impl Db {
    /// All ticked items.
    pub fn checklist_ticks(&self) -> Result<Vec<Tick>, StorageError> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT item_id, ticked_at FROM checklist_ticks ORDER BY ticked_at")?;
            let rows = stmt.query_map([], |r| {
                Ok(Tick {
                    item_id: r.get(0)?,
                    ticked_at: r.get(1)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Ticks (with the time `now`) or unticks an item; returns the stored tick, if any.
    /// Ticking an item that is already ticked keeps its first time.
    pub fn set_checklist_tick(
        &self,
        item_id: &str,
        ticked: bool,
        now: &str,
    ) -> Result<Option<Tick>, StorageError> {
        self.write(|tx| {
            if ticked {
                tx.execute(
                    "INSERT INTO checklist_ticks (item_id, ticked_at) VALUES (?1, ?2)
                     ON CONFLICT (item_id) DO NOTHING",
                    [item_id, now],
                )?;
                let at: String = tx.query_row(
                    "SELECT ticked_at FROM checklist_ticks WHERE item_id = ?1",
                    [item_id],
                    |r| r.get(0),
                )?;
                Ok(Some(Tick {
                    item_id: item_id.to_string(),
                    ticked_at: at,
                }))
            } else {
                tx.execute("DELETE FROM checklist_ticks WHERE item_id = ?1", [item_id])?;
                Ok(None)
            }
        })
    }

    /// Clears every tick.
    pub fn reset_checklist(&self) -> Result<(), StorageError> {
        self.write(|tx| tx.execute("DELETE FROM checklist_ticks", []).map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_keep_their_first_time_and_can_be_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        let db = Db::open(&path).unwrap();
        let t = db
            .set_checklist_tick("checklista-1", true, "2026-01-01T10:00:00.000Z")
            .unwrap();
        assert_eq!(t.unwrap().ticked_at, "2026-01-01T10:00:00.000Z");
        let t = db
            .set_checklist_tick("checklista-1", true, "2026-01-01T11:00:00.000Z")
            .unwrap();
        assert_eq!(t.unwrap().ticked_at, "2026-01-01T10:00:00.000Z");
        db.set_checklist_tick("checklista-2", true, "2026-01-01T12:00:00.000Z")
            .unwrap();
        db.set_checklist_tick("checklista-2", false, "x").unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        let ticks = db.checklist_ticks().unwrap();
        assert_eq!(ticks.len(), 1);
        assert_eq!(ticks[0].item_id, "checklista-1");
        db.reset_checklist().unwrap();
        assert!(db.checklist_ticks().unwrap().is_empty());
    }
}
