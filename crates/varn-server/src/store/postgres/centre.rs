//! The alarm centre's outbox (the timeline) and what it answered.

use super::*;
use crate::store::{receivers_json, receivers_of, ReceiverState};

#[async_trait]
impl crate::store::CentreStore for PgStore {
    async fn centre_since(
        &self,
        region_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let c = self.conn().await?;
        c.run(
            "INSERT INTO centre_state (region_id, since) VALUES ($1, $2) ON CONFLICT (region_id) DO NOTHING",
            &[&region_id, &now],
        )
        .await?;
        Ok(c.one(
            "SELECT since FROM centre_state WHERE region_id = $1",
            &[&region_id],
        )
        .await?
        .try_get(0)?)
    }

    async fn centre_lease(
        &self,
        region_id: &str,
        holder: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE centre_state SET lease_holder = $2, lease_until = $4 WHERE region_id = $1
                   AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < $3)",
                &[&region_id, &holder, &now, &until],
            )
            .await?;
        Ok(n == 1)
    }

    async fn centre_pending(
        &self,
        region_id: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CentreEvent>, StoreError> {
        let c = self.conn().await?;
        let kinds: Vec<&str> = CENTRE_KINDS.to_vec();
        c.all(
            "SELECT e.seq, e.alarm_id, e.kind, a.drill, a.device_id, a.place
             FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id
             WHERE e.region_id = $1 AND e.at >= $2 AND e.kind = ANY($3)
               AND NOT EXISTS (SELECT 1 FROM centre_sent s WHERE s.event_seq = e.seq)
             ORDER BY e.seq LIMIT $4",
            &[&region_id, &since, &kinds, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(CentreEvent {
                seq: r.try_get(0)?,
                alarm_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                drill: r.try_get(3)?,
                device_id: r.try_get(4)?,
                place: r.try_get(5)?,
            })
        })
        .collect()
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
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let added = tx
            .run(
                "INSERT INTO centre_sent (event_seq, region_id, answer, at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (event_seq) DO NOTHING",
                &[&seq, &region_id, &answer, &now],
            )
            .await?;
        if added == 0 {
            return Ok(None);
        }
        let kind: String = tx
            .one("SELECT kind FROM alarm_events WHERE seq = $1", &[&seq])
            .await?
            .try_get(0)?;
        let Some(outcome) = centre_outcome(taken, &kind, answer) else {
            tx.commit().await?;
            return Ok(None);
        };
        let (entry, detail) = &outcome.entry;
        add_event(&tx, alarm_id, now, entry, "larmcentral", detail).await?;
        if outcome.received {
            tx.run(
                "UPDATE alarms SET centre_received_at = COALESCE(centre_received_at, $2) WHERE id = $1",
                &[&alarm_id, &now],
            )
            .await?;
        }
        if outcome.refused {
            tx.run(
                "UPDATE alarms SET centre_refused_at = $2 WHERE id = $1",
                &[&alarm_id, &now],
            )
            .await?;
        }
        tx.run(
            "UPDATE alarms SET version = version + 1 WHERE id = $1",
            &[&alarm_id],
        )
        .await?;
        let alarm = load_alarm(&tx, alarm_id, false).await?;
        if let Some(a) = &alarm {
            self.announce(&tx, a).await?;
        }
        tx.commit().await?;
        self.feed.after_commit(Ok(alarm))
    }

    async fn centre_link(
        &self,
        region_id: &str,
        up: bool,
        receivers: &[ReceiverState],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.conn().await?;
        let receivers = receivers_json(receivers);
        if up {
            c.run(
                "UPDATE centre_state SET last_answer_at = $2, down_since = NULL, receivers = $3
                 WHERE region_id = $1",
                &[&region_id, &now, &receivers],
            )
            .await?;
        } else {
            c.run(
                "UPDATE centre_state SET down_since = COALESCE(down_since, $2), receivers = $3
                 WHERE region_id = $1",
                &[&region_id, &now, &receivers],
            )
            .await?;
        }
        Ok(())
    }

    async fn centre_status(&self, region_id: &str) -> Result<Option<CentreStatus>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            "SELECT last_answer_at, down_since, receivers FROM centre_state WHERE region_id = $1",
            &[&region_id],
        )
        .await?
        .map(|r| {
            Ok(CentreStatus {
                last_answer_at: r.try_get(0)?,
                down_since: r.try_get(1)?,
                receivers: receivers_of(r.try_get::<_, &str>(2)?),
            })
        })
        .transpose()
    }
}
