//! Check-ins and the alarm a missed check-out raises.

use super::*;

pub(super) const CHECKIN_COLS: &str = "k.id, k.region_id, k.device_id, d.name, k.started_at, k.deadline,
    k.meeting, k.place, k.revision, k.status, k.received_at, k.checked_out_at, k.outcome, k.alarm_id";

pub(super) fn checkin_row(r: &Row) -> Result<Checkin, StoreError> {
    Ok(Checkin {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        device_id: r.try_get(2)?,
        who: r.try_get(3)?,
        started_at: r.try_get(4)?,
        deadline: r.try_get(5)?,
        meeting: r.try_get(6)?,
        place: r.try_get(7)?,
        revision: u32_of(r.try_get(8)?),
        status: checkin_status(r.try_get(9)?)?,
        received_at: r.try_get(10)?,
        checked_out_at: r.try_get(11)?,
        outcome: r.try_get::<_, Option<&str>>(12)?.map(stored_outcome),
        alarm_id: r.try_get(13)?,
    })
}

pub(super) async fn load_checkin(
    c: &impl GenericClient,
    id: Uuid,
    lock: bool,
) -> Result<Option<Checkin>, StoreError> {
    let sql = format!(
        "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id WHERE k.id = $1{}",
        if lock { " FOR UPDATE OF k" } else { "" }
    );
    c.opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(checkin_row)
        .transpose()
}

#[async_trait]
impl crate::store::CheckinStore for PgStore {
    async fn put_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckinRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let revision = req.revision as i32;
        let inserted = tx
            .run(
                "INSERT INTO checkins (id, region_id, device_id, started_at, deadline, meeting,
                    place, revision, status, received_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &device.region_id,
                    &device.id,
                    &req.started_at,
                    &req.deadline,
                    &req.meeting,
                    &req.place,
                    &revision,
                    &now,
                ],
            )
            .await?
            == 1;
        let k = own(load_checkin(&tx, id, true).await?, device)?;
        if inserted {
            tx.commit().await?;
            return Ok((k, true));
        }
        // An extension: only a newer revision of a check-in still running.
        let changed = tx
            .run(
                "UPDATE checkins SET deadline = $1, meeting = $2, place = $3, revision = $4,
                    updated_at = $5
                 WHERE id = $6 AND status = 'active' AND revision < $4",
                &[
                    &req.deadline,
                    &req.meeting,
                    &req.place,
                    &revision,
                    &now,
                    &id,
                ],
            )
            .await?
            == 1;
        let k = load_checkin(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((k, changed))
    }

    async fn checkout_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckoutRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, Option<Alarm>), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let k = own(load_checkin(&tx, id, true).await?, device)?;
        if k.checked_out_at.is_some() {
            return Ok((k, None));
        }
        // A missed check-in stays overdue; the check-out is recorded beside it.
        let status = checkout_status(&k);
        tx.run(
            "UPDATE checkins SET status = $1, checked_out_at = $2, outcome = $3, updated_at = $4
             WHERE id = $5",
            &[&status, &req.at, &outcome_str(req.outcome), &now, &id],
        )
        .await?;
        let mut alarm = None;
        if let Some(alarm_id) = k.alarm_id {
            // Late: the alarm stands until an officer acknowledges it.
            let detail = late_checkout_detail(req.outcome);
            load_alarm(&tx, alarm_id, true).await?;
            add_event(
                &tx,
                alarm_id,
                now,
                EventKind::CheckedOut.as_str(),
                &device.name,
                detail,
            )
            .await?;
            tx.run(
                "UPDATE alarms SET version = version + 1 WHERE id = $1",
                &[&alarm_id],
            )
            .await?;
            alarm = load_alarm(&tx, alarm_id, false).await?;
            if let Some(a) = &alarm {
                self.announce(&tx, a).await?;
            }
        }
        let k = load_checkin(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        self.feed.after_commit(Ok((k, alarm)))
    }

    async fn checkin(&self, region_id: &str, id: Uuid) -> Result<Option<Checkin>, StoreError> {
        let c = self.conn().await?;
        Ok(load_checkin(&c, id, false)
            .await?
            .filter(|k| k.region_id == region_id))
    }

    async fn open_checkins(&self, region_id: &str) -> Result<Vec<Checkin>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.region_id = $1
                   AND (k.status = 'active' OR (k.status = 'overdue' AND k.checked_out_at IS NULL))
                 ORDER BY k.deadline"
            ),
            &[&region_id],
        )
        .await?
        .iter()
        .map(checkin_row)
        .collect()
    }

    async fn overdue_checkins(&self, now: DateTime<Utc>) -> Result<Vec<Checkin>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {CHECKIN_COLS} FROM checkins k JOIN devices d ON d.id = k.device_id
                 WHERE k.status = 'active' AND k.deadline <= $1 ORDER BY k.deadline"
            ),
            &[&now],
        )
        .await?
        .iter()
        .map(checkin_row)
        .collect()
    }

    async fn raise_overdue_checkin(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm_id = Checkin::alarm_id_for(id);
        // Claimed by the database: only an active check-in past its deadline turns.
        let claimed = tx
            .run(
                "UPDATE checkins SET status = 'overdue', alarm_id = $1, updated_at = $2
                 WHERE id = $3 AND status = 'active' AND deadline <= $2",
                &[&alarm_id, &now, &id],
            )
            .await?
            == 1;
        if !claimed {
            return Ok(None);
        }
        let k = load_checkin(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound)?;
        let message = overdue_message(&k);
        tx.run(
            "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                place, message, status, version, drill)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 1, false)",
            &[
                &alarm_id,
                &k.region_id,
                &k.device_id,
                &k.deadline,
                &now,
                &k.meeting,
                &k.place,
                &message,
            ],
        )
        .await?;
        add_event(
            &tx,
            alarm_id,
            k.started_at,
            EventKind::CheckedIn.as_str(),
            &k.who,
            "",
        )
        .await?;
        add_event(
            &tx,
            alarm_id,
            now,
            EventKind::CheckinOverdue.as_str(),
            "server",
            &message,
        )
        .await?;
        let alarm = self.commit_alarm(tx, alarm_id).await?;
        Ok(Some(alarm))
    }
}
