//! The outbox: what sync still has to send. Entries are written in the same transaction as the
//! change that needs them (a report marked ready, a new revision, an attachment), and removed
//! in the same transaction that records the server's receipt, so a crash at any moment leaves
//! either "still to send" or "received", never neither.

use std::io::{Read, Seek, SeekFrom};

use rusqlite::{params, OptionalExtension, Transaction, MAIN_DB};
use serde::Serialize;
use uuid::Uuid;
use varn_core::incident::AttachmentInfo;
use varn_core::sync::{ItemKind, OutboxEntry};

use super::{Db, StorageError};

/// How many entries are waiting, for the badge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Entries still to send (reports and attachments).
    pub queued: u32,
    /// Reports with something still to send.
    pub reports: u32,
    /// Entries the server refused; they wait for the person.
    pub refused: u32,
}

/// Queues the report's current revision (again); clears an earlier refusal, since the content
/// changed. Part of the caller's transaction.
pub(crate) fn queue_report(
    tx: &Transaction<'_>,
    incident: &str,
    now: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO outbox (kind, incident_id, item_id, created_at) VALUES ('report', ?1, ?1, ?2)
         ON CONFLICT (kind, item_id) DO UPDATE SET failed = NULL",
        params![incident, now],
    )?;
    Ok(())
}

/// Queues every attachment of the report not yet uploaded. Part of the caller's transaction.
pub(crate) fn queue_attachments(
    tx: &Transaction<'_>,
    incident: &str,
    now: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO outbox (kind, incident_id, item_id, created_at)
         SELECT 'attachment', incident_id, id, ?2 FROM incident_attachments
         WHERE incident_id = ?1 AND uploaded_at IS NULL
         ORDER BY created_at, rowid
         ON CONFLICT (kind, item_id) DO NOTHING",
        params![incident, now],
    )?;
    Ok(())
}

/// After a change to a report that was already sent: a new revision, queued. Part of the
/// caller's transaction; does nothing to a draft.
pub(crate) fn new_revision_if_sent(
    tx: &Transaction<'_>,
    incident: &str,
    now: &str,
) -> rusqlite::Result<()> {
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM incidents WHERE id = ?1",
            [incident],
            |r| r.get(0),
        )
        .optional()?;
    if matches!(status.as_deref(), None | Some("draft")) {
        return Ok(());
    }
    tx.execute(
        "UPDATE incidents SET
            revision = CASE WHEN sent_revision = revision THEN revision + 1 ELSE revision END,
            status = CASE WHEN status IN ('sent', 'received') THEN 'ready' ELSE status END
         WHERE id = ?1",
        [incident],
    )?;
    queue_report(tx, incident, now)?;
    queue_attachments(tx, incident, now)
}

/// Sets a report's status from what is left in the outbox for it. Part of the caller's
/// transaction.
fn settle(tx: &Transaction<'_>, incident: &str) -> rusqlite::Result<()> {
    let left: i64 = tx.query_row(
        "SELECT count(*) FROM outbox WHERE incident_id = ?1",
        [incident],
        |r| r.get(0),
    )?;
    let all_received = left == 0;
    tx.execute(
        "UPDATE incidents SET status = CASE
            WHEN ?2 AND received_revision = revision THEN 'received'
            WHEN sent_revision IS NOT NULL AND sent_revision = revision THEN 'sent'
            ELSE status END
         WHERE id = ?1 AND status <> 'draft'",
        params![incident, all_received],
    )?;
    Ok(())
}

impl Db {
    /// Everything still to send, in queue order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT seq, kind, incident_id, item_id, attempts, failed FROM outbox ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u32>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter()
            .map(|(seq, kind, incident, item, attempts, failed)| {
                Ok(OutboxEntry {
                    seq,
                    kind: ItemKind::parse(&kind)
                        .ok_or_else(|| self.decode_err(format!("outbox kind {kind}")))?,
                    incident: Uuid::parse_str(&incident).map_err(|e| self.decode_err(e))?,
                    item: Uuid::parse_str(&item).map_err(|e| self.decode_err(e))?,
                    attempts,
                    failed,
                })
            })
            .collect()
    }

    /// The badge's numbers.
    pub fn queue_counts(&self) -> Result<QueueCounts, StorageError> {
        self.read(|c| {
            c.query_row(
                "SELECT count(*), count(DISTINCT incident_id), count(failed) FROM outbox",
                [],
                |r| {
                    Ok(QueueCounts {
                        queued: r.get(0)?,
                        reports: r.get(1)?,
                        refused: r.get(2)?,
                    })
                },
            )
        })
    }

    /// An attempt failed for a reason on the way (network, server busy): the entry stays, and
    /// every report waiting in the outbox shows "i kö".
    pub fn outbox_attempt_failed(&self, seq: i64) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?1",
                [seq],
            )?;
            tx.execute(
                "UPDATE incidents SET status = 'queued'
                 WHERE status = 'ready' AND id IN (SELECT incident_id FROM outbox)",
                [],
            )?;
            Ok(())
        })
    }

    /// The server refused the entry for good; it waits for the person (an edit or "Skicka nu").
    pub fn outbox_refused(&self, seq: i64, why: &str) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, failed = ?2 WHERE seq = ?1",
                params![seq, why],
            )?;
            tx.execute(
                "UPDATE incidents SET status = 'queued'
                 WHERE status = 'ready' AND id = (SELECT incident_id FROM outbox WHERE seq = ?1)",
                [seq],
            )?;
            Ok(())
        })
    }

    /// "Skicka nu": refused entries get another try.
    pub fn outbox_retry_refused(&self) -> Result<usize, StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET failed = NULL WHERE failed IS NOT NULL",
                [],
            )
        })
    }

    /// The server has revision `revision` of the report (its receipt says when). If the report
    /// changed while it was on the way (`sent_body` and `sent_attachments` are what went), the
    /// change becomes the next revision and stays queued; else the report's entry is done.
    pub fn report_received(
        &self,
        id: Uuid,
        revision: u32,
        sent_body: &str,
        sent_attachments: &[Uuid],
        received_at: &str,
    ) -> Result<(), StorageError> {
        let id_s = id.to_string();
        self.write(|tx| {
            let Some((body, current)): Option<(String, u32)> = tx
                .query_row(
                    "SELECT body, revision FROM incidents WHERE id = ?1",
                    [&id_s],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
            else {
                // Deleted meanwhile: nothing to record.
                tx.execute("DELETE FROM outbox WHERE incident_id = ?1", [&id_s])?;
                return Ok(());
            };
            let mut stmt = tx.prepare(
                "SELECT id FROM incident_attachments WHERE incident_id = ?1 ORDER BY created_at, rowid",
            )?;
            let now_attachments = stmt
                .query_map([&id_s], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(stmt);
            let sent: Vec<String> = sent_attachments.iter().map(Uuid::to_string).collect();
            tx.execute(
                "UPDATE incidents SET sent_revision = ?2,
                    received_revision = max(coalesce(received_revision, 0), ?2),
                    received_at = ?3
                 WHERE id = ?1",
                params![id_s, revision, received_at],
            )?;
            let unchanged = body == sent_body && now_attachments == sent && current == revision;
            if unchanged {
                tx.execute(
                    "DELETE FROM outbox WHERE kind = 'report' AND item_id = ?1",
                    [&id_s],
                )?;
            } else {
                tx.execute(
                    "UPDATE incidents SET revision = max(revision, ?2 + 1) WHERE id = ?1",
                    params![id_s, revision],
                )?;
            }
            settle(tx, &id_s)
        })
    }

    /// The server already holds revision numbers up to `current` with other content (an answer
    /// was lost): the report's content goes as the next free revision.
    pub fn report_revision_taken(&self, id: Uuid, current: u32) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE incidents SET revision = max(revision, ?2 + 1) WHERE id = ?1",
                params![id.to_string(), current],
            )?;
            Ok(())
        })
    }

    /// The server has all of the attachment and its checksum matched.
    pub fn attachment_received(
        &self,
        incident: Uuid,
        attachment: Uuid,
        at: &str,
    ) -> Result<(), StorageError> {
        let incident = incident.to_string();
        self.write(|tx| {
            tx.execute(
                "UPDATE incident_attachments SET uploaded_at = ?2 WHERE id = ?1",
                params![attachment.to_string(), at],
            )?;
            tx.execute(
                "DELETE FROM outbox WHERE kind = 'attachment' AND item_id = ?1",
                [attachment.to_string()],
            )?;
            settle(tx, &incident)
        })
    }

    /// An attachment's metadata (for announcing it to the server).
    pub fn attachment_info(&self, id: Uuid) -> Result<Option<AttachmentInfo>, StorageError> {
        self.read(|c| {
            c.query_row(
                "SELECT filename, content_type, size, sha256 FROM incident_attachments WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok(AttachmentInfo {
                        id,
                        filename: r.get(0)?,
                        content_type: r.get(1)?,
                        size: r.get::<_, i64>(2)? as u64,
                        sha256: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Reads `len` bytes of an attachment from `offset` (fewer at the end).
    pub fn attachment_chunk(
        &self,
        id: Uuid,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, StorageError> {
        let conn = self.lock();
        let path = self.path.clone();
        let sql = |e: rusqlite::Error| StorageError::from_sqlite(&path, e);
        let rowid: i64 = conn
            .query_row(
                "SELECT rowid FROM attachment_data WHERE attachment_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?
            .ok_or_else(|| self.decode_err(format!("no attachment {id}")))?;
        let mut blob = conn
            .blob_open(MAIN_DB, c"attachment_data", c"data", rowid, true)
            .map_err(sql)?;
        let io = |e: std::io::Error| self.decode_err(e);
        blob.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut out = Vec::with_capacity(len);
        blob.take(len as u64).read_to_end(&mut out).map_err(io)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use varn_core::incident::{Incident, Status};

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_keyed(&dir.path().join("varn.db"), Some(&[5u8; 32])).unwrap();
        (dir, db)
    }

    fn report(db: &Db, text: &str, files: usize) -> (Uuid, Vec<Uuid>) {
        let id = Uuid::now_v7();
        let inc = Incident {
            during: text.into(),
            ..Default::default()
        };
        db.create_incident(id, &inc).unwrap();
        let files = (0..files)
            .map(|i| {
                let bytes = vec![i as u8; 1000 + i];
                db.add_attachment(
                    id,
                    "f.bin",
                    "application/octet-stream",
                    bytes.len() as u64,
                    &bytes[..],
                )
                .unwrap()
                .id
            })
            .collect();
        (id, files)
    }

    fn body(db: &Db, id: Uuid) -> String {
        serde_json::to_string(&db.incident(id).unwrap().unwrap().incident).unwrap()
    }

    #[test]
    fn drafts_stay_out_and_marking_ready_queues_the_report_before_its_attachments() {
        let (_d, db) = db();
        let (id, files) = report(&db, "hot", 2);
        assert!(db.outbox().unwrap().is_empty(), "a draft is not sent");
        db.mark_incident_ready(id).unwrap();
        let q = db.outbox().unwrap();
        let kinds: Vec<_> = q.iter().map(|e| (e.kind, e.item)).collect();
        assert_eq!(
            kinds,
            vec![
                (ItemKind::Report, id),
                (ItemKind::Attachment, files[0]),
                (ItemKind::Attachment, files[1])
            ]
        );
        assert_eq!(
            db.queue_counts().unwrap(),
            QueueCounts {
                queued: 3,
                reports: 1,
                refused: 0
            }
        );
        // Marking again does not queue twice.
        db.mark_incident_ready(id).unwrap();
        assert_eq!(db.outbox().unwrap().len(), 3);
    }

    #[test]
    fn a_report_is_received_once_its_revision_and_every_attachment_are() {
        let (_d, db) = db();
        let (id, files) = report(&db, "hot", 1);
        db.mark_incident_ready(id).unwrap();
        db.outbox_attempt_failed(db.outbox().unwrap()[0].seq)
            .unwrap();
        assert_eq!(db.incident(id).unwrap().unwrap().status, Status::Queued);
        db.report_received(id, 1, &body(&db, id), &files, "2026-11-24T12:00:00.000Z")
            .unwrap();
        let row = db.incident(id).unwrap().unwrap();
        assert_eq!((row.status, row.sent_revision), (Status::Sent, Some(1)));
        db.attachment_received(id, files[0], "2026-11-24T12:00:01.000Z")
            .unwrap();
        let row = db.incident(id).unwrap().unwrap();
        assert_eq!(row.status, Status::Received);
        assert_eq!(row.received_at.as_deref(), Some("2026-11-24T12:00:00.000Z"));
        assert!(db.outbox().unwrap().is_empty());
    }

    #[test]
    fn an_edit_while_the_report_is_on_the_way_goes_as_the_next_revision() {
        let (_d, db) = db();
        let (id, _) = report(&db, "första", 0);
        db.mark_incident_ready(id).unwrap();
        let sent = body(&db, id);
        // The person edits while revision 1 is on the way (its answer not yet in).
        db.save_incident(
            id,
            &Incident {
                during: "andra".into(),
                ..Default::default()
            },
        )
        .unwrap();
        db.report_received(id, 1, &sent, &[], "2026-11-24T12:00:00.000Z")
            .unwrap();
        let row = db.incident(id).unwrap().unwrap();
        assert_eq!((row.revision, row.sent_revision), (2, Some(1)));
        assert_ne!(row.status, Status::Received);
        assert_eq!(db.outbox().unwrap().len(), 1, "the edit is still to send");
        // An attachment added after it was received makes a new revision too.
        db.report_received(id, 2, &body(&db, id), &[], "2026-11-24T12:00:02.000Z")
            .unwrap();
        assert_eq!(db.incident(id).unwrap().unwrap().status, Status::Received);
        db.add_attachment(id, "sen.png", "image/png", 3, &b"abc"[..])
            .unwrap();
        let row = db.incident(id).unwrap().unwrap();
        assert_eq!((row.revision, row.status), (3, Status::Ready));
        assert_eq!(db.outbox().unwrap().len(), 2);
    }

    #[test]
    fn a_refusal_stops_one_entry_until_an_edit_or_a_retry() {
        let (_d, db) = db();
        let (a, _) = report(&db, "a", 0);
        let (b, _) = report(&db, "b", 0);
        db.mark_incident_ready(a).unwrap();
        db.mark_incident_ready(b).unwrap();
        let seq = db.outbox().unwrap()[0].seq;
        db.outbox_refused(seq, "id tillhör en annan enhet").unwrap();
        assert_eq!(
            db.incident(a).unwrap().unwrap().refusal.as_deref(),
            Some("id tillhör en annan enhet")
        );
        assert_eq!(db.incident(b).unwrap().unwrap().refusal, None);
        assert_eq!(db.queue_counts().unwrap().refused, 1);
        let next = varn_core::sync::next(&db.outbox().unwrap(), None, chrono::Utc::now());
        assert!(matches!(next, varn_core::sync::Next::Send(e) if e.incident == b));
        assert_eq!(db.outbox_retry_refused().unwrap(), 1);
        assert_eq!(db.incident(a).unwrap().unwrap().refusal, None);
        db.outbox_refused(seq, "nej").unwrap();
        db.save_incident(
            a,
            &Incident {
                during: "a, rättad".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            db.incident(a).unwrap().unwrap().refusal,
            None,
            "an edit gives it another try"
        );
    }

    #[test]
    fn deleting_a_report_empties_its_outbox_entries_and_chunks_read_back() {
        let (_d, db) = db();
        let (id, files) = report(&db, "x", 1);
        db.mark_incident_ready(id).unwrap();
        let whole = {
            let mut v = Vec::new();
            db.read_attachment(files[0], &mut v).unwrap();
            v
        };
        let mut joined = Vec::new();
        let mut off = 0;
        loop {
            let c = db.attachment_chunk(files[0], off, 300).unwrap();
            if c.is_empty() {
                break;
            }
            off += c.len() as u64;
            joined.extend(c);
        }
        assert_eq!(joined, whole);
        db.delete_incident(id).unwrap();
        assert!(db.outbox().unwrap().is_empty());
    }
}
