//! What the region keeps beside the reports: statistics facts, the audit log, retention.

use super::*;

pub(super) fn day_start(d: chrono::NaiveDate) -> String {
    ts(d.and_time(chrono::NaiveTime::MIN).and_utc())
}

pub(super) fn day_after(d: chrono::NaiveDate) -> String {
    day_start(d.succ_opt().unwrap_or(d))
}

#[async_trait]
impl crate::store::FollowupStore for SqliteStore {
    async fn report_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ReportFacts>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT occurred_on, event, channel, sexual, repeated, perpetrator, consequences,
                    police_reported, not_reported_reason
                 FROM report_facts WHERE region_id = ?1 AND occurred_on >= ?2 AND occurred_on <= ?3",
            )?;
            let rows = stmt.query_map(params![region, from.to_string(), to.to_string()], |r| {
                let on: String = r.get(0)?;
                Ok(ReportFacts {
                    month: chrono::NaiveDate::parse_from_str(&on, "%Y-%m-%d").map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
                    })?,
                    event: r.get::<_, Option<String>>(1)?.as_deref().and_then(varn_core::ptu::EventType::parse),
                    channel: r.get::<_, Option<String>>(2)?.as_deref().and_then(varn_core::ptu::Channel::parse),
                    sexual: r.get(3)?,
                    repeated: r.get(4)?,
                    perpetrator: r.get::<_, Option<String>>(5)?.as_deref().and_then(varn_core::ptu::Perpetrator::parse),
                    consequences: consequences_from_column(&r.get::<_, String>(6)?),
                    police_reported: r.get(7)?,
                    not_reported_reason: r.get::<_, Option<String>>(8)?.as_deref().and_then(varn_core::ptu::NotReportedReason::parse),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn alarm_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<AlarmFacts>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let (start, end) = (day_start(from), day_after(to));
            let mut out = Vec::new();
            let mut stmt = c.prepare_cached(
                "SELECT a.received_at, a.drill,
                    a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                    a.acknowledged_at, a.escalation_step > 0
                 FROM alarms a WHERE a.region_id = ?1 AND a.received_at >= ?2 AND a.received_at < ?3",
            )?;
            let rows = stmt.query_map(params![region, start, end], |r| {
                let received_at = parse_ts(&r.get::<_, String>(0)?)?;
                Ok(AlarmFacts {
                    received_at,
                    drill: r.get(1)?,
                    from_checkin: r.get(2)?,
                    ack_seconds: opt_ts(r.get(3)?)?.map(|t| (t - received_at).num_seconds()),
                    escalated: r.get(4)?,
                })
            })?;
            out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            let mut stmt = c.prepare_cached(
                "SELECT received_at, drill, from_checkin, ack_seconds, escalated FROM alarm_facts
                 WHERE region_id = ?1 AND received_at >= ?2 AND received_at < ?3",
            )?;
            let rows = stmt.query_map(params![region, start, end], |r| {
                Ok(AlarmFacts {
                    received_at: parse_ts(&r.get::<_, String>(0)?)?,
                    drill: r.get(1)?,
                    from_checkin: r.get(2)?,
                    ack_seconds: r.get(3)?,
                    escalated: r.get(4)?,
                })
            })?;
            out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            Ok(out)
        })
        .await
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let e = entry.clone();
        self.write(move |c| Ok(insert_audit(c, &e)?)).await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let q = query.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, region_id, officer, action, item_kind, item_id, items, role, subject FROM audit_log
                 WHERE (?1 IS NULL OR region_id = ?1)
                   AND (?2 IS NULL OR item_id = ?2 OR instr(items, ?2) > 0)
                   AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)
                 ORDER BY seq DESC LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![
                    q.region_id,
                    q.item_id,
                    q.from.map(ts),
                    q.until.map(ts),
                    q.limit
                ],
                |r| {
                    Ok(AuditEntry {
                        at: parse_ts(&r.get::<_, String>(0)?)?,
                        region_id: r.get(1)?,
                        officer: r.get(2)?,
                        action: r.get(3)?,
                        item_kind: r.get(4)?,
                        item_id: r.get(5)?,
                        items: r.get(6)?,
                        role: r.get(7)?,
                        subject: r.get(8)?,
                    })
                },
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn purge(&self, cutoffs: Cutoffs) -> Result<Purged, StoreError> {
        let purged = self.write(move |c| {
            let mut purged = Purged::default();
            if let Some(cutoff) = cutoffs.reports {
                const OLD: &str = "SELECT id FROM reports
                    WHERE followup_state = 'closed' AND followup_at < ?1";
                let cutoff = ts(cutoff);
                purged.attachments = c.query_row(
                    &format!("SELECT COUNT(*) FROM attachments WHERE report_id IN ({OLD})"),
                    [&cutoff],
                    |r| r.get::<_, i64>(0),
                )? as u64;
                c.execute(
                    &format!(
                        "DELETE FROM attachment_chunks WHERE attachment_id IN
                            (SELECT id FROM attachments WHERE report_id IN ({OLD}))"
                    ),
                    [&cutoff],
                )?;
                for table in ["attachments", "report_revisions", "report_events"] {
                    c.execute(
                        &format!("DELETE FROM {table} WHERE report_id IN ({OLD})"),
                        [&cutoff],
                    )?;
                }
                purged.reports = c.execute(
                    "DELETE FROM reports WHERE followup_state = 'closed' AND followup_at < ?1",
                    [&cutoff],
                )? as u64;
            }
            for (cutoff, duress) in [(cutoffs.alarms, "IS NULL"), (cutoffs.duress_alarms, "IS NOT NULL")] {
                let Some(cutoff) = cutoff else { continue };
                let old = format!(
                    "SELECT id FROM alarms WHERE received_at < ?1
                        AND status IN ('acknowledged', 'cancelled') AND duress_at {duress}"
                );
                let cutoff = ts(cutoff);
                c.execute(
                    &format!(
                        "INSERT OR IGNORE INTO alarm_facts (alarm_id, region_id, received_at, drill,
                            from_checkin, ack_seconds, escalated)
                         SELECT a.id, a.region_id, a.received_at, a.drill,
                            a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                            CAST(ROUND((julianday(a.acknowledged_at) - julianday(a.received_at)) * 86400) AS INTEGER),
                            a.escalation_step > 0
                         FROM alarms a WHERE a.id IN ({old})"
                    ),
                    [&cutoff],
                )?;
                for table in ["alarm_events", "alarm_messages"] {
                    c.execute(
                        &format!("DELETE FROM {table} WHERE alarm_id IN ({old})"),
                        [&cutoff],
                    )?;
                }
                purged.alarms += c.execute(&format!("DELETE FROM alarms WHERE id IN ({old})"), [&cutoff])? as u64;
            }
            if let Some(cutoff) = cutoffs.alarms {
                purged.checkins = c.execute(
                    "DELETE FROM checkins WHERE status <> 'active' AND updated_at < ?1
                        AND (alarm_id IS NULL OR alarm_id NOT IN (SELECT id FROM alarms))",
                    [ts(cutoff)],
                )? as u64;
            }
            if let Some(cutoff) = cutoffs.sessions {
                purged.sessions =
                    c.execute("DELETE FROM sessions WHERE expires_at < ?1", [ts(cutoff)])? as u64;
                purged.enrollment_codes = c.execute(
                    "DELETE FROM enrollment_codes WHERE expires_at < ?1",
                    [ts(cutoff)],
                )? as u64;
            }
            Ok(purged)
        })
        .await?;
        // Committed: the deleted rows' pages are zeroed in the database file (secure_delete),
        // and their old images in the WAL go with it, down to zero bytes. On a connection of
        // its own, since the writer's is inside its group commit.
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || empty_wal(&path))
            .await
            .map_err(|e| StoreError::Backend(format!("checkpoint: {e}")))??;
        Ok(purged)
    }
}

/// Appends `e` to the audit log on `c` (the store's writer, or `restore`'s own connection).
pub(crate) fn insert_audit(c: &Connection, e: &AuditEntry) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO audit_log (region_id, at, officer, action, item_kind, item_id, items, role,
            subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            e.region_id,
            ts(e.at),
            e.officer,
            e.action,
            e.item_kind,
            e.item_id,
            e.items,
            e.role,
            e.subject
        ],
    )?;
    Ok(())
}

/// Folds the WAL into the database and truncates it to zero bytes; a reader that holds an
/// old snapshot past the busy timeout leaves it for the next run, with a warning.
fn empty_wal(path: &std::path::Path) -> Result<(), StoreError> {
    let c = core_sqlite::open_durable(path)
        .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
    let busy: i64 = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        tracing::warn!(
            "retention: a reader kept the WAL from being emptied; it is emptied at the next run"
        );
    }
    Ok(())
}
