//! Alarms: raised, cancelled, acknowledged, escalated, and their timelines and messages.

use super::*;

pub(super) const ALARM_COLS: &str =
    "a.id, a.region_id, a.device_id, d.name, a.triggered_at, a.received_at,
    a.meeting, a.place, a.message, a.status, a.acknowledged_at, a.acknowledged_by,
    a.cancelled_at, a.cancel_reason, a.version, a.drill, a.escalation_step, a.escalated_to,
    a.duress_at, d.instructions, a.centre_received_at, a.centre_refused_at";

pub(super) fn alarm_row(r: &Row<'_>) -> rusqlite::Result<Alarm> {
    Ok(Alarm {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        device_id: parse_uuid(&r.get::<_, String>(2)?)?,
        who: r.get(3)?,
        triggered_at: parse_ts(&r.get::<_, String>(4)?)?,
        received_at: parse_ts(&r.get::<_, String>(5)?)?,
        meeting: r.get(6)?,
        place: r.get(7)?,
        message: r.get(8)?,
        status: parse_status(&r.get::<_, String>(9)?)?,
        acknowledged_at: opt_ts(r.get(10)?)?,
        acknowledged_by: r.get(11)?,
        cancelled_at: opt_ts(r.get(12)?)?,
        cancel_reason: r.get(13)?,
        version: r.get(14)?,
        drill: r.get(15)?,
        escalation_step: r.get(16)?,
        escalated_to: serde_json::from_str(&r.get::<_, String>(17)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(17, rusqlite::types::Type::Text, Box::new(e))
        })?,
        duress_at: opt_ts(r.get(18)?)?,
        instructions: r.get(19)?,
        messages: Vec::new(),
        centre_received_at: opt_ts(r.get(20)?)?,
        centre_refused_at: opt_ts(r.get(21)?)?,
    })
}

/// An alarm's conversation, oldest first.
pub(super) fn messages_of(c: &Connection, alarm: Uuid) -> rusqlite::Result<Vec<AlarmMessage>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, sender, author, text, at FROM alarm_messages WHERE alarm_id = ?1
         ORDER BY at, rowid",
    )?;
    let rows = stmt.query_map([alarm.to_string()], |r| {
        let sender: String = r.get(1)?;
        Ok(AlarmMessage {
            id: parse_uuid(&r.get::<_, String>(0)?)?,
            from: MessageFrom::parse(&sender).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    format!("unknown sender {sender}").into(),
                )
            })?,
            author: r.get(2)?,
            text: r.get(3)?,
            at: parse_ts(&r.get::<_, String>(4)?)?,
        })
    })?;
    rows.collect()
}

pub(super) fn with_messages(c: &Connection, mut a: Alarm) -> rusqlite::Result<Alarm> {
    a.messages = messages_of(c, a.id)?;
    Ok(a)
}

pub(super) fn load_alarm(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Alarm>> {
    c.query_row(
        &format!("SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id WHERE a.id = ?1"),
        [id.to_string()],
        alarm_row,
    )
    .optional()?
    .map(|a| with_messages(c, a))
    .transpose()
}

pub(super) fn add_event(
    c: &Connection,
    alarm: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    // The entry takes its region from its alarm; no alarm, no entry.
    let added = c.execute(
        "INSERT INTO alarm_events (alarm_id, region_id, at, kind, actor, detail)
         SELECT id, region_id, ?2, ?3, ?4, ?5 FROM alarms WHERE id = ?1",
        params![alarm.to_string(), ts(at), kind, actor, detail],
    )?;
    if added != 1 {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    }
    Ok(())
}

#[async_trait]
impl crate::store::AlarmStore for SqliteStore {
    async fn put_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &AlarmRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        let written = self
            .write(move |c| {
                let inserted = c.execute(
                "INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting,
                    place, message, status, version, drill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', 1, ?9)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    id.to_string(),
                    device.region_id,
                    device.id.to_string(),
                    ts(req.triggered_at),
                    ts(now),
                    req.meeting,
                    req.place,
                    req.message,
                    req.drill
                ],
            )? == 1;
                let alarm = own(load_alarm(c, id)?, &device)?;
                if inserted {
                    for e in alarm_opening(&req, &device.name, now) {
                        add_event(c, id, e.at, e.kind.as_str(), &e.who, &e.detail)?;
                    }
                }
                Ok((alarm, inserted))
            })
            .await;
        self.feed.after_commit(written)
    }

    async fn cancel_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &CancelRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let (device, req) = (device.clone(), req.clone());
        let written = self
            .write(move |c| {
                let alarm = own(load_alarm(c, id)?, &device)?;
                let plan = cancel_plan(&alarm, &req);
                match plan {
                CancelPlan::Repeat => return Ok((alarm, false)),
                CancelPlan::Duress => c.execute(
                    "UPDATE alarms SET duress_at = ?1, version = version + 1 WHERE id = ?2",
                    params![ts(now), id.to_string()],
                )?,
                CancelPlan::Cancel => c.execute(
                    "UPDATE alarms SET status = 'cancelled', cancelled_at = ?1, cancel_reason = ?2,
                        version = version + 1 WHERE id = ?3",
                    params![ts(now), req.reason, id.to_string()],
                )?,
            };
                if let Some(kind) = plan.entry() {
                    add_event(c, id, now, kind.as_str(), &device.name, &req.reason)?;
                }
                Ok((load_alarm(c, id)?.ok_or(StoreError::NotFound)?, true))
            })
            .await;
        self.feed.after_commit(written)
    }

    async fn acknowledge_alarm(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError> {
        let officer = officer.clone();
        let written = self.write(move |c| {
            let alarm = load_alarm(c, id)?
                .filter(|a| a.region_id == officer.region_id)
                .ok_or(StoreError::NotFound)?;
            if !acknowledges(&alarm) {
                return Ok((alarm, false));
            }
            c.execute(
                "UPDATE alarms SET status = 'acknowledged', acknowledged_at = ?1, acknowledged_by = ?2,
                    version = version + 1 WHERE id = ?3",
                params![ts(now), officer.display_name, id.to_string()],
            )?;
            add_event(c, id, now, EventKind::Acknowledged.as_str(), &officer.display_name, "")?;
            Ok((load_alarm(c, id)?.ok_or(StoreError::NotFound)?, true))
        })
        .await;
        self.feed.after_commit(written)
    }

    async fn alarm(&self, region_id: &str, id: Uuid) -> Result<Option<Alarm>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| Ok(load_alarm(c, id)?.filter(|a| a.region_id == region)))
            .await
    }

    async fn alarms(&self, region_id: &str, limit: u32) -> Result<Vec<Alarm>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.region_id = ?1 ORDER BY a.received_at DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![region, limit], alarm_row)?;
            let list = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(list
                .into_iter()
                .map(|a| with_messages(c, a))
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn alarm_events(&self, region_id: &str, id: Uuid) -> Result<Vec<AlarmEvent>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT e.at, e.kind, e.actor, e.detail FROM alarm_events e
                 JOIN alarms a ON a.id = e.alarm_id
                 WHERE e.alarm_id = ?1 AND a.region_id = ?2 AND e.region_id = ?2 ORDER BY e.seq",
            )?;
            let rows = stmt.query_map(params![id.to_string(), region], |r| {
                Ok(AlarmEvent {
                    at: parse_ts(&r.get::<_, String>(0)?)?,
                    kind: r.get(1)?,
                    actor: r.get(2)?,
                    detail: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn unacknowledged_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ALARM_COLS} FROM alarms a JOIN devices d ON d.id = a.device_id
                 WHERE a.status = 'open' AND a.drill = 0 ORDER BY a.received_at"
            ))?;
            let rows = stmt.query_map([], alarm_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn escalate_alarm(
        &self,
        id: Uuid,
        step: u32,
        to: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let to = to.to_vec();
        let written = self
            .write(move |c| {
                let Some(alarm) = load_alarm(c, id)? else {
                    return Err(StoreError::NotFound);
                };
                // Claimed by the database: a second caller for the same step changes nothing.
                if !escalation_due(&alarm, step) {
                    return Ok(None);
                }
                let (names_json, detail) = escalation_record(&alarm, step, &to)?;
                c.execute(
                "UPDATE alarms SET escalation_step = ?1, escalated_to = ?2, version = version + 1
                 WHERE id = ?3 AND escalation_step = ?4 AND status = 'open'",
                params![step, names_json, id.to_string(), step - 1],
            )?;
                add_event(c, id, now, EventKind::Escalated.as_str(), "server", &detail)?;
                Ok(Some(load_alarm(c, id)?.ok_or(StoreError::NotFound)?))
            })
            .await;
        self.feed.after_commit(written)
    }

    async fn mark_shown(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let officer = officer.clone();
        self.write(move |c| {
            load_alarm(c, id)?
                .filter(|a| a.region_id == officer.region_id)
                .ok_or(StoreError::NotFound)?;
            let seen: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM alarm_events
                    WHERE alarm_id = ?1 AND region_id = ?3 AND kind = 'shown' AND actor = ?2)",
                params![id.to_string(), officer.display_name, officer.region_id],
                |r| r.get(0),
            )?;
            if seen {
                return Ok(false);
            }
            add_event(
                c,
                id,
                now,
                EventKind::Shown.as_str(),
                &officer.display_name,
                "",
            )?;
            Ok(true)
        })
        .await
    }

    async fn add_alarm_event(
        &self,
        region_id: &str,
        id: Uuid,
        event: &AlarmEvent,
    ) -> Result<(), StoreError> {
        let (region, event) = (region_id.to_string(), event.clone());
        self.write(move |c| {
            let alarm = load_alarm(c, id)?
                .filter(|a| a.region_id == region)
                .ok_or(StoreError::NotFound)?;
            add_event(
                c,
                alarm.id,
                event.at,
                &event.kind,
                &event.actor,
                &event.detail,
            )?;
            Ok(())
        })
        .await
    }

    async fn add_alarm_message(
        &self,
        region_id: &str,
        alarm_id: Uuid,
        device: Option<Uuid>,
        message: &AlarmMessage,
    ) -> Result<(Alarm, bool), StoreError> {
        let (region, message) = (region_id.to_string(), message.clone());
        let written = self
            .write(move |c| {
                let alarm = load_alarm(c, alarm_id)?
                    .filter(|a| a.region_id == region)
                    .filter(|a| device.is_none_or(|d| a.device_id == d))
                    .ok_or(StoreError::NotFound)?;
                if let Some(stored) = alarm.messages.iter().find(|m| m.id == message.id) {
                    same_message(stored, &message)?;
                    return Ok((alarm, false));
                }
                let taken: bool = c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM alarm_messages WHERE id = ?1)",
                    [message.id.to_string()],
                    |r| r.get(0),
                )?;
                if taken {
                    return Err(StoreError::Conflict(
                        "this message id was already used for another message".into(),
                    ));
                }
                message_allowed(&alarm)?;
                c.execute(
                    "INSERT INTO alarm_messages (id, alarm_id, region_id, sender, author, text, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        message.id.to_string(),
                        alarm_id.to_string(),
                        region,
                        message.from.as_str(),
                        message.author,
                        message.text,
                        ts(message.at)
                    ],
                )?;
                add_event(
                    c,
                    alarm_id,
                    message.at,
                    message.from.event_kind().as_str(),
                    &message.author,
                    &message.text,
                )?;
                c.execute(
                    "UPDATE alarms SET version = version + 1 WHERE id = ?1",
                    [alarm_id.to_string()],
                )?;
                let alarm = load_alarm(c, alarm_id)?.ok_or(StoreError::NotFound)?;
                Ok((alarm, true))
            })
            .await;
        self.feed.after_commit(written)
    }
}
