//! Planned appearances and whether their reminder has been shown (so it fires once, also
//! across restarts).

use rusqlite::{params, OptionalExtension, Row};
use uuid::Uuid;
use varn_core::appearance::Appearance;

use super::{Db, StorageError};

const COLS: &str = "id, title, place, starts_at, ends_at, remind_minutes, inventory_id";

/// A row as stored: id, title, place, starts_at, ends_at, remind_minutes, inventory_id.
type Raw = (String, String, String, String, String, u32, Option<String>);

fn row(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

impl Db {
    fn decode_appearance(&self, raw: Raw) -> Result<Appearance, StorageError> {
        let (id, title, place, starts_at, ends_at, remind_minutes, inventory) = raw;
        let uuid = |s: &str| Uuid::parse_str(s).map_err(|e| self.decode_err(e));
        Ok(Appearance {
            id: uuid(&id)?,
            title,
            place,
            starts_at,
            ends_at,
            remind_minutes,
            inventory_id: inventory.as_deref().map(uuid).transpose()?,
        })
    }

    /// Saves (creates or replaces) an appearance durably. A changed start or reminder time
    /// arms the reminder again.
    pub fn save_appearance(&self, a: &Appearance) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO appearances (id, title, place, starts_at, ends_at, remind_minutes,
                    inventory_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET title = ?2, place = ?3, ends_at = ?5,
                    inventory_id = ?7,
                    reminded_at = CASE WHEN starts_at = ?4 AND remind_minutes = ?6
                                       THEN reminded_at ELSE NULL END,
                    starts_at = ?4, remind_minutes = ?6",
                params![
                    a.id.to_string(),
                    a.title,
                    a.place,
                    a.starts_at,
                    a.ends_at,
                    a.remind_minutes,
                    a.inventory_id.map(|i| i.to_string()),
                    super::now()
                ],
            )
            .map(|_| ())
        })
    }

    /// One appearance.
    pub fn appearance(&self, id: Uuid) -> Result<Option<Appearance>, StorageError> {
        let raw = self.read(|c| {
            c.query_row(
                &format!("SELECT {COLS} FROM appearances WHERE id = ?1"),
                [id.to_string()],
                row,
            )
            .optional()
        })?;
        raw.map(|r| self.decode_appearance(r)).transpose()
    }

    /// Appearances that have not ended before `since` (local time), soonest first.
    pub fn appearances(&self, since: &str) -> Result<Vec<Appearance>, StorageError> {
        let raws = self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM appearances WHERE ends_at >= ?1 ORDER BY starts_at"
            ))?;
            let rows = stmt.query_map([since], row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        raws.into_iter()
            .map(|r| self.decode_appearance(r))
            .collect()
    }

    /// Whether the reminder has been shown.
    pub fn reminded(&self, id: Uuid) -> Result<bool, StorageError> {
        let at: Option<Option<String>> = self.read(|c| {
            c.query_row(
                "SELECT reminded_at FROM appearances WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(matches!(at, Some(Some(_))))
    }

    /// Marks the reminder shown; true only for the call that marked it (so it fires once).
    pub fn mark_reminded(&self, id: Uuid) -> Result<bool, StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE appearances SET reminded_at = ?1 WHERE id = ?2 AND reminded_at IS NULL",
                params![super::now(), id.to_string()],
            )
            .map(|n| n == 1)
        })
    }

    /// Deletes an appearance; false if there was none.
    pub fn delete_appearance(&self, id: Uuid) -> Result<bool, StorageError> {
        self.write(|tx| {
            tx.execute("DELETE FROM appearances WHERE id = ?1", [id.to_string()])
                .map(|n| n == 1)
        })
    }
}
