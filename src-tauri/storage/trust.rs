//! What the app has learned about whom to trust for its region's profile: keys given at
//! linking (trusted once the person has compared the fingerprint with the region's letter)
//! or by a rotation, keys rotations retired; and the numbers a newer profile changed, each
//! shown to the person once before it is used.

use rusqlite::params;
use serde::Serialize;
use varn_core::signing::{PublicKey, TrustedKey};

use super::{Db, StorageError};

/// A key learned for a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnedKey {
    /// The region.
    pub region_id: String,
    /// The key, `ed25519:…`.
    pub key: String,
    /// What the person compares with the region's letter.
    pub fingerprint: String,
    /// `linking` or `rotation`.
    pub origin: String,
    /// Whether it is trusted (a key from linking only after the person confirmed it).
    pub confirmed: bool,
}

/// A number a newer profile changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberNotice {
    /// The contact's id in the profile.
    pub contact_id: String,
    /// Its name when it changed (Swedish).
    pub name: String,
    /// The number before.
    pub old_number: String,
    /// The number now.
    pub new_number: String,
}

impl Db {
    /// Remembers a key for a region: from linking (untrusted until confirmed), or from a
    /// rotation (trusted at once: the old key signed it). A retired key stays retired.
    pub fn learn_key(
        &self,
        region: &str,
        key: &PublicKey,
        origin: &str,
    ) -> Result<(), StorageError> {
        let now = super::now();
        let confirmed = (origin == "rotation").then_some(now.clone());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO profile_keys (region_id, key, origin, learned_at, confirmed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (region_id, key) DO UPDATE SET
                    confirmed_at = COALESCE(profile_keys.confirmed_at, excluded.confirmed_at)",
                params![region, key.encode(), origin, now, confirmed],
            )?;
            Ok(())
        })
    }

    /// The person compared the fingerprint of a region's key with the region's letter.
    pub fn confirm_key(&self, region: &str, key: &str) -> Result<bool, StorageError> {
        let now = super::now();
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE profile_keys SET confirmed_at = ?3
                 WHERE region_id = ?1 AND key = ?2 AND confirmed_at IS NULL AND retired_at IS NULL",
                params![region, key, now],
            )? == 1)
        })
    }

    /// Forgets every key learned for a region — at linking or by a rotation from that — and
    /// a profile adopted from the region (the person unlinked, linked anew, or the
    /// fingerprint did not match): trust that came with a link ends with it.
    pub fn forget_region_keys(&self, region: &str) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute("DELETE FROM profile_keys WHERE region_id = ?1", [region])?;
            Ok(())
        })
    }

    /// Forgets the adopted profile (and its ETag): the embedded one is used again.
    pub fn forget_stored_profile(&self) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute("DELETE FROM region_profile", [])?;
            tx.execute("DELETE FROM settings WHERE key = 'profile_etag'", [])?;
            Ok(())
        })
    }

    /// Retires a key: a rotation replaced it, and it is never trusted again.
    pub fn retire_key(&self, region: &str, key: &PublicKey) -> Result<(), StorageError> {
        let now = super::now();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO profile_keys (region_id, key, origin, learned_at, retired_at)
                 VALUES (?1, ?2, 'rotation', ?3, ?3)
                 ON CONFLICT (region_id, key) DO UPDATE SET retired_at = excluded.retired_at",
                params![region, key.encode(), now],
            )?;
            Ok(())
        })
    }

    /// The keys learned for `region`, newest first (retired ones left out).
    pub fn learned_keys(&self, region: &str) -> Result<Vec<LearnedKey>, StorageError> {
        let rows: Vec<(String, String, String, Option<String>)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT region_id, key, origin, confirmed_at FROM profile_keys
                 WHERE region_id = ?1 AND retired_at IS NULL ORDER BY learned_at DESC",
            )?;
            let rows = stmt.query_map([region], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(region_id, key, origin, confirmed)| {
                let fingerprint = PublicKey::parse(&key).ok()?.fingerprint();
                Some(LearnedKey {
                    region_id,
                    key,
                    fingerprint,
                    origin,
                    confirmed: confirmed.is_some(),
                })
            })
            .collect())
    }

    /// Every trusted learned key, and every retired key.
    pub fn trusted_keys(&self) -> Result<(Vec<TrustedKey>, Vec<PublicKey>), StorageError> {
        let rows: Vec<(String, String, bool, bool)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT region_id, key, confirmed_at IS NOT NULL, retired_at IS NOT NULL
                 FROM profile_keys",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })?;
        let (mut trusted, mut retired) = (Vec::new(), Vec::new());
        for (region, key, confirmed, is_retired) in rows {
            let Ok(key) = PublicKey::parse(&key) else {
                continue;
            };
            if is_retired {
                retired.push(key);
            } else if confirmed {
                trusted.push(TrustedKey { region, key });
            }
        }
        Ok((trusted, retired))
    }

    /// Records numbers a newer profile changed (replacing an unseen notice for the same
    /// contact with the newest change).
    pub fn add_number_notices(&self, notices: &[NumberNotice]) -> Result<(), StorageError> {
        if notices.is_empty() {
            return Ok(());
        }
        let now = super::now();
        self.write(|tx| {
            for n in notices {
                tx.execute(
                    "INSERT INTO number_notices (contact_id, name, old_number, new_number, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (contact_id) DO UPDATE SET name = excluded.name,
                        old_number = CASE WHEN number_notices.seen_at IS NULL
                            THEN number_notices.old_number ELSE excluded.old_number END,
                        new_number = excluded.new_number, created_at = excluded.created_at,
                        seen_at = NULL",
                    params![n.contact_id, n.name, n.old_number, n.new_number, now],
                )?;
            }
            Ok(())
        })
    }

    /// The unseen notice for a contact, if any.
    pub fn number_notice(&self, contact_id: &str) -> Result<Option<NumberNotice>, StorageError> {
        use rusqlite::OptionalExtension;
        self.read(|c| {
            c.query_row(
                "SELECT contact_id, name, old_number, new_number FROM number_notices
                 WHERE contact_id = ?1 AND seen_at IS NULL",
                [contact_id],
                |r| {
                    Ok(NumberNotice {
                        contact_id: r.get(0)?,
                        name: r.get(1)?,
                        old_number: r.get(2)?,
                        new_number: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    /// The person has seen the notice for a contact.
    pub fn number_notice_seen(&self, contact_id: &str) -> Result<(), StorageError> {
        let now = super::now();
        self.write(|tx| {
            tx.execute(
                "UPDATE number_notices SET seen_at = ?2 WHERE contact_id = ?1 AND seen_at IS NULL",
                params![contact_id, now],
            )?;
            Ok(())
        })
    }
}
