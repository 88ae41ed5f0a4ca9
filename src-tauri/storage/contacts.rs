//! The person's own contacts (e.g. the party's group leader), in their chosen order.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Db, StorageError};

/// A contact the person added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserContact {
    /// Client-generated id.
    pub id: Uuid,
    /// Name or role, e.g. "Gruppledare (S)".
    pub name: String,
    /// Phone number as typed.
    pub number: String,
}

impl Db {
    /// The person's contacts, in order.
    pub fn user_contacts(&self) -> Result<Vec<UserContact>, StorageError> {
        let rows: Vec<(String, String, String)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, name, number FROM user_contacts ORDER BY position, created_at",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(id, name, number)| {
                Ok(UserContact {
                    id: Uuid::parse_str(&id).map_err(|e| self.decode_err(e))?,
                    name,
                    number,
                })
            })
            .collect()
    }

    /// Adds or updates a contact; a new one goes last.
    pub fn save_user_contact(&self, c: &UserContact) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO user_contacts (id, name, number, position, created_at)
                 VALUES (?1, ?2, ?3, (SELECT coalesce(max(position), 0) + 1 FROM user_contacts), ?4)
                 ON CONFLICT (id) DO UPDATE SET name = ?2, number = ?3",
                params![c.id.to_string(), c.name, c.number, super::now()],
            )?;
            Ok(())
        })
    }

    /// Deletes a contact; returns whether it existed.
    pub fn delete_user_contact(&self, id: Uuid) -> Result<bool, StorageError> {
        self.write(|tx| {
            Ok(tx.execute("DELETE FROM user_contacts WHERE id = ?1", [id.to_string()])? > 0)
        })
    }

    /// Puts the contacts in the given order (ids not listed keep their relative order after).
    pub fn order_user_contacts(&self, ids: &[Uuid]) -> Result<(), StorageError> {
        self.write(|tx| {
            for (i, id) in ids.iter().enumerate() {
                tx.execute(
                    "UPDATE user_contacts SET position = ?1 WHERE id = ?2",
                    params![i as i64, id.to_string()],
                )?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_added_edited_reordered_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        let a = UserContact {
            id: Uuid::now_v7(),
            name: "Gruppledare".into(),
            number: "070-111 22 33".into(),
        };
        let b = UserContact {
            id: Uuid::now_v7(),
            name: "Partikansliet".into(),
            number: "08-123 45".into(),
        };
        db.save_user_contact(&a).unwrap();
        db.save_user_contact(&b).unwrap();
        assert_eq!(db.user_contacts().unwrap(), vec![a.clone(), b.clone()]);
        let a2 = UserContact {
            name: "Gruppledare (S)".into(),
            ..a.clone()
        };
        db.save_user_contact(&a2).unwrap();
        db.order_user_contacts(&[b.id, a.id]).unwrap();
        assert_eq!(db.user_contacts().unwrap(), vec![b.clone(), a2]);
        assert!(db.delete_user_contact(b.id).unwrap());
        assert!(!db.delete_user_contact(b.id).unwrap());
        assert_eq!(db.user_contacts().unwrap().len(), 1);
    }
}
