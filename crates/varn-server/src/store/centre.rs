//! The alarm centre's outbox: the events it is sent, how its link stands.

use super::*;

/// A timeline entry the alarm centre has not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreEvent {
    /// The entry's sequence number.
    pub seq: i64,
    /// Its alarm.
    pub alarm_id: Uuid,
    /// The entry's kind.
    pub kind: String,
    /// A drill's.
    pub drill: bool,
    /// The device (the person's id for the centre).
    pub device_id: Uuid,
    /// The place the person gave.
    pub place: String,
}

/// How the link to a region's alarm centre stands, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CentreStatus {
    /// The last answer from the centre (any receiver).
    pub last_answer_at: Option<DateTime<Utc>>,
    /// Since when no receiver has answered, if none does.
    pub down_since: Option<DateTime<Utc>>,
    /// Each receiver, the primary first.
    pub receivers: Vec<ReceiverState>,
}

/// The receivers' states as stored (JSON); what cannot be read is shown as none.
pub(crate) fn receivers_of(json: &str) -> Vec<ReceiverState> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The receivers' states to store, as [`receivers_of`] reads them.
pub(crate) fn receivers_json(receivers: &[ReceiverState]) -> String {
    serde_json::to_string(receivers).unwrap_or_else(|_| "[]".into())
}

/// How one receiver of the centre stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverState {
    /// *primär*, *reserv 1*, …
    pub name: String,
    /// It answered the last message or supervision sent to it; `None` before any.
    pub up: Option<bool>,
    /// Messages go to it now.
    pub active: bool,
    /// Since when it has stood so.
    pub since: DateTime<Utc>,
}

/// The alarm centre's outbox (the timeline) and what it answered.
#[async_trait]
pub trait CentreStore: Send + Sync {
    /// When the region's alarm centre was first configured (set now if never): older
    /// events are not sent.
    async fn centre_since(
        &self,
        region_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError>;

    /// Takes or renews the right to send for the region's centre until `until`; false while
    /// another instance holds it.
    async fn centre_lease(
        &self,
        region_id: &str,
        holder: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The region's timeline entries for the centre ([`CENTRE_KINDS`]) since `since` that it
    /// has not answered, oldest first.
    async fn centre_pending(
        &self,
        region_id: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CentreEvent>, StoreError>;

    /// Records the centre's answer to an entry (once); an ACK of the alarm itself sets when
    /// the centre received it, a refusal when it refused; both go on the timeline and raise
    /// the alarm's version. Answers the alarm when it changed.
    async fn centre_record(
        &self,
        region_id: &str,
        seq: i64,
        alarm_id: Uuid,
        answer: &str,
        taken: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError>;

    /// Records whether the centre answers (on any receiver), and how each receiver stands.
    async fn centre_link(
        &self,
        region_id: &str,
        up: bool,
        receivers: &[ReceiverState],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// How the link stands, if the region has a centre.
    async fn centre_status(&self, region_id: &str) -> Result<Option<CentreStatus>, StoreError>;
}
