//! What the region keeps beside the reports: statistics facts, the audit log, retention.

use super::*;

pub(super) fn day_start(d: chrono::NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[async_trait]
impl crate::store::FollowupStore for PgStore {
    async fn report_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ReportFacts>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT occurred_on, event, channel, sexual, repeated, perpetrator, consequences,
                police_reported, not_reported_reason
             FROM report_facts WHERE region_id = $1 AND occurred_on >= $2 AND occurred_on <= $3",
            &[&region_id, &from, &to],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(ReportFacts {
                month: r.try_get(0)?,
                event: r
                    .try_get::<_, Option<&str>>(1)?
                    .and_then(varn_core::ptu::EventType::parse),
                channel: r
                    .try_get::<_, Option<&str>>(2)?
                    .and_then(varn_core::ptu::Channel::parse),
                sexual: r.try_get(3)?,
                repeated: r.try_get(4)?,
                perpetrator: r
                    .try_get::<_, Option<&str>>(5)?
                    .and_then(varn_core::ptu::Perpetrator::parse),
                consequences: consequences_from_column(r.try_get(6)?),
                police_reported: r.try_get(7)?,
                not_reported_reason: r
                    .try_get::<_, Option<&str>>(8)?
                    .and_then(varn_core::ptu::NotReportedReason::parse),
            })
        })
        .collect()
    }

    async fn alarm_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<AlarmFacts>, StoreError> {
        let c = self.conn().await?;
        let (start, end) = (day_start(from), day_start(to.succ_opt().unwrap_or(to)));
        c.all(
            "SELECT a.received_at, a.drill,
                a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                EXTRACT(EPOCH FROM (a.acknowledged_at - a.received_at))::BIGINT,
                a.escalation_step > 0
             FROM alarms a WHERE a.region_id = $1 AND a.received_at >= $2 AND a.received_at < $3
             UNION ALL
             SELECT received_at, drill, from_checkin, ack_seconds, escalated FROM alarm_facts
             WHERE region_id = $1 AND received_at >= $2 AND received_at < $3",
            &[&region_id, &start, &end],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AlarmFacts {
                received_at: r.try_get(0)?,
                drill: r.try_get(1)?,
                from_checkin: r.try_get(2)?,
                ack_seconds: r.try_get(3)?,
                escalated: r.try_get(4)?,
            })
        })
        .collect()
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run(
            "INSERT INTO audit_log (region_id, at, officer, action, item_kind, item_id, items,
                role, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &entry.region_id,
                &entry.at,
                &entry.officer,
                &entry.action,
                &entry.item_kind,
                &entry.item_id,
                &entry.items,
                &entry.role,
                &entry.subject,
            ],
        )
        .await?;
        Ok(())
    }

    async fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT at, region_id, officer, action, item_kind, item_id, items, role, subject FROM audit_log
             WHERE ($1::TEXT IS NULL OR region_id = $1)
               AND ($2::TEXT IS NULL OR item_id = $2 OR strpos(items, $2) > 0)
               AND ($3::TIMESTAMPTZ IS NULL OR at >= $3) AND ($4::TIMESTAMPTZ IS NULL OR at < $4)
             ORDER BY seq DESC LIMIT $5",
            &[
                &q.region_id,
                &q.item_id,
                &q.from,
                &q.until,
                &i64::from(q.limit),
            ],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get(0)?,
                region_id: r.try_get(1)?,
                officer: r.try_get(2)?,
                action: r.try_get(3)?,
                item_kind: r.try_get(4)?,
                item_id: r.try_get(5)?,
                items: r.try_get(6)?,
                role: r.try_get(7)?,
                subject: r.try_get(8)?,
            })
        })
        .collect()
    }

    async fn purge(&self, cutoffs: Cutoffs) -> Result<Purged, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let mut purged = Purged::default();
        if let Some(cutoff) = cutoffs.reports {
            const OLD: &str = "SELECT id FROM reports
                WHERE followup_state = 'closed' AND followup_at < $1";
            let n: i64 = tx
                .one(
                    &format!("SELECT COUNT(*) FROM attachments WHERE report_id IN ({OLD})"),
                    &[&cutoff],
                )
                .await?
                .try_get(0)?;
            purged.attachments = n as u64;
            tx.run(
                &format!(
                    "DELETE FROM attachment_chunks WHERE attachment_id IN
                        (SELECT id FROM attachments WHERE report_id IN ({OLD}))"
                ),
                &[&cutoff],
            )
            .await?;
            for table in ["attachments", "report_revisions", "report_events"] {
                tx.run(
                    &format!("DELETE FROM {table} WHERE report_id IN ({OLD})"),
                    &[&cutoff],
                )
                .await?;
            }
            purged.reports = tx
                .run(
                    "DELETE FROM reports WHERE followup_state = 'closed' AND followup_at < $1",
                    &[&cutoff],
                )
                .await?;
        }
        for (cutoff, duress) in [
            (cutoffs.alarms, "IS NULL"),
            (cutoffs.duress_alarms, "IS NOT NULL"),
        ] {
            let Some(cutoff) = cutoff else { continue };
            let old = format!(
                "SELECT id FROM alarms WHERE received_at < $1
                    AND status IN ('acknowledged', 'cancelled') AND duress_at {duress}"
            );
            tx.run(
                &format!(
                    "INSERT INTO alarm_facts (alarm_id, region_id, received_at, drill,
                        from_checkin, ack_seconds, escalated)
                     SELECT a.id, a.region_id, a.received_at, a.drill,
                        a.id IN (SELECT alarm_id FROM checkins WHERE alarm_id IS NOT NULL),
                        EXTRACT(EPOCH FROM (a.acknowledged_at - a.received_at))::BIGINT,
                        a.escalation_step > 0
                     FROM alarms a WHERE a.id IN ({old})
                     ON CONFLICT (alarm_id) DO NOTHING"
                ),
                &[&cutoff],
            )
            .await?;
            for table in ["alarm_events", "alarm_messages"] {
                tx.run(
                    &format!("DELETE FROM {table} WHERE alarm_id IN ({old})"),
                    &[&cutoff],
                )
                .await?;
            }
            purged.alarms += tx
                .run(
                    &format!("DELETE FROM alarms WHERE id IN ({old})"),
                    &[&cutoff],
                )
                .await?;
        }
        if let Some(cutoff) = cutoffs.alarms {
            purged.checkins = tx
                .run(
                    "DELETE FROM checkins WHERE status <> 'active' AND updated_at < $1
                        AND (alarm_id IS NULL OR alarm_id NOT IN (SELECT id FROM alarms))",
                    &[&cutoff],
                )
                .await?;
        }
        if let Some(cutoff) = cutoffs.sessions {
            purged.sessions = tx
                .run("DELETE FROM sessions WHERE expires_at < $1", &[&cutoff])
                .await?;
            purged.enrollment_codes = tx
                .run(
                    "DELETE FROM enrollment_codes WHERE expires_at < $1",
                    &[&cutoff],
                )
                .await?;
        }
        tx.commit().await?;
        // Outside the transaction: the space of the deleted rows is reclaimed (the server's
        // role owns its tables; a role that does not is warned and skipped by PostgreSQL).
        if purged != Purged::default() {
            c.batch_execute(
                "VACUUM (ANALYZE) reports, report_revisions, report_events, attachments,
                    attachment_chunks, alarms, alarm_events, alarm_messages, checkins, sessions,
                    enrollment_codes",
            )
            .await?;
        }
        Ok(purged)
    }
}
