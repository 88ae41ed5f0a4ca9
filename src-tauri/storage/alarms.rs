//! The app's alarms: written durably before anything is sent, updated with every receipt.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use uuid::Uuid;
use varn_core::alarm::{Blocked, LocalAlarm, PendingMessage};

use super::{Db, StorageError};

const COLS: &str =
    "id, triggered_at, meeting, place, receipt, cancel_requested_at, blocked, revision, drill, acknowledged_seen_at, stored_at, duress, silent";

/// A row as stored, before decoding.
struct Raw {
    id: String,
    triggered: String,
    meeting: String,
    place: String,
    receipt: Option<String>,
    cancel: Option<String>,
    blocked: Option<String>,
    revision: i64,
    drill: bool,
    seen: Option<String>,
    stored: Option<String>,
    duress: bool,
    silent: bool,
}

fn row(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok(Raw {
        id: r.get(0)?,
        triggered: r.get(1)?,
        meeting: r.get(2)?,
        place: r.get(3)?,
        receipt: r.get(4)?,
        cancel: r.get(5)?,
        blocked: r.get(6)?,
        revision: r.get(7)?,
        drill: r.get(8)?,
        seen: r.get(9)?,
        stored: r.get(10)?,
        duress: r.get(11)?,
        silent: r.get(12)?,
    })
}

impl Db {
    fn decode_alarm(&self, raw: Raw) -> Result<LocalAlarm, StorageError> {
        let Raw {
            id,
            triggered,
            meeting,
            place,
            receipt,
            cancel,
            blocked,
            revision,
            drill,
            seen,
            stored,
            duress,
            silent,
        } = raw;
        let time = |s: &str| -> Result<DateTime<Utc>, StorageError> {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| self.decode_err(e))
        };
        Ok(LocalAlarm {
            id: Uuid::parse_str(&id).map_err(|e| self.decode_err(e))?,
            triggered_at: time(&triggered)?,
            meeting,
            place,
            receipt: receipt
                .map(|r| serde_json::from_str(&r))
                .transpose()
                .map_err(|e| self.decode_err(e))?,
            cancel_requested_at: cancel.as_deref().map(time).transpose()?,
            blocked: blocked
                .map(|b| {
                    Blocked::parse(&b).ok_or_else(|| self.decode_err(format!("unknown block {b}")))
                })
                .transpose()?,
            revision,
            drill,
            acknowledged_seen_at: seen.as_deref().map(time).transpose()?,
            stored_at: stored.as_deref().map(time).transpose()?,
            duress,
            silent,
            pending_messages: self.pending_messages(&id)?,
        })
    }

    /// What the person wrote on an alarm that has neither reached the region nor been
    /// refused by it, oldest first.
    fn pending_messages(&self, alarm: &str) -> Result<Vec<PendingMessage>, StorageError> {
        let rows: Vec<(String, String, String)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, text, created_at FROM alarm_messages
                 WHERE alarm_id = ?1 AND sent_at IS NULL AND refused IS NULL
                 ORDER BY created_at, rowid",
            )?;
            let rows = stmt.query_map([alarm], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter()
            .map(|(id, text, at)| {
                Ok(PendingMessage {
                    id: Uuid::parse_str(&id).map_err(|e| self.decode_err(e))?,
                    text,
                    created_at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| self.decode_err(e))?,
                })
            })
            .collect()
    }

    /// Writes what the person wrote on an alarm, durably, to be sent.
    pub fn add_alarm_message(
        &self,
        alarm: Uuid,
        message: &PendingMessage,
    ) -> Result<(), StorageError> {
        let at = message
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO alarm_messages (id, alarm_id, text, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![message.id.to_string(), alarm.to_string(), message.text, at],
            )?;
            Ok(())
        })
    }

    /// The region has the message (`refused`: it will not take it, and why; it is not sent again).
    pub fn message_done(&self, id: Uuid, refused: Option<&str>) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE alarm_messages SET sent_at = CASE WHEN ?2 IS NULL THEN ?3 END, refused = ?2
                 WHERE id = ?1",
                params![id.to_string(), refused, super::now()],
            )?;
            Ok(())
        })
    }

    /// Stores an alarm (new or updated) durably and gives it its next revision.
    pub fn save_alarm(&self, a: &mut LocalAlarm) -> Result<(), StorageError> {
        let receipt = a
            .receipt
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| self.decode_err(e))?;
        let blocked = a.blocked.map(Blocked::as_str);
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let revision = self.write(|tx| {
            tx.query_row(
                "INSERT INTO alarms (id, triggered_at, meeting, place, receipt, cancel_requested_at,
                    blocked, revision, updated_at, drill, acknowledged_seen_at, stored_at, duress,
                    silent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET receipt = ?5, cancel_requested_at = ?6, blocked = ?7,
                    revision = revision + 1, updated_at = ?8, acknowledged_seen_at = ?10, duress = ?12
                 RETURNING revision",
                params![
                    a.id.to_string(),
                    ts(a.triggered_at),
                    a.meeting,
                    a.place,
                    receipt,
                    a.cancel_requested_at.map(ts),
                    blocked,
                    super::now(),
                    a.drill,
                    a.acknowledged_seen_at.map(ts),
                    a.stored_at.map(ts),
                    a.duress,
                    a.silent
                ],
                |r| r.get(0),
            )
        })?;
        a.revision = revision;
        Ok(())
    }

    /// One alarm.
    pub fn alarm(&self, id: Uuid) -> Result<Option<LocalAlarm>, StorageError> {
        let raw = self.read(|c| {
            c.query_row(
                &format!("SELECT {COLS} FROM alarms WHERE id = ?1"),
                [id.to_string()],
                row,
            )
            .optional()
        })?;
        raw.map(|r| self.decode_alarm(r)).transpose()
    }

    /// Alarms, newest first.
    pub fn alarms(&self, limit: u32) -> Result<Vec<LocalAlarm>, StorageError> {
        let raws = self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM alarms ORDER BY triggered_at DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        raws.into_iter().map(|r| self.decode_alarm(r)).collect()
    }

    /// The newest drill that an officer (or the region's responder) acknowledged.
    pub fn last_good_drill(&self) -> Result<Option<LocalAlarm>, StorageError> {
        let raw = self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLS} FROM alarms WHERE drill = 1 AND acknowledged_seen_at IS NOT NULL
                     ORDER BY acknowledged_seen_at DESC LIMIT 1"
                ),
                [],
                row,
            )
            .optional()
        })?;
        raw.map(|r| self.decode_alarm(r)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SubsecRound;
    use varn_core::wire::{AlarmReceipt, AlarmStatus};

    #[test]
    fn alarms_survive_reopening_with_receipt_and_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        let mut a = LocalAlarm {
            id: Uuid::now_v7(),
            triggered_at: Utc::now(),
            meeting: "Fullmäktige".into(),
            place: "Stadshuset".into(),
            receipt: None,
            cancel_requested_at: None,
            blocked: Some(Blocked::NotEnrolled),
            revision: 0,
            drill: true,
            acknowledged_seen_at: None,
            stored_at: Some(Utc::now()),
            duress: false,
            silent: false,
            pending_messages: Vec::new(),
        };
        {
            let db = Db::open(&path).unwrap();
            db.save_alarm(&mut a).unwrap();
            assert_eq!(a.revision, 1);
            assert_eq!(
                db.alarm(a.id).unwrap().unwrap().blocked,
                Some(Blocked::NotEnrolled)
            );
            a.receipt = Some(AlarmReceipt {
                id: a.id,
                status: AlarmStatus::Open,
                received_at: Utc::now(),
                acknowledged_at: None,
                acknowledged_by: None,
                cancelled_at: None,
                version: 1,
                drill: false,
                escalated_to: vec!["Jourhavande".into()],
                duress: false,
                messages: Vec::new(),
                centre_received_at: None,
            });
            a.blocked = None;
            a.cancel_requested_at = Some(Utc::now());
            a.duress = true;
            db.save_alarm(&mut a).unwrap();
            assert_eq!(a.revision, 2);
        }
        let db = Db::open(&path).unwrap();
        let back = db.alarm(a.id).unwrap().unwrap();
        assert_eq!(back.receipt, a.receipt);
        assert_eq!(back.blocked, None);
        assert!(back.cancel_requested_at.is_some());
        assert_eq!(back.revision, 2);
        assert!(back.drill);
        assert!(back.duress);
        assert_eq!(back.stored_at, a.stored_at.map(|t| t.trunc_subsecs(3)));
        assert_eq!(db.alarms(10).unwrap().len(), 1);
    }

    #[test]
    fn the_persons_messages_wait_durably_until_received_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        let mut a = LocalAlarm::new(Utc::now(), String::new(), String::new(), false);
        db.save_alarm(&mut a).unwrap();
        let m = |text: &str| PendingMessage {
            id: Uuid::now_v7(),
            text: text.into(),
            created_at: Utc::now(),
        };
        let (first, second) = (m("Jag kan inte prata"), m("Skicka hjälp nu"));
        db.add_alarm_message(a.id, &first).unwrap();
        db.add_alarm_message(a.id, &second).unwrap();
        assert!(
            db.add_alarm_message(a.id, &first).is_err(),
            "an id is written once"
        );
        let pending = db.alarm(a.id).unwrap().unwrap().pending_messages;
        assert_eq!(
            pending.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
            ["Jag kan inte prata", "Skicka hjälp nu"]
        );
        db.message_done(first.id, None).unwrap();
        db.message_done(second.id, Some("the alarm was cancelled"))
            .unwrap();
        assert!(db.alarm(a.id).unwrap().unwrap().pending_messages.is_empty());
    }
}
