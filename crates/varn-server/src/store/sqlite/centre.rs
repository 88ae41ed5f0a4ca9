//! The alarm centre's outbox (the timeline) and what it answered.

use super::*;
use crate::store::{receivers_json, receivers_of, ReceiverState};

#[async_trait]
impl crate::store::CentreStore for SqliteStore {
    async fn centre_since(
        &self,
        region_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let region = region_id.to_string();
        self.write(move |c| {
            c.execute(
                "INSERT INTO centre_state (region_id, since) VALUES (?1, ?2) ON CONFLICT (region_id) DO NOTHING",
                params![region, ts(now)],
            )?;
            let since: String = c.query_row(
                "SELECT since FROM centre_state WHERE region_id = ?1",
                [&region],
                |r| r.get(0),
            )?;
            Ok(parse_ts(&since)?)
        })
        .await
    }

    async fn centre_lease(
        &self,
        region_id: &str,
        holder: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let region = region_id.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE centre_state SET lease_holder = ?2, lease_until = ?4 WHERE region_id = ?1
                   AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_until < ?3)",
                params![region, holder.to_string(), ts(now), ts(until)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn centre_pending(
        &self,
        region_id: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CentreEvent>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let kinds = CENTRE_KINDS.map(|k| format!("'{k}'")).join(", ");
            let mut stmt = c.prepare_cached(&format!(
                "SELECT e.seq, e.alarm_id, e.kind, a.drill, a.device_id, a.place
                 FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id
                 WHERE e.region_id = ?1 AND e.at >= ?2 AND e.kind IN ({kinds})
                   AND NOT EXISTS (SELECT 1 FROM centre_sent s WHERE s.event_seq = e.seq)
                 ORDER BY e.seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![region, ts(since), limit], |r| {
                Ok(CentreEvent {
                    seq: r.get(0)?,
                    alarm_id: parse_uuid(&r.get::<_, String>(1)?)?,
                    kind: r.get(2)?,
                    drill: r.get(3)?,
                    device_id: parse_uuid(&r.get::<_, String>(4)?)?,
                    place: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn centre_record(
        &self,
        region_id: &str,
        seq: i64,
        alarm_id: Uuid,
        answer: &str,
        taken: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError> {
        let (region, answer) = (region_id.to_string(), answer.to_string());
        let written = self.write(move |c| {
            let added = c.execute(
                "INSERT INTO centre_sent (event_seq, region_id, answer, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (event_seq) DO NOTHING",
                params![seq, region, answer, ts(now)],
            )?;
            if added == 0 {
                return Ok(None);
            }
            let kind: String = c.query_row(
                "SELECT kind FROM alarm_events WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )?;
            let Some(outcome) = centre_outcome(taken, &kind, &answer) else {
                return Ok(None);
            };
            let (entry, detail) = &outcome.entry;
            add_event(c, alarm_id, now, entry, "larmcentral", detail)?;
            if outcome.received {
                c.execute(
                    "UPDATE alarms SET centre_received_at = COALESCE(centre_received_at, ?2) WHERE id = ?1",
                    params![alarm_id.to_string(), ts(now)],
                )?;
            }
            if outcome.refused {
                c.execute(
                    "UPDATE alarms SET centre_refused_at = ?2 WHERE id = ?1",
                    params![alarm_id.to_string(), ts(now)],
                )?;
            }
            c.execute(
                "UPDATE alarms SET version = version + 1 WHERE id = ?1",
                [alarm_id.to_string()],
            )?;
            Ok(load_alarm(c, alarm_id)?)
        })
        .await;
        self.feed.after_commit(written)
    }

    async fn centre_link(
        &self,
        region_id: &str,
        up: bool,
        receivers: &[ReceiverState],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let region = region_id.to_string();
        let receivers = receivers_json(receivers);
        self.write(move |c| {
            if up {
                c.execute(
                    "UPDATE centre_state SET last_answer_at = ?2, down_since = NULL, receivers = ?3
                     WHERE region_id = ?1",
                    params![region, ts(now), receivers],
                )?;
            } else {
                c.execute(
                    "UPDATE centre_state SET down_since = COALESCE(down_since, ?2), receivers = ?3
                     WHERE region_id = ?1",
                    params![region, ts(now), receivers],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn centre_status(&self, region_id: &str) -> Result<Option<CentreStatus>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT last_answer_at, down_since, receivers FROM centre_state WHERE region_id = ?1",
                [region],
                |r| {
                    Ok(CentreStatus {
                        last_answer_at: opt_ts(r.get(0)?)?,
                        down_since: opt_ts(r.get(1)?)?,
                        receivers: receivers_of(&r.get::<_, String>(2)?),
                    })
                },
            )
            .optional()?)
        })
        .await
    }
}
