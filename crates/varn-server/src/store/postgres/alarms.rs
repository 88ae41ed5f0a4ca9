//! Alarms: raised, cancelled, acknowledged, escalated, and their timelines and messages.

use super::*;

pub(super) const ALARM_COLS: &str =
    "a.id, a.region_id, a.device_id, d.name, a.triggered_at, a.received_at,
    a.meeting, a.place, a.message, a.status, a.acknowledged_at, a.acknowledged_by,
    a.cancelled_at, a.cancel_reason, a.version, a.drill, a.escalation_step, a.escalated_to,
    a.duress_at, d.instructions, a.centre_received_at, a.centre_refused_at";

pub(super) fn alarm_row(r: &Row) -> Result<Alarm, StoreError> {
    Ok(Alarm {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        device_id: r.try_get(2)?,
        who: r.try_get(3)?,
        triggered_at: r.try_get(4)?,
        received_at: r.try_get(5)?,
        meeting: r.try_get(6)?,
        place: r.try_get(7)?,
        message: r.try_get(8)?,
        status: alarm_status(r.try_get(9)?)?,
        acknowledged_at: r.try_get(10)?,
        acknowledged_by: r.try_get(11)?,
        cancelled_at: r.try_get(12)?,
        cancel_reason: r.try_get(13)?,
        version: r.try_get(14)?,
        drill: r.try_get(15)?,
        escalation_step: u32_of(r.try_get(16)?),
        escalated_to: serde_json::from_str(r.try_get(17)?)
            .map_err(|e| StoreError::Backend(format!("stored escalation list: {e}")))?,
        duress_at: r.try_get(18)?,
        instructions: r.try_get(19)?,
        messages: Vec::new(),
        centre_received_at: r.try_get(20)?,
        centre_refused_at: r.try_get(21)?,
    })
}

/// An alarm's conversation, oldest first.
pub(super) async fn messages_of(
    c: &impl GenericClient,
    alarm: Uuid,
) -> Result<Vec<AlarmMessage>, StoreError> {
    c.all(
        "SELECT id, sender, author, text, at FROM alarm_messages WHERE alarm_id = $1
         ORDER BY at, id",
        &[&alarm],
    )
    .await?
    .iter()
    .map(|r| {
        let sender: &str = r.try_get(1)?;
        Ok(AlarmMessage {
            id: r.try_get(0)?,
            from: MessageFrom::parse(sender)
                .ok_or_else(|| StoreError::Backend(format!("unknown sender {sender}")))?,
            author: r.try_get(2)?,
            text: r.try_get(3)?,
            at: r.try_get(4)?,
        })
    })
    .collect()
}

pub(super) async fn with_messages(
    c: &impl GenericClient,
    mut a: Alarm,
) -> Result<Alarm, StoreError> {
    a.messages = messages_of(c, a.id).await?;
    Ok(a)
}

/// One alarm with its device's name; `lock` takes its row for the rest of the transaction.
pub(super) async fn load_alarm(
    c: &impl GenericClient,
    id: Uuid,
    lock: bool,
) -> Result<Option<Alarm>, StoreError> {
    let sql = format!(
        "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id WHERE a.id = $1{}",
        if lock { " FOR UPDATE OF a" } else { "" }
    );
    match c.opt(&sql, &[&id]).await? {
        Some(r) => Ok(Some(with_messages(c, alarm_row(&r)?).await?)),
        None => Ok(None),
    }
}

pub(super) async fn add_event(
    c: &impl GenericClient,
    alarm: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    // The entry takes its region from its alarm; no alarm, no entry.
    let added = c
        .run(
            "INSERT INTO alarm_events (alarm_id, region_id, at, kind, actor, detail)
             SELECT id, region_id, $2, $3, $4, $5 FROM alarms WHERE id = $1",
            &[&alarm, &at, &kind, &actor, &detail],
        )
        .await?;
    if added != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl crate::store::AlarmStore for PgStore {
    async fn put_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &AlarmRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let inserted = tx
            .run(
                "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                    place, message, status, version, drill)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 1, $9)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &id,
                    &device.region_id,
                    &device.id,
                    &req.triggered_at,
                    &now,
                    &req.meeting,
                    &req.place,
                    &req.message,
                    &req.drill,
                ],
            )
            .await?
            == 1;
        let alarm = own(load_alarm(&tx, id, false).await?, device)?;
        if inserted {
            for e in alarm_opening(req, &device.name, now) {
                add_event(&tx, id, e.at, e.kind.as_str(), &e.who, &e.detail).await?;
            }
            self.announce(&tx, &alarm).await?;
        }
        tx.commit().await?;
        self.feed.after_commit(Ok((alarm, inserted)))
    }

    async fn cancel_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &CancelRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm = own(load_alarm(&tx, id, true).await?, device)?;
        let plan = cancel_plan(&alarm, req);
        match plan {
            CancelPlan::Repeat => return Ok((alarm, false)),
            CancelPlan::Duress => {
                tx.run(
                    "UPDATE alarms SET duress_at = $1, version = version + 1 WHERE id = $2",
                    &[&now, &id],
                )
                .await?
            }
            CancelPlan::Cancel => {
                tx.run(
                    "UPDATE alarms SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2,
                        version = version + 1 WHERE id = $3",
                    &[&now, &req.reason, &id],
                )
                .await?
            }
        };
        if let Some(kind) = plan.entry() {
            add_event(&tx, id, now, kind.as_str(), &device.name, &req.reason).await?;
        }
        let alarm = self.commit_alarm(tx, id).await?;
        Ok((alarm, true))
    }

    async fn acknowledge_alarm(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm = load_alarm(&tx, id, true)
            .await?
            .filter(|a| a.region_id == officer.region_id)
            .ok_or(StoreError::NotFound)?;
        if !acknowledges(&alarm) {
            return Ok((alarm, false));
        }
        tx.run(
            "UPDATE alarms SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2,
                version = version + 1 WHERE id = $3",
            &[&now, &officer.display_name, &id],
        )
        .await?;
        add_event(
            &tx,
            id,
            now,
            EventKind::Acknowledged.as_str(),
            &officer.display_name,
            "",
        )
        .await?;
        let alarm = self.commit_alarm(tx, id).await?;
        Ok((alarm, true))
    }

    async fn alarm(&self, region_id: &str, id: Uuid) -> Result<Option<Alarm>, StoreError> {
        let c = self.conn().await?;
        Ok(load_alarm(&c, id, false)
            .await?
            .filter(|a| a.region_id == region_id))
    }

    async fn alarms(&self, region_id: &str, limit: u32) -> Result<Vec<Alarm>, StoreError> {
        let c = self.conn().await?;
        let list = c
            .all(
                &format!(
                    "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.region_id = $1 ORDER BY a.received_at DESC LIMIT $2"
                ),
                &[&region_id, &i64::from(limit)],
            )
            .await?;
        let mut out = Vec::with_capacity(list.len());
        for r in &list {
            out.push(with_messages(&c, alarm_row(r)?).await?);
        }
        Ok(out)
    }

    async fn alarm_events(&self, region_id: &str, id: Uuid) -> Result<Vec<AlarmEvent>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT e.at, e.kind, e.actor, e.detail FROM alarm_events e
             JOIN alarms a ON a.id = e.alarm_id
             WHERE e.alarm_id = $1 AND a.region_id = $2 AND e.region_id = $2 ORDER BY e.seq",
            &[&id, &region_id],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AlarmEvent {
                at: r.try_get(0)?,
                kind: r.try_get(1)?,
                actor: r.try_get(2)?,
                detail: r.try_get(3)?,
            })
        })
        .collect()
    }

    async fn unacknowledged_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.status = 'open' AND NOT a.drill ORDER BY a.received_at"
            ),
            &[],
        )
        .await?
        .iter()
        .map(alarm_row)
        .collect()
    }

    async fn escalate_alarm(
        &self,
        id: Uuid,
        step: u32,
        to: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let alarm = load_alarm(&tx, id, true)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !escalation_due(&alarm, step) {
            return Ok(None);
        }
        let (names_json, detail) = escalation_record(&alarm, step, to)?;
        // Claimed by the database: the row is locked and the step checked in the WHERE.
        let claimed = tx
            .run(
                "UPDATE alarms SET escalation_step = $1, escalated_to = $2, version = version + 1
                 WHERE id = $3 AND escalation_step = $4 AND status = 'open'",
                &[&(step as i32), &names_json, &id, &(step as i32 - 1)],
            )
            .await?
            == 1;
        if !claimed {
            return Ok(None);
        }
        add_event(
            &tx,
            id,
            now,
            EventKind::Escalated.as_str(),
            "server",
            &detail,
        )
        .await?;
        let alarm = self.commit_alarm(tx, id).await?;
        Ok(Some(alarm))
    }

    async fn mark_shown(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        load_alarm(&tx, id, true)
            .await?
            .filter(|a| a.region_id == officer.region_id)
            .ok_or(StoreError::NotFound)?;
        let seen: bool = tx
            .one(
                "SELECT EXISTS (SELECT 1 FROM alarm_events
                    WHERE alarm_id = $1 AND region_id = $3 AND kind = 'shown' AND actor = $2)",
                &[&id, &officer.display_name, &officer.region_id],
            )
            .await?
            .try_get(0)?;
        if seen {
            return Ok(false);
        }
        add_event(
            &tx,
            id,
            now,
            EventKind::Shown.as_str(),
            &officer.display_name,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn add_alarm_event(
        &self,
        region_id: &str,
        id: Uuid,
        event: &AlarmEvent,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        load_alarm(&tx, id, true)
            .await?
            .filter(|a| a.region_id == region_id)
            .ok_or(StoreError::NotFound)?;
        add_event(&tx, id, event.at, &event.kind, &event.actor, &event.detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_alarm_message(
        &self,
        region_id: &str,
        alarm_id: Uuid,
        device: Option<Uuid>,
        message: &AlarmMessage,
    ) -> Result<(Alarm, bool), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The alarm's row lock orders messages written at once on several instances.
        let alarm = load_alarm(&tx, alarm_id, true)
            .await?
            .filter(|a| a.region_id == region_id)
            .filter(|a| device.is_none_or(|d| a.device_id == d))
            .ok_or(StoreError::NotFound)?;
        if let Some(stored) = alarm.messages.iter().find(|m| m.id == message.id) {
            same_message(stored, message)?;
            return Ok((alarm, false));
        }
        message_allowed(&alarm)?;
        let inserted = tx
            .run(
                "INSERT INTO alarm_messages (id, alarm_id, region_id, sender, author, text, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[
                    &message.id,
                    &alarm_id,
                    &region_id,
                    &message.from.as_str(),
                    &message.author,
                    &message.text,
                    &message.at,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::Conflict(
                "this message id was already used for another message".into(),
            ));
        }
        add_event(
            &tx,
            alarm_id,
            message.at,
            message.from.event_kind().as_str(),
            &message.author,
            &message.text,
        )
        .await?;
        tx.run(
            "UPDATE alarms SET version = version + 1 WHERE id = $1",
            &[&alarm_id],
        )
        .await?;
        let alarm = self.commit_alarm(tx, alarm_id).await?;
        Ok((alarm, true))
    }
}
