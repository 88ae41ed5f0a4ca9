//! Incident reports and their attachments. Attachments are copied into the (encrypted)
//! database as they are read, with their SHA-256, so the original file is not needed afterwards;
//! a copy that fails half-way leaves nothing behind.

use std::io::{Read, Write};

use rusqlite::{params, OptionalExtension, Row, Transaction, MAIN_DB};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use varn_core::incident::{AttachmentInfo, Incident, Status};
use varn_core::wire::{Followup, FollowupState};

use super::{outbox, Db, StorageError};

/// Largest attachment accepted (the server's limit too).
pub const MAX_ATTACHMENT_BYTES: u64 = varn_core::wire::MAX_ATTACHMENT_BYTES;
const CHUNK: usize = 64 * 1024;

/// A report as stored, with where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentRow {
    /// The report's id (client-generated UUIDv7).
    pub id: Uuid,
    /// The content.
    pub incident: Incident,
    /// Where it stands.
    pub status: Status,
    /// The current revision; an edit after sending makes a new one.
    pub revision: u32,
    /// The newest revision sent to the region, if any.
    pub sent_revision: Option<u32>,
    /// The newest revision the region has confirmed, if any.
    pub received_revision: Option<u32>,
    /// When the region confirmed it.
    pub received_at: Option<String>,
    /// When it was created (UTC).
    pub created_at: String,
    /// When it was last saved (UTC); the UI shows "Sparat" with this.
    pub updated_at: String,
    /// Its attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// Why the region refused something of it, if it did (the person must act).
    pub refusal: Option<String>,
    /// How the region follows it up, once an officer has taken it.
    pub followup: Option<Followup>,
}

/// Why an attachment could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The file could not be read.
    #[error("the file could not be read: {0}")]
    Unreadable(String),
    /// The file changed size while it was copied.
    #[error("the file changed while it was copied (expected {expected} bytes, got {got}); nothing was saved, try again")]
    Changed {
        /// Size when the copy started.
        expected: u64,
        /// Bytes read.
        got: u64,
    },
    /// The file is too large.
    #[error("the file has {0} bytes; at most {MAX_ATTACHMENT_BYTES} are accepted")]
    TooLarge(u64),
    /// The report does not exist.
    #[error("no such report")]
    NoReport,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

const COLS: &str = "id, body, status, revision, sent_revision, received_revision, received_at, created_at, updated_at, followup";

struct Raw {
    id: String,
    body: String,
    status: String,
    revision: u32,
    sent_revision: Option<u32>,
    received_revision: Option<u32>,
    received_at: Option<String>,
    created_at: String,
    updated_at: String,
    followup: Option<String>,
}

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok(Raw {
        id: r.get(0)?,
        body: r.get(1)?,
        status: r.get(2)?,
        revision: r.get(3)?,
        sent_revision: r.get(4)?,
        received_revision: r.get(5)?,
        received_at: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        followup: r.get(9)?,
    })
}

fn refusal(c: &rusqlite::Connection, incident: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT failed FROM outbox WHERE incident_id = ?1 AND failed IS NOT NULL ORDER BY seq LIMIT 1",
        [incident],
        |r| r.get(0),
    )
    .optional()
}

fn attachment_infos(
    c: &rusqlite::Connection,
    incident: &str,
) -> rusqlite::Result<Vec<AttachmentInfo>> {
    let mut stmt = c.prepare(
        "SELECT id, filename, content_type, size, sha256 FROM incident_attachments
         WHERE incident_id = ?1 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([incident], |r| {
        let id: String = r.get(0)?;
        Ok(AttachmentInfo {
            id: Uuid::parse_str(&id).unwrap_or_default(),
            filename: r.get(1)?,
            content_type: r.get(2)?,
            size: r.get::<_, i64>(3)? as u64,
            sha256: r.get(4)?,
        })
    })?;
    rows.collect()
}

impl Db {
    fn decode_incident(
        &self,
        r: Raw,
        attachments: Vec<AttachmentInfo>,
        refusal: Option<String>,
    ) -> Result<IncidentRow, StorageError> {
        Ok(IncidentRow {
            id: Uuid::parse_str(&r.id).map_err(|e| self.decode_err(e))?,
            incident: serde_json::from_str(&r.body).map_err(|e| self.decode_err(e))?,
            status: Status::parse(&r.status)
                .ok_or_else(|| self.decode_err(format!("status {}", r.status)))?,
            revision: r.revision,
            sent_revision: r.sent_revision,
            received_revision: r.received_revision,
            received_at: r.received_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            attachments,
            refusal,
            // A follow-up this build cannot read is left out rather than hiding the report.
            followup: r.followup.and_then(|f| serde_json::from_str(&f).ok()),
        })
    }

    /// Creates a report (a draft).
    pub fn create_incident(
        &self,
        id: Uuid,
        incident: &Incident,
    ) -> Result<IncidentRow, StorageError> {
        let body = serde_json::to_string(incident).map_err(|e| self.decode_err(e))?;
        let now = super::now();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO incidents (id, body, status, revision, created_at, updated_at)
                 VALUES (?1, ?2, 'draft', 1, ?3, ?3)",
                params![id.to_string(), body, now],
            )?;
            Ok(())
        })?;
        self.incident(id)?
            .ok_or_else(|| self.decode_err("the new report vanished"))
    }

    /// Saves an edit durably. An edit to a report whose current revision was already sent
    /// starts a new revision (which is sent too); nothing received is overwritten.
    pub fn save_incident(
        &self,
        id: Uuid,
        incident: &Incident,
    ) -> Result<Option<IncidentRow>, StorageError> {
        let body = serde_json::to_string(incident).map_err(|e| self.decode_err(e))?;
        let now = super::now();
        let changed = self.write(|tx| {
            let changed = tx.execute(
                "UPDATE incidents SET body = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.to_string(), body, now],
            )? > 0;
            outbox::new_revision_if_sent(tx, &id.to_string(), &now)?;
            Ok(changed)
        })?;
        if changed {
            self.incident(id)
        } else {
            Ok(None)
        }
    }

    /// Marks a draft as ready to send: it and its attachments go into the outbox in the same
    /// transaction.
    pub fn mark_incident_ready(&self, id: Uuid) -> Result<Option<IncidentRow>, StorageError> {
        let now = super::now();
        let id_s = id.to_string();
        self.write(|tx| {
            let marked = tx.execute(
                "UPDATE incidents SET status = 'ready', updated_at = ?2 WHERE id = ?1 AND status = 'draft'",
                params![id_s, now],
            )? > 0;
            if marked {
                outbox::queue_report(tx, &id_s, &now)?;
                outbox::queue_attachments(tx, &id_s, &now)?;
            }
            Ok(())
        })?;
        self.incident(id)
    }

    /// One report with its attachments.
    pub fn incident(&self, id: Uuid) -> Result<Option<IncidentRow>, StorageError> {
        let found = self.read(|c| {
            let r = c
                .query_row(
                    &format!("SELECT {COLS} FROM incidents WHERE id = ?1"),
                    [id.to_string()],
                    raw,
                )
                .optional()?;
            match r {
                Some(r) => {
                    let a = attachment_infos(c, &r.id)?;
                    let f = refusal(c, &r.id)?;
                    Ok(Some((r, a, f)))
                }
                None => Ok(None),
            }
        })?;
        found
            .map(|(r, a, f)| self.decode_incident(r, a, f))
            .transpose()
    }

    /// Reports the region has received whose follow-up is not closed: their receipts are
    /// fetched again to see what the region has done.
    pub fn awaiting_followup(&self) -> Result<Vec<Uuid>, StorageError> {
        let ids = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id FROM incidents WHERE received_revision IS NOT NULL
                   AND (followup IS NULL OR json_extract(followup, '$.state') != ?1)
                 ORDER BY created_at DESC LIMIT 100",
            )?;
            let rows =
                stmt.query_map([FollowupState::Closed.as_str()], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
    }

    /// Records the region's follow-up of a report; true when it changed.
    pub fn set_followup(&self, id: Uuid, followup: &Followup) -> Result<bool, StorageError> {
        let json = serde_json::to_string(followup).map_err(|e| self.decode_err(e))?;
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE incidents SET followup = ?2 WHERE id = ?1 AND followup IS NOT ?2",
                params![id.to_string(), json],
            )? > 0)
        })
    }

    /// Removes the reports whose follow-up the region closed at least `days` days before
    /// `now`, with their attachments (the person chose so in Inställningar); returns how many.
    pub fn remove_closed_reports(
        &self,
        days: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, StorageError> {
        let closed: Vec<(String, String)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, followup FROM incidents WHERE json_extract(followup, '$.state') = ?1",
            )?;
            let rows = stmt.query_map([FollowupState::Closed.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let mut removed = 0;
        for (id, json) in closed {
            let Ok(f) = serde_json::from_str::<Followup>(&json) else {
                continue;
            };
            let Ok(id) = Uuid::parse_str(&id) else {
                continue;
            };
            if varn_core::incident::closed_report_expired(f.at, now, days)
                && self.delete_incident(id)?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// All reports, newest first.
    pub fn incidents(&self) -> Result<Vec<IncidentRow>, StorageError> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM incidents ORDER BY created_at DESC"
            ))?;
            let rows = stmt
                .query_map([], raw)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let a = attachment_infos(c, &r.id)?;
                let f = refusal(c, &r.id)?;
                out.push((r, a, f));
            }
            Ok(out)
        })?;
        rows.into_iter()
            .map(|(r, a, f)| self.decode_incident(r, a, f))
            .collect()
    }

    /// Deletes a report and its attachments for good: `secure_delete` overwrites the freed
    /// pages, and the WAL is checkpointed and truncated so no old copy lingers there.
    pub fn delete_incident(&self, id: Uuid) -> Result<bool, StorageError> {
        let gone = self.write(|tx| {
            tx.execute(
                "DELETE FROM outbox WHERE incident_id = ?1",
                [id.to_string()],
            )?;
            tx.execute(
                "DELETE FROM incident_attachments WHERE incident_id = ?1",
                [id.to_string()],
            )?;
            Ok(tx.execute("DELETE FROM incidents WHERE id = ?1", [id.to_string()])? > 0)
        })?;
        self.checkpoint()?;
        Ok(gone)
    }

    /// Removes drafts nobody has written in (`id`, or every one): a draft as it was created,
    /// never saved since, with no attachment and nothing sent. Backing out of *Ny händelse*
    /// leaves nothing behind. Returns how many went.
    pub fn discard_untouched_drafts(&self, id: Option<Uuid>) -> Result<usize, StorageError> {
        let id = id.map(|i| i.to_string());
        self.write(|tx| {
            tx.execute(
                "DELETE FROM incidents
                 WHERE (?1 IS NULL OR id = ?1) AND status = 'draft' AND updated_at = created_at
                   AND sent_revision IS NULL
                   AND NOT EXISTS (SELECT 1 FROM incident_attachments a WHERE a.incident_id = incidents.id)
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = incidents.id)",
                params![id],
            )
        })
    }

    /// Deletes one attachment for good.
    pub fn delete_attachment(&self, incident: Uuid, id: Uuid) -> Result<bool, StorageError> {
        let gone = self.write(|tx| {
            tx.execute(
                "DELETE FROM outbox WHERE kind = 'attachment' AND item_id = ?1 AND incident_id = ?2",
                [id.to_string(), incident.to_string()],
            )?;
            tx.execute(
                "DELETE FROM attachment_data WHERE attachment_id =
                    (SELECT id FROM incident_attachments WHERE id = ?1 AND incident_id = ?2)",
                [id.to_string(), incident.to_string()],
            )?;
            let gone = tx.execute(
                "DELETE FROM incident_attachments WHERE id = ?1 AND incident_id = ?2",
                [id.to_string(), incident.to_string()],
            )? > 0;
            if gone {
                outbox::new_revision_if_sent(tx, &incident.to_string(), &super::now())?;
            }
            Ok(gone)
        })?;
        self.checkpoint()?;
        Ok(gone)
    }

    fn checkpoint(&self) -> Result<(), StorageError> {
        self.read(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())))
    }

    /// Copies an attachment into the database while reading it, with its SHA-256. `size` is the
    /// size the file had when the copy started; a file that grows, shrinks or fails on the way
    /// leaves nothing behind.
    pub fn add_attachment(
        &self,
        incident: Uuid,
        filename: &str,
        content_type: &str,
        size: u64,
        mut reader: impl Read,
    ) -> Result<AttachmentInfo, AttachError> {
        if size > MAX_ATTACHMENT_BYTES {
            return Err(AttachError::TooLarge(size));
        }
        let id = Uuid::now_v7();
        let now = super::now();
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| AttachError::Storage(StorageError::from_sqlite(&path, e));
        let mut conn = self.lock();
        let tx: Transaction<'_> = conn.transaction().map_err(sql)?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM incidents WHERE id = ?1",
                [incident.to_string()],
                |_| Ok(true),
            )
            .optional()
            .map_err(sql)?
            .unwrap_or(false);
        if !exists {
            return Err(AttachError::NoReport);
        }
        tx.execute(
            "INSERT INTO incident_attachments (id, incident_id, filename, content_type, size, sha256, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)",
            params![id.to_string(), incident.to_string(), filename, content_type, size as i64, now],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO attachment_data (attachment_id, data) VALUES (?1, zeroblob(?2))",
            params![id.to_string(), size as i64],
        )
        .map_err(sql)?;
        let rowid = tx.last_insert_rowid();
        let mut hasher = Sha256::new();
        {
            let mut blob = tx
                .blob_open(MAIN_DB, c"attachment_data", c"data", rowid, false)
                .map_err(sql)?;
            let mut buf = vec![0u8; CHUNK];
            let mut total: u64 = 0;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(AttachError::Unreadable(e.to_string())),
                };
                if total + n as u64 > size {
                    return Err(AttachError::Changed {
                        expected: size,
                        got: total + n as u64,
                    });
                }
                hasher.update(&buf[..n]);
                blob.write_all(&buf[..n])
                    .map_err(|e| AttachError::Unreadable(e.to_string()))?;
                total += n as u64;
            }
            if total != size {
                return Err(AttachError::Changed {
                    expected: size,
                    got: total,
                });
            }
        }
        let sha256 = hex::encode(hasher.finalize());
        tx.execute(
            "UPDATE incident_attachments SET sha256 = ?1 WHERE id = ?2",
            params![sha256, id.to_string()],
        )
        .map_err(sql)?;
        tx.execute(
            "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
            params![incident.to_string(), now],
        )
        .map_err(sql)?;
        outbox::new_revision_if_sent(&tx, &incident.to_string(), &now).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(AttachmentInfo {
            id,
            filename: filename.to_string(),
            content_type: content_type.to_string(),
            size,
            sha256,
        })
    }

    /// Streams an attachment's bytes to `out`; returns its metadata.
    pub fn read_attachment(
        &self,
        id: Uuid,
        mut out: impl Write,
    ) -> Result<AttachmentInfo, StorageError> {
        let conn = self.lock();
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| StorageError::from_sqlite(&path, e);
        let row: Option<(i64, String, String, String, i64, String)> = conn
            .query_row(
                "SELECT d.rowid, a.id, a.filename, a.content_type, a.size, a.sha256
                 FROM incident_attachments a JOIN attachment_data d ON d.attachment_id = a.id WHERE a.id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()
            .map_err(sql)?;
        let (rowid, _, filename, content_type, size, sha256) =
            row.ok_or_else(|| StorageError::Decode {
                path: self.path.clone(),
                detail: format!("no attachment {id}"),
            })?;
        let mut blob = conn
            .blob_open(MAIN_DB, c"attachment_data", c"data", rowid, true)
            .map_err(sql)?;
        std::io::copy(&mut blob, &mut out).map_err(|e| StorageError::Other {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        Ok(AttachmentInfo {
            id,
            filename,
            content_type,
            size: size as u64,
            sha256,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use varn_core::wire::IncidentKind;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_keyed(&dir.path().join("varn.db"), Some(&[3u8; 32])).unwrap();
        (dir, db)
    }

    fn draft(text: &str) -> Incident {
        Incident {
            kind: Some(IncidentKind::Letter),
            during: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn reports_are_created_edited_marked_ready_and_listed() {
        let (_d, db) = db();
        let id = Uuid::now_v7();
        let row = db.create_incident(id, &draft("ett brev")).unwrap();
        assert_eq!((row.status, row.revision), (Status::Draft, 1));
        let row = db
            .save_incident(id, &draft("ett hotfullt brev"))
            .unwrap()
            .unwrap();
        assert_eq!(row.incident.during, "ett hotfullt brev");
        assert_eq!(row.revision, 1, "edits of a draft stay in its revision");
        let row = db.mark_incident_ready(id).unwrap().unwrap();
        assert_eq!(row.status, Status::Ready);
        assert_eq!(db.incidents().unwrap().len(), 1);
        assert!(db
            .save_incident(Uuid::now_v7(), &draft("x"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn an_edit_after_sending_starts_a_new_revision() {
        let (_d, db) = db();
        let id = Uuid::now_v7();
        db.create_incident(id, &draft("v1")).unwrap();
        db.mark_incident_ready(id).unwrap();
        // The sync sends revision 1 and the server confirms it.
        let sent = db.incident(id).unwrap().unwrap();
        let body = serde_json::to_string(&sent.incident).unwrap();
        db.report_received(id, 1, &body, &[], "2026-11-24T12:00:00.000Z")
            .unwrap();
        let row = db.incident(id).unwrap().unwrap();
        assert_eq!(row.status, Status::Received);
        assert!(db.outbox().unwrap().is_empty());
        let row2 = db.save_incident(id, &draft("v2")).unwrap().unwrap();
        let row = row2;
        assert_eq!(
            (row.revision, row.status, row.received_revision),
            (2, Status::Ready, Some(1))
        );
        assert_eq!(db.outbox().unwrap().len(), 1, "the new revision is queued");
        let row = db.save_incident(id, &draft("v2, rättad")).unwrap().unwrap();
        assert_eq!(row.revision, 2, "one new revision per round of edits");
    }

    #[test]
    fn attachments_are_copied_with_their_checksum_and_deleted_for_good() {
        let (dir, db) = db();
        let id = Uuid::now_v7();
        db.create_incident(id, &draft("se bilaga")).unwrap();
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let info = db
            .add_attachment(id, "foto.jpg", "image/jpeg", bytes.len() as u64, &bytes[..])
            .unwrap();
        assert_eq!(info.sha256, hex::encode(Sha256::digest(&bytes)));
        let mut back = Vec::new();
        db.read_attachment(info.id, &mut back).unwrap();
        assert_eq!(back, bytes);
        let empty = db
            .add_attachment(id, "tom.txt", "text/plain", 0, &b""[..])
            .unwrap();
        assert_eq!(empty.sha256, hex::encode(Sha256::digest(b"")));
        assert_eq!(db.incident(id).unwrap().unwrap().attachments.len(), 2);
        assert!(db.delete_incident(id).unwrap());
        assert!(db.incident(id).unwrap().is_none());
        let rows: i64 = db
            .read(|c| {
                c.query_row("SELECT (SELECT count(*) FROM incident_attachments) + (SELECT count(*) FROM attachment_data)", [], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert_eq!(rows, 0);
        let wal = std::fs::metadata(dir.path().join("varn.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
        assert_eq!(wal, 0, "the WAL was truncated");
    }

    /// A reader that fails half-way, as a file that disappears while being copied does.
    struct Vanishing(usize);
    impl Read for Vanishing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the file is gone",
                ));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_failed_copy_leaves_nothing_behind() {
        let (_d, db) = db();
        let id = Uuid::now_v7();
        db.create_incident(id, &draft("x")).unwrap();
        assert!(matches!(
            db.add_attachment(id, "a", "b", 1_000_000, Vanishing(200_000)),
            Err(AttachError::Unreadable(_))
        ));
        assert!(matches!(
            db.add_attachment(id, "a", "b", 10, &[0u8; 5][..]),
            Err(AttachError::Changed {
                expected: 10,
                got: 5
            })
        ));
        assert!(matches!(
            db.add_attachment(id, "a", "b", 3, &[0u8; 5][..]),
            Err(AttachError::Changed { .. })
        ));
        assert!(matches!(
            db.add_attachment(id, "a", "b", MAX_ATTACHMENT_BYTES + 1, &b""[..]),
            Err(AttachError::TooLarge(_))
        ));
        assert!(matches!(
            db.add_attachment(Uuid::now_v7(), "a", "b", 1, &[0u8][..]),
            Err(AttachError::NoReport)
        ));
        assert!(db.incident(id).unwrap().unwrap().attachments.is_empty());
    }

    /// A draft nobody wrote in goes; one with a word, or an attachment, stays.
    #[test]
    fn closed_reports_are_removed_after_the_chosen_days_with_their_attachments() {
        use varn_core::wire::Followup;
        let (_dir, db) = db();
        let at = |days: i64| chrono::Utc::now() - chrono::Duration::days(days);
        let mut ids = Vec::new();
        for (state, days) in [
            (FollowupState::Closed, 40),
            (FollowupState::Closed, 10),
            (FollowupState::Taken, 400),
        ] {
            let id = Uuid::now_v7();
            db.create_incident(id, &draft("hot")).unwrap();
            db.add_attachment(id, "a.png", "image/png", 3, &b"abc"[..])
                .unwrap();
            let f = Followup {
                state,
                by: Some("Hanna".into()),
                message: String::new(),
                at: at(days),
            };
            assert!(db.set_followup(id, &f).unwrap());
            assert!(
                !db.set_followup(id, &f).unwrap(),
                "the same follow-up again is no change"
            );
            ids.push(id);
        }
        assert_eq!(db.remove_closed_reports(30, chrono::Utc::now()).unwrap(), 1);
        assert!(db.incident(ids[0]).unwrap().is_none(), "closed 40 days ago");
        assert!(db.incident(ids[1]).unwrap().is_some(), "closed 10 days ago");
        assert!(db.incident(ids[2]).unwrap().is_some(), "never closed");
        let left: i64 = db
            .read(|c| {
                c.query_row("SELECT COUNT(*) FROM incident_attachments", [], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert_eq!(left, 2, "the removed report's attachment went with it");
    }

    #[test]
    fn only_untouched_drafts_are_discarded() {
        let (_dir, db) = db();
        let empty = db
            .create_incident(Uuid::now_v7(), &Incident::default())
            .unwrap()
            .id;
        let written = db
            .create_incident(Uuid::now_v7(), &Incident::default())
            .unwrap()
            .id;
        std::thread::sleep(std::time::Duration::from_millis(5));
        db.save_incident(written, &draft("Han skrek.")).unwrap();
        let attached = db
            .create_incident(Uuid::now_v7(), &Incident::default())
            .unwrap()
            .id;
        db.add_attachment(attached, "a.txt", "text/plain", 1, &b"x"[..])
            .unwrap();
        assert_eq!(db.discard_untouched_drafts(Some(written)).unwrap(), 0);
        assert_eq!(db.discard_untouched_drafts(Some(empty)).unwrap(), 1);
        assert_eq!(db.discard_untouched_drafts(None).unwrap(), 0);
        assert!(db.incident(written).unwrap().is_some());
        assert!(db.incident(attached).unwrap().is_some());
        assert!(db.incident(empty).unwrap().is_none());
    }
}
