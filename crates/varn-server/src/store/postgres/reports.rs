//! Incident reports, their revisions and their follow-up.

use super::*;

pub(super) async fn load_report(
    c: &impl GenericClient,
    region: &str,
    id: Uuid,
    with_timeline: bool,
) -> Result<Option<Report>, StoreError> {
    let Some(r) = c
        .opt(
            &format!(
                "SELECT r.device_id, d.name, r.current_revision, v.body, r.first_received_at,
                    r.updated_at, {FOLLOWUP_COLS}
                 FROM reports r JOIN devices d ON d.id = r.device_id
                 JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                    AND v.region_id = r.region_id
                 WHERE r.id = $1 AND r.region_id = $2"
            ),
            &[&id, &region],
        )
        .await?
    else {
        return Ok(None);
    };
    let attachments = c
        .all(
            &format!(
                "SELECT {ATTACHMENT_COLS} FROM attachments a
                 WHERE a.report_id = $1 AND a.region_id = $2 ORDER BY a.created_at"
            ),
            &[&id, &region],
        )
        .await?
        .iter()
        .map(attachment_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Report {
        id,
        region_id: region.to_string(),
        device_id: r.try_get(0)?,
        who: r.try_get(1)?,
        revision: u32_of(r.try_get(2)?),
        body: serde_json::from_str(r.try_get(3)?)
            .map_err(|e| StoreError::Backend(format!("stored report: {e}")))?,
        first_received_at: r.try_get(4)?,
        updated_at: r.try_get(5)?,
        attachments,
        followup: followup_row(&r, 6)?,
        timeline: if with_timeline {
            report_events(c, region, id).await?
        } else {
            Vec::new()
        },
    }))
}

/// The follow-up columns of `reports r` and `first_received_at`, read by [`followup_row`].
pub(super) const FOLLOWUP_COLS: &str =
    "r.followup_state, r.followup_by, r.followup_message, r.followup_at, r.first_received_at";

pub(super) fn followup_row(r: &Row, at: usize) -> Result<varn_core::wire::Followup, StoreError> {
    Ok(stored_followup(
        r.try_get(at)?,
        r.try_get(at + 1)?,
        r.try_get(at + 2)?,
        r.try_get(at + 3)?,
        r.try_get(at + 4)?,
    ))
}

pub(super) async fn report_events(
    c: &impl GenericClient,
    region: &str,
    id: Uuid,
) -> Result<Vec<TimelineEntry>, StoreError> {
    c.all(
        "SELECT at, kind, actor, detail FROM report_events
         WHERE report_id = $1 AND region_id = $2 ORDER BY seq",
        &[&id, &region],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TimelineEntry {
            at: r.try_get(0)?,
            kind: r.try_get(1)?,
            actor: r.try_get(2)?,
            detail: r.try_get(3)?,
        })
    })
    .collect()
}

pub(super) async fn add_report_event(
    c: &impl GenericClient,
    report: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    c.run(
        "INSERT INTO report_events (report_id, region_id, at, kind, actor, detail)
         SELECT id, region_id, $2, $3, $4, $5 FROM reports WHERE id = $1",
        &[&report, &at, &kind, &actor, &detail],
    )
    .await?;
    Ok(())
}

pub(super) async fn put_facts(
    c: &impl GenericClient,
    id: Uuid,
    region: &str,
    f: &ReportFacts,
) -> Result<(), StoreError> {
    c.run(
        "INSERT INTO report_facts (report_id, region_id, occurred_on, event, channel, sexual,
            repeated, perpetrator, consequences, police_reported, not_reported_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (report_id) DO UPDATE SET occurred_on = excluded.occurred_on,
            event = excluded.event, channel = excluded.channel, sexual = excluded.sexual,
            repeated = excluded.repeated, perpetrator = excluded.perpetrator,
            consequences = excluded.consequences, police_reported = excluded.police_reported,
            not_reported_reason = excluded.not_reported_reason",
        &[
            &id,
            &region,
            &f.month,
            &f.event.map(|x| x.as_str()),
            &f.channel.map(|x| x.as_str()),
            &f.sexual,
            &f.repeated,
            &f.perpetrator.map(|x| x.as_str()),
            &consequences_column(&f.consequences),
            &f.police_reported,
            &f.not_reported_reason.map(|x| x.as_str()),
        ],
    )
    .await?;
    Ok(())
}

/// Gives every report stored before the statistics existed its facts (once, under the
/// migration lock; later reports get theirs as they arrive).
pub(super) async fn backfill_facts(c: &impl GenericClient) -> Result<(), StoreError> {
    let rows = c
        .all(
            "SELECT r.id, r.region_id, v.body, r.first_received_at FROM reports r
             JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
             WHERE NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.report_id = r.id)",
            &[],
        )
        .await?;
    for r in &rows {
        let report: IncidentReport = serde_json::from_str(r.try_get(2)?).unwrap_or_default();
        let region: &str = r.try_get(1)?;
        put_facts(
            c,
            r.try_get(0)?,
            region,
            &ReportFacts::of(&report, r.try_get(3)?),
        )
        .await?;
    }
    if !rows.is_empty() {
        tracing::info!(
            reports = rows.len(),
            "statistics facts written for earlier reports"
        );
    }
    Ok(())
}

#[async_trait]
impl crate::store::ReportStore for PgStore {
    async fn put_report(
        &self,
        device: &Device,
        id: Uuid,
        req: &ReportRequest,
        now: DateTime<Utc>,
    ) -> Result<(ReportReceipt, bool), StoreError> {
        let revision = req.revision;
        let body = serde_json::to_string(&req.report)
            .map_err(|e| StoreError::Backend(format!("report body: {e}")))?;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let inserted = tx
            .run(
                "INSERT INTO reports (id, region_id, device_id, current_revision,
                    first_received_at, updated_at) VALUES ($1, $2, $3, 0, $4, $4)
                 ON CONFLICT (id) DO NOTHING",
                &[&id, &device.region_id, &device.id, &now],
            )
            .await?
            == 1;
        let row = tx
            .one(
                "SELECT device_id, current_revision, first_received_at FROM reports
                 WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?;
        own(Some(row.try_get::<_, Uuid>(0)?), device)?;
        let current = u32_of(row.try_get(1)?);
        let first_received_at: DateTime<Utc> = row.try_get(2)?;
        let stored = tx
            .opt(
                "SELECT body, received_at FROM report_revisions
                 WHERE report_id = $1 AND revision = $2 AND region_id = $3",
                &[&id, &(revision as i32), &device.region_id],
            )
            .await?;
        if let Some(r) = stored {
            repeated_revision(r.try_get(0)?, &body, revision, current)?;
            return Ok((
                revision_receipt(id, revision, current, r.try_get(1)?),
                false,
            ));
        }
        tx.run(
            "INSERT INTO report_revisions (report_id, revision, body, received_at, region_id)
             VALUES ($1, $2, $3, $4, $5)",
            &[&id, &(revision as i32), &body, &now, &device.region_id],
        )
        .await?;
        if revision > current || inserted {
            tx.run(
                "UPDATE reports SET current_revision = GREATEST(current_revision, $1),
                    updated_at = $2 WHERE id = $3",
                &[&(revision as i32), &now, &id],
            )
            .await?;
        }
        if revision > current {
            put_facts(
                &tx,
                id,
                &device.region_id,
                &ReportFacts::of(&req.report, first_received_at),
            )
            .await?;
        }
        let (kind, detail) = report_arrival(current, revision);
        add_report_event(&tx, id, now, kind, &device.name, &detail).await?;
        tx.commit().await?;
        Ok((revision_receipt(id, revision, current, now), true))
    }

    async fn report(&self, region_id: &str, id: Uuid) -> Result<Option<Report>, StoreError> {
        let c = self.conn().await?;
        load_report(&c, region_id, id, true).await
    }

    async fn report_receipt(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<Option<ReportReceipt>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!(
                "SELECT r.current_revision, v.received_at, {FOLLOWUP_COLS} FROM reports r
                 JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                    AND v.region_id = r.region_id
                 WHERE r.id = $1 AND r.device_id = $2"
            ),
            &[&id, &device.id],
        )
        .await?
        .map(|r| {
            let followup = followup_row(&r, 2)?;
            Ok(ReportReceipt {
                id,
                followup: (followup.state != FollowupState::New).then_some(followup),
                revision: u32_of(r.try_get(0)?),
                received_at: r.try_get(1)?,
                current_revision: u32_of(r.try_get(0)?),
            })
        })
        .transpose()
    }

    async fn reports(&self, region_id: &str, limit: u32) -> Result<Vec<Report>, StoreError> {
        let c = self.conn().await?;
        let ids: Vec<Uuid> = c
            .all(
                "SELECT id FROM reports WHERE region_id = $1 ORDER BY updated_at DESC LIMIT $2",
                &[&region_id, &i64::from(limit)],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = load_report(&c, region_id, id, false).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn follow_up(
        &self,
        region_id: &str,
        id: Uuid,
        officer: &str,
        change: &FollowupChange,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The row lock orders concurrent changes by officers on other instances.
        tx.opt(
            "SELECT 1 FROM reports WHERE id = $1 AND region_id = $2 FOR UPDATE",
            &[&id, &region_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        let current = load_report(&tx, region_id, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(plan) = followup_plan(&current.followup, change)? {
            tx.run(
                "UPDATE reports SET followup_state = $1, followup_by = $2,
                    followup_message = $3, followup_at = $4 WHERE id = $5 AND region_id = $6",
                &[
                    &change.state.as_str(),
                    &officer,
                    &plan.message,
                    &now,
                    &id,
                    &region_id,
                ],
            )
            .await?;
            for (kind, detail) in plan.entries {
                add_report_event(&tx, id, now, kind, officer, &detail).await?;
            }
        }
        let report = load_report(&tx, region_id, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(report)
    }
}
