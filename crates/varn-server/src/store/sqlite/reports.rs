//! Incident reports, their revisions and their follow-up.

use super::*;

pub(super) fn load_report(
    c: &Connection,
    region: &str,
    id: Uuid,
    with_timeline: bool,
) -> Result<Option<Report>, StoreError> {
    let row = c
        .query_row(
            &format!("SELECT r.device_id, d.name, r.current_revision, v.body, r.first_received_at, r.updated_at,
                {FOLLOWUP_COLS}
             FROM reports r JOIN devices d ON d.id = r.device_id
             JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                    AND v.region_id = r.region_id
             WHERE r.id = ?1 AND r.region_id = ?2"),
            params![id.to_string(), region],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    followup_row(r, 6)?,
                ))
            },
        )
        .optional()?;
    let Some((device_id, who, revision, body, first, updated, followup)) = row else {
        return Ok(None);
    };
    let mut stmt = c.prepare(&format!(
        "SELECT {ATTACHMENT_COLS} FROM attachments WHERE report_id = ?1 AND region_id = ?2
         ORDER BY created_at"
    ))?;
    let attachments = stmt
        .query_map(params![id.to_string(), region], attachment_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Report {
        id,
        region_id: region.to_string(),
        device_id: parse_uuid(&device_id)?,
        who,
        revision,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Backend(format!("stored report: {e}")))?,
        first_received_at: parse_ts(&first)?,
        updated_at: parse_ts(&updated)?,
        attachments,
        followup,
        timeline: if with_timeline {
            report_events(c, region, id)?
        } else {
            Vec::new()
        },
    }))
}

/// The follow-up columns of `reports r` and `first_received_at`, read by [`followup_row`].
pub(super) const FOLLOWUP_COLS: &str =
    "r.followup_state, r.followup_by, r.followup_message, r.followup_at, r.first_received_at";

pub(super) fn followup_row(r: &Row<'_>, at: usize) -> rusqlite::Result<varn_core::wire::Followup> {
    Ok(stored_followup(
        &r.get::<_, String>(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        opt_ts(r.get(at + 3)?)?,
        parse_ts(&r.get::<_, String>(at + 4)?)?,
    ))
}

pub(super) fn report_events(
    c: &Connection,
    region: &str,
    id: Uuid,
) -> rusqlite::Result<Vec<TimelineEntry>> {
    let mut stmt = c.prepare(
        "SELECT at, kind, actor, detail FROM report_events
         WHERE report_id = ?1 AND region_id = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![id.to_string(), region], |r| {
        Ok(TimelineEntry {
            at: parse_ts(&r.get::<_, String>(0)?)?,
            kind: r.get(1)?,
            actor: r.get(2)?,
            detail: r.get(3)?,
        })
    })?;
    rows.collect()
}

pub(super) fn add_report_event(
    c: &Connection,
    report: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO report_events (report_id, region_id, at, kind, actor, detail)
         SELECT id, region_id, ?2, ?3, ?4, ?5 FROM reports WHERE id = ?1",
        params![report.to_string(), ts(at), kind, actor, detail],
    )?;
    Ok(())
}

pub(super) fn put_facts(
    c: &Connection,
    id: Uuid,
    region: &str,
    f: &ReportFacts,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO report_facts (report_id, region_id, occurred_on, event, channel, sexual,
            repeated, perpetrator, consequences, police_reported, not_reported_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (report_id) DO UPDATE SET occurred_on = excluded.occurred_on,
            event = excluded.event, channel = excluded.channel, sexual = excluded.sexual,
            repeated = excluded.repeated, perpetrator = excluded.perpetrator,
            consequences = excluded.consequences, police_reported = excluded.police_reported,
            not_reported_reason = excluded.not_reported_reason",
        params![
            id.to_string(),
            region,
            f.month.to_string(),
            f.event.map(|x| x.as_str()),
            f.channel.map(|x| x.as_str()),
            f.sexual,
            f.repeated,
            f.perpetrator.map(|x| x.as_str()),
            consequences_column(&f.consequences),
            f.police_reported,
            f.not_reported_reason.map(|x| x.as_str()),
        ],
    )?;
    Ok(())
}

/// Gives every report stored before the statistics existed its facts (once; later reports
/// get theirs as they arrive).
pub(super) fn backfill_facts(c: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(String, String, String, String)> = {
        let mut stmt = c.prepare(
            "SELECT r.id, r.region_id, v.body, r.first_received_at FROM reports r
             JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
             WHERE NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.report_id = r.id)",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if rows.is_empty() {
        return Ok(());
    }
    c.execute_batch("BEGIN IMMEDIATE")?;
    for (id, region, body, first) in &rows {
        let report: IncidentReport = serde_json::from_str(body).unwrap_or_default();
        put_facts(
            c,
            parse_uuid(id)?,
            region,
            &ReportFacts::of(&report, parse_ts(first)?),
        )?;
    }
    c.execute_batch("COMMIT")?;
    tracing::info!(
        reports = rows.len(),
        "statistics facts written for earlier reports"
    );
    Ok(())
}

#[async_trait]
impl crate::store::ReportStore for SqliteStore {
    async fn put_report(
        &self,
        device: &Device,
        id: Uuid,
        req: &ReportRequest,
        now: DateTime<Utc>,
    ) -> Result<(ReportReceipt, bool), StoreError> {
        let device = device.clone();
        let revision = req.revision;
        let report = req.report.clone();
        let body = serde_json::to_string(&req.report)
            .map_err(|e| StoreError::Backend(format!("report body: {e}")))?;
        self.write(move |c| {
            let existing: Option<(String, u32, String)> = c
                .query_row(
                    "SELECT device_id, current_revision, first_received_at FROM reports WHERE id = ?1",
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let first_received_at = match &existing {
                Some((_, _, first)) => parse_ts(first)?,
                None => now,
            };
            let current = match existing {
                None => {
                    c.execute(
                        "INSERT INTO reports (id, region_id, device_id, current_revision,
                            first_received_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                        params![
                            id.to_string(),
                            device.region_id,
                            device.id.to_string(),
                            revision,
                            ts(now)
                        ],
                    )?;
                    0
                }
                Some((owner, current, _)) => {
                    own(Some(parse_uuid(&owner)?), &device)?;
                    current
                }
            };
            let stored: Option<(String, String)> = c
                .query_row(
                    "SELECT body, received_at FROM report_revisions
                     WHERE report_id = ?1 AND revision = ?2 AND region_id = ?3",
                    params![id.to_string(), revision, device.region_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((stored_body, received_at)) = stored {
                repeated_revision(&stored_body, &body, revision, current)?;
                let receipt = revision_receipt(id, revision, current, parse_ts(&received_at)?);
                return Ok((receipt, false));
            }
            c.execute(
                "INSERT INTO report_revisions (report_id, revision, body, received_at, region_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), revision, body, ts(now), device.region_id],
            )?;
            if revision > current {
                c.execute(
                    "UPDATE reports SET current_revision = ?1, updated_at = ?2 WHERE id = ?3",
                    params![revision, ts(now), id.to_string()],
                )?;
                put_facts(
                    c,
                    id,
                    &device.region_id,
                    &ReportFacts::of(&report, first_received_at),
                )?;
            }
            let (kind, detail) = report_arrival(current, revision);
            add_report_event(c, id, now, kind, &device.name, &detail)?;
            Ok((revision_receipt(id, revision, current, now), true))
        })
        .await
    }

    async fn report(&self, region_id: &str, id: Uuid) -> Result<Option<Report>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| load_report(c, &region, id, true)).await
    }

    async fn report_receipt(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<Option<ReportReceipt>, StoreError> {
        let device_id = device.id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT r.current_revision, v.received_at, {FOLLOWUP_COLS} FROM reports r
                     JOIN report_revisions v ON v.report_id = r.id AND v.revision = r.current_revision
                        AND v.region_id = r.region_id
                     WHERE r.id = ?1 AND r.device_id = ?2"
                ),
                params![id.to_string(), device_id],
                |r| {
                    let followup = followup_row(r, 2)?;
                    Ok(ReportReceipt {
                        id,
                        revision: r.get(0)?,
                        received_at: parse_ts(&r.get::<_, String>(1)?)?,
                        current_revision: r.get(0)?,
                        followup: (followup.state != FollowupState::New).then_some(followup),
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn reports(&self, region_id: &str, limit: u32) -> Result<Vec<Report>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let ids: Vec<String> = {
                let mut stmt = c.prepare(
                    "SELECT id FROM reports WHERE region_id = ?1 ORDER BY updated_at DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![region, limit], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(r) = load_report(c, &region, parse_uuid(&id)?, false)? {
                    out.push(r);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn follow_up(
        &self,
        region_id: &str,
        id: Uuid,
        officer: &str,
        change: &FollowupChange,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError> {
        let (region, officer, change) =
            (region_id.to_string(), officer.to_string(), change.clone());
        self.write(move |c| {
            let current = load_report(c, &region, id, false)?.ok_or(StoreError::NotFound)?;
            if let Some(plan) = followup_plan(&current.followup, &change)? {
                c.execute(
                    "UPDATE reports SET followup_state = ?1, followup_by = ?2,
                        followup_message = ?3, followup_at = ?4 WHERE id = ?5 AND region_id = ?6",
                    params![
                        change.state.as_str(),
                        officer,
                        plan.message,
                        ts(now),
                        id.to_string(),
                        region
                    ],
                )?;
                for (kind, detail) in plan.entries {
                    add_report_event(c, id, now, kind, &officer, &detail)?;
                }
            }
            load_report(c, &region, id, true)?.ok_or(StoreError::NotFound)
        })
        .await
    }
}
