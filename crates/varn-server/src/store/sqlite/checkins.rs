//! Check-ins and the alarm a missed check-out raises.

use super::*;

pub(super) const CHECKIN_COLS: &str = "k.id, k.region_id, k.device_id, d.name, k.started_at, k.deadline,
    k.meeting, k.place, k.revision, k.status, k.received_at, k.checked_out_at, k.outcome, k.alarm_id";

pub(super) fn checkin_status(s: &str) -> rusqlite::Result<CheckinStatus> {
    stored_checkin_status(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            9,
            rusqlite::types::Type::Text,
            format!("unknown check-in status {s}").into(),
        )
    })
}

pub(super) fn checkin_row(r: &Row<'_>) -> rusqlite::Result<Checkin> {
    Ok(Checkin {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        device_id: parse_uuid(&r.get::<_, String>(2)?)?,
        who: r.get(3)?,
        started_at: parse_ts(&r.get::<_, String>(4)?)?,
        deadline: parse_ts(&r.get::<_, String>(5)?)?,
        meeting: r.get(6)?,
        place: r.get(7)?,
        revision: r.get(8)?,
        status: checkin_status(&r.get::<_, String>(9)?)?,
        received_at: parse_ts(&r.get::<_, String>(10)?)?,
        checked_out_at: opt_ts(r.get(11)?)?,
        outcome: r
            .get::<_, Option<String>>(12)?
            .as_deref()
            .map(stored_outcome),
        alarm_id: r
            .get::<_, Option<String>>(13)?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
    })
}

pub(super) fn load_checkin(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Checkin>> {
    c.query_row(
        &format!("SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id WHERE k.id = ?1"),
        [id.to_string()],
        checkin_row,
    )
    .optional()
}

#[async_trait]
impl crate::store::CheckinStore for SqliteStore {
    async fn put_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckinRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, bool), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        self.write(move |c| {
            let inserted = c.execute(
                "INSERT INTO checkins (id, region_id, device_id, started_at, deadline, meeting,
                    place, revision, status, received_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', ?9, ?9)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    id.to_string(),
                    device.region_id,
                    device.id.to_string(),
                    ts(req.started_at),
                    ts(req.deadline),
                    req.meeting,
                    req.place,
                    req.revision,
                    ts(now)
                ],
            )? == 1;
            let k = own(load_checkin(c, id)?, &device)?;
            if inserted {
                return Ok((k, true));
            }
            // An extension: only a newer revision of a check-in still running.
            let changed = c.execute(
                "UPDATE checkins SET deadline = ?1, meeting = ?2, place = ?3, revision = ?4,
                    updated_at = ?5
                 WHERE id = ?6 AND status = 'active' AND revision < ?4",
                params![
                    ts(req.deadline),
                    req.meeting,
                    req.place,
                    req.revision,
                    ts(now),
                    id.to_string()
                ],
            )? == 1;
            Ok((load_checkin(c, id)?.ok_or(StoreError::NotFound)?, changed))
        })
        .await
    }

    async fn checkout_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckoutRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, Option<Alarm>), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        let written = self
            .write(move |c| {
                let k = own(load_checkin(c, id)?, &device)?;
                if k.checked_out_at.is_some() {
                    return Ok((k, None));
                }
                // A missed check-in stays overdue; the check-out is recorded beside it.
                let status = checkout_status(&k);
                c.execute(
                "UPDATE checkins SET status = ?1, checked_out_at = ?2, outcome = ?3, updated_at = ?4
                 WHERE id = ?5",
                params![status, ts(req.at), outcome_str(req.outcome), ts(now), id.to_string()],
            )?;
                let mut alarm = None;
                if let Some(alarm_id) = k.alarm_id {
                    // Late: the alarm stands until an officer acknowledges it; its timeline and
                    // its version say that the person checked out.
                    let detail = late_checkout_detail(req.outcome);
                    add_event(
                        c,
                        alarm_id,
                        now,
                        EventKind::CheckedOut.as_str(),
                        &device.name,
                        detail,
                    )?;
                    c.execute(
                        "UPDATE alarms SET version = version + 1 WHERE id = ?1",
                        [alarm_id.to_string()],
                    )?;
                    alarm = load_alarm(c, alarm_id)?;
                }
                Ok((load_checkin(c, id)?.ok_or(StoreError::NotFound)?, alarm))
            })
            .await;
        self.feed.after_commit(written)
    }

    async fn checkin(&self, region_id: &str, id: Uuid) -> Result<Option<Checkin>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| Ok(load_checkin(c, id)?.filter(|k| k.region_id == region)))
            .await
    }

    async fn open_checkins(&self, region_id: &str) -> Result<Vec<Checkin>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.region_id = ?1
                   AND (k.status = 'active' OR (k.status = 'overdue' AND k.checked_out_at IS NULL))
                 ORDER BY k.deadline"
            ))?;
            let rows = stmt.query_map([region], checkin_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn overdue_checkins(&self, now: DateTime<Utc>) -> Result<Vec<Checkin>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.status = 'active' AND k.deadline <= ?1 ORDER BY k.deadline"
            ))?;
            let rows = stmt.query_map([ts(now)], checkin_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn raise_overdue_checkin(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let written = self
            .write(move |c| {
                let alarm_id = Checkin::alarm_id_for(id);
                // Claimed by the database: only an active check-in past its deadline turns.
                let claimed = c.execute(
                    "UPDATE checkins SET status = 'overdue', alarm_id = ?1, updated_at = ?2
                 WHERE id = ?3 AND status = 'active' AND deadline <= ?2",
                    params![alarm_id.to_string(), ts(now), id.to_string()],
                )? == 1;
                if !claimed {
                    return Ok(None);
                }
                let k = load_checkin(c, id)?.ok_or(StoreError::NotFound)?;
                let message = overdue_message(&k);
                c.execute(
                "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                    place, message, status, version, drill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', 1, 0)",
                params![
                    alarm_id.to_string(),
                    k.region_id,
                    k.device_id.to_string(),
                    ts(k.deadline),
                    ts(now),
                    k.meeting,
                    k.place,
                    message
                ],
            )?;
                add_event(
                    c,
                    alarm_id,
                    k.started_at,
                    EventKind::CheckedIn.as_str(),
                    &k.who,
                    "",
                )?;
                add_event(
                    c,
                    alarm_id,
                    now,
                    EventKind::CheckinOverdue.as_str(),
                    "server",
                    &message,
                )?;
                Ok(load_alarm(c, alarm_id)?)
            })
            .await;
        self.feed.after_commit(written)
    }
}
