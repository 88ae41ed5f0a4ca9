//! Risk inventories, one per appearance, stored whole (answers as JSON) in one row.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;
use varn_core::risk::Inventory;

use super::{Db, StorageError};

/// An inventory as listed: what, when, where and when it was last changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventorySummary {
    /// The inventory with its answers.
    pub inventory: Inventory,
    /// When it was created (UTC).
    pub created_at: String,
    /// When it was last saved (UTC).
    pub updated_at: String,
}

impl Db {
    /// Saves (creates or replaces) an inventory durably; returns the time of the save.
    pub fn save_inventory(&self, inv: &Inventory, now: &str) -> Result<String, StorageError> {
        let answers = serde_json::to_string(&inv.answers).map_err(|e| self.decode_err(e))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO inventories (id, what, held_at, place, answers, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (id) DO UPDATE SET what = ?2, held_at = ?3, place = ?4,
                    answers = ?5, updated_at = ?6",
                params![inv.id.to_string(), inv.what, inv.when, inv.place, answers, now],
            )?;
            Ok(now.to_string())
        })
    }

    /// All inventories, newest appearance first.
    pub fn list_inventories(&self) -> Result<Vec<InventorySummary>, StorageError> {
        let rows: Vec<(String, String, String, String, String, String, String)> =
            self.read(|c| {
                let mut stmt = c.prepare(
                    "SELECT id, what, held_at, place, answers, created_at, updated_at
                     FROM inventories ORDER BY held_at DESC, created_at DESC",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?;
                rows.collect()
            })?;
        rows.into_iter()
            .map(|(id, what, when, place, answers, created_at, updated_at)| {
                Ok(InventorySummary {
                    inventory: Inventory {
                        id: Uuid::parse_str(&id).map_err(|e| self.decode_err(e))?,
                        what,
                        when,
                        place,
                        answers: serde_json::from_str(&answers).map_err(|e| self.decode_err(e))?,
                    },
                    created_at,
                    updated_at,
                })
            })
            .collect()
    }

    /// One inventory.
    pub fn inventory(&self, id: Uuid) -> Result<Option<InventorySummary>, StorageError> {
        let row: Option<(String, String, String, String, String, String)> = self.read(|c| {
            c.query_row(
                "SELECT what, held_at, place, answers, created_at, updated_at
                 FROM inventories WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()
        })?;
        row.map(|(what, when, place, answers, created_at, updated_at)| {
            Ok(InventorySummary {
                inventory: Inventory {
                    id,
                    what,
                    when,
                    place,
                    answers: serde_json::from_str(&answers).map_err(|e| self.decode_err(e))?,
                },
                created_at,
                updated_at,
            })
        })
        .transpose()
    }

    /// Deletes an inventory; returns whether it existed. `secure_delete` overwrites the bytes.
    pub fn delete_inventory(&self, id: Uuid) -> Result<bool, StorageError> {
        self.write(|tx| {
            Ok(tx.execute("DELETE FROM inventories WHERE id = ?1", [id.to_string()])? > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use varn_core::risk::{Answer, Level};

    fn inv(what: &str, when: &str) -> Inventory {
        let mut answers = BTreeMap::new();
        answers.insert(
            "vem".to_string(),
            Answer {
                level: Some(Level::High),
                note: "okänd motpart".into(),
            },
        );
        Inventory {
            id: Uuid::now_v7(),
            what: what.into(),
            when: when.into(),
            place: "Nyköping".into(),
            answers,
        }
    }

    #[test]
    fn inventories_are_saved_listed_by_date_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        let a = inv("Fullmäktige", "2026-12-01T18:00");
        let b = inv("Torgmöte", "2026-12-05T12:00");
        {
            let db = Db::open(&path).unwrap();
            db.save_inventory(&a, "2026-11-24T10:00:00.000Z").unwrap();
            db.save_inventory(&b, "2026-11-24T10:01:00.000Z").unwrap();
            let mut a2 = a.clone();
            a2.place = "Eskilstuna".into();
            db.save_inventory(&a2, "2026-11-24T10:02:00.000Z").unwrap();
        }
        let db = Db::open(&path).unwrap();
        let list = db.list_inventories().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].inventory.what, "Torgmöte");
        assert_eq!(list[1].inventory.place, "Eskilstuna");
        assert_eq!(list[1].created_at, "2026-11-24T10:00:00.000Z");
        assert_eq!(list[1].updated_at, "2026-11-24T10:02:00.000Z");
        assert_eq!(list[1].inventory.answers, a.answers);
        assert!(db.delete_inventory(a.id).unwrap());
        assert!(!db.delete_inventory(a.id).unwrap());
        assert!(db.inventory(a.id).unwrap().is_none());
        assert_eq!(db.inventory(b.id).unwrap().unwrap().inventory, b);
    }
}
