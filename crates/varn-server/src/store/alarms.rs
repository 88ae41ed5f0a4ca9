//! The alarm aggregate: an alarm, its timeline entries, and what stores them.

use super::*;

/// How many changes a listener may fall behind before it is told it lagged.
const FEED_CAPACITY: usize = 4096;

/// The one place an alarm's change is announced: each backend holds one and sends to it
/// right after the commit that changed the alarm ([`Store::alarm_changes`] listens).
#[derive(Clone)]
pub struct AlarmFeed(broadcast::Sender<Arc<Alarm>>);

impl Default for AlarmFeed {
    fn default() -> Self {
        AlarmFeed(broadcast::channel(FEED_CAPACITY).0)
    }
}

impl AlarmFeed {
    /// Announces a committed change (no listener is not an error: nobody is watching).
    pub fn changed(&self, alarm: Alarm) {
        let _ = self.0.send(Arc::new(alarm));
    }

    /// Listens to every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Alarm>> {
        self.0.subscribe()
    }

    /// Hands on a committed write's result, announcing the alarm it changed, if any.
    pub fn after_commit<T: ChangesAlarm>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Ok(v) = &r {
            if let Some(alarm) = v.changed_alarm() {
                self.changed(alarm.clone());
            }
        }
        r
    }
}

/// What a write that may change an alarm returns, and which alarm it changed.
pub trait ChangesAlarm {
    /// The alarm as it now stands, when this write changed it.
    fn changed_alarm(&self) -> Option<&Alarm>;
}

/// An alarm and whether this call changed (or created) it.
impl ChangesAlarm for (Alarm, bool) {
    fn changed_alarm(&self) -> Option<&Alarm> {
        self.1.then_some(&self.0)
    }
}

/// The alarm a write changed, or none.
impl ChangesAlarm for Option<Alarm> {
    fn changed_alarm(&self) -> Option<&Alarm> {
        self.as_ref()
    }
}

/// Something else a write changed, and the alarm it changed on the way (a check-out that
/// ended in an alarm).
impl<T> ChangesAlarm for (T, Option<Alarm>) {
    fn changed_alarm(&self) -> Option<&Alarm> {
        self.1.as_ref()
    }
}

/// An alarm with everything a dashboard shows (and what instances tell each other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    /// The client's UUIDv7.
    pub id: Uuid,
    /// Region.
    pub region_id: String,
    /// The device that raised it.
    pub device_id: Uuid,
    /// The person's name (from enrollment).
    pub who: String,
    /// When the button was pressed (device clock).
    pub triggered_at: DateTime<Utc>,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
    /// The meeting the person gave.
    pub meeting: String,
    /// The place the person gave.
    pub place: String,
    /// Free text.
    pub message: String,
    /// Where it stands.
    pub status: AlarmStatus,
    /// When acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// By whom.
    pub acknowledged_by: Option<String>,
    /// When cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why cancelled.
    pub cancel_reason: Option<String>,
    /// Increases with every change.
    pub version: i64,
    /// A drill ("Testlarm"): shown as TEST, never escalated.
    pub drill: bool,
    /// How many times the server has escalated it because nobody acknowledged.
    pub escalation_step: u32,
    /// Who has been alerted by those escalations, in order.
    pub escalated_to: Vec<String>,
    /// When the person cancelled it with the duress PIN: forced to cancel, so it stays open
    /// and comes first on the dashboard.
    pub duress_at: Option<DateTime<Utc>>,
    /// The silent conversation between officers and the person, oldest first.
    #[serde(default)]
    pub messages: Vec<AlarmMessage>,
    /// What the person wants responders to know (from the app's settings).
    #[serde(default)]
    pub instructions: String,
    /// When the region's alarm centre confirmed the alarm (DC-09 ACK).
    #[serde(default)]
    pub centre_received_at: Option<DateTime<Utc>>,
    /// When the alarm centre refused one of its events.
    #[serde(default)]
    pub centre_refused_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
impl Alarm {
    /// An open alarm of device 1 in region "r", raised now: for unit tests to vary.
    pub(crate) fn example() -> Alarm {
        let now = Utc::now();
        Alarm {
            id: Uuid::from_u128(9),
            region_id: "r".into(),
            device_id: Uuid::from_u128(1),
            who: "Anna".into(),
            triggered_at: now,
            received_at: now,
            meeting: String::new(),
            place: String::new(),
            message: String::new(),
            status: AlarmStatus::Open,
            acknowledged_at: None,
            acknowledged_by: None,
            cancelled_at: None,
            cancel_reason: None,
            version: 1,
            drill: false,
            escalation_step: 0,
            escalated_to: Vec::new(),
            duress_at: None,
            messages: Vec::new(),
            instructions: String::new(),
            centre_received_at: None,
            centre_refused_at: None,
        }
    }
}

impl Alarm {
    /// The receipt the device sees.
    pub fn receipt(&self) -> AlarmReceipt {
        AlarmReceipt {
            id: self.id,
            status: self.status,
            received_at: self.received_at,
            acknowledged_at: self.acknowledged_at,
            acknowledged_by: self.acknowledged_by.clone(),
            cancelled_at: self.cancelled_at,
            version: self.version,
            drill: self.drill,
            escalated_to: self.escalated_to.clone(),
            duress: self.duress_at.is_some(),
            // Whoever forced the duress cancel must see nothing of the conversation.
            messages: if self.duress_at.is_some() {
                Vec::new()
            } else {
                self.messages.clone()
            },
            centre_received_at: self.centre_received_at,
        }
    }
}

/// One entry of an alarm's append-only timeline (the same shape the device API sends).
pub type AlarmEvent = TimelineEntry;

/// Alarms: raised, cancelled, acknowledged, escalated, and their timelines and messages.
#[async_trait]
pub trait AlarmStore: Send + Sync {
    /// Stores an alarm once. Returns it and whether this call created it.
    async fn put_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &AlarmRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError>;

    /// Cancels a device's own alarm (idempotent). Returns it and whether this call changed it.
    /// A duress cancel (`req.duress`) does not cancel: it marks the alarm as under duress and
    /// leaves it open (or acknowledged) so it keeps escalating until an officer takes it.
    async fn cancel_alarm(
        &self,
        device: &Device,
        id: Uuid,
        req: &CancelRequest,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError>;

    /// An officer acknowledges an open alarm of their region (idempotent: the first ack
    /// stays). Returns it and whether this call changed it.
    async fn acknowledge_alarm(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Alarm, bool), StoreError>;

    /// One alarm, if it is in the region.
    async fn alarm(&self, region_id: &str, id: Uuid) -> Result<Option<Alarm>, StoreError>;

    /// The newest alarms of a region.
    async fn alarms(&self, region_id: &str, limit: u32) -> Result<Vec<Alarm>, StoreError>;

    /// An alarm's timeline, oldest first.
    async fn alarm_events(&self, region_id: &str, id: Uuid) -> Result<Vec<AlarmEvent>, StoreError>;

    /// Every open alarm that is not a drill, in every region, oldest first.
    async fn unacknowledged_alarms(&self) -> Result<Vec<Alarm>, StoreError>;

    /// Records escalation `step` (1-based) of an open alarm, alerting `to`: only when the
    /// alarm is still open and has had exactly `step - 1` escalations, so each step happens
    /// once however many callers try. Returns the alarm when this call recorded the step.
    async fn escalate_alarm(
        &self,
        id: Uuid,
        step: u32,
        to: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError>;

    /// Records that an officer's dashboard has shown the alarm, once per officer. Returns
    /// whether this call recorded it.
    async fn mark_shown(
        &self,
        officer: &Officer,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Appends an entry to an alarm's timeline (entries are never changed or removed).
    async fn add_alarm_event(
        &self,
        region_id: &str,
        id: Uuid,
        event: &AlarmEvent,
    ) -> Result<(), StoreError>;

    /// Adds a message to an alarm of the region (`device`: written by that device, whose
    /// alarm it must be), writes it on the timeline and raises the alarm's version so that
    /// long-polls and dashboards see it. The same message again is a repeat; answers the
    /// alarm and whether this call added it.
    async fn add_alarm_message(
        &self,
        region_id: &str,
        alarm_id: Uuid,
        device: Option<Uuid>,
        message: &AlarmMessage,
    ) -> Result<(Alarm, bool), StoreError>;
}
