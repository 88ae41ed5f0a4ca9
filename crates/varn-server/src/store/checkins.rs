//! The check-in aggregate.

use super::*;

/// A check-in ("Jag är på plats") with its deadline: the server's dead man's switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkin {
    /// The client's UUIDv7.
    pub id: Uuid,
    /// Region.
    pub region_id: String,
    /// The device that checked in.
    pub device_id: Uuid,
    /// The person's name.
    pub who: String,
    /// When the person checked in (device clock).
    pub started_at: DateTime<Utc>,
    /// When the person must have checked out.
    pub deadline: DateTime<Utc>,
    /// The meeting.
    pub meeting: String,
    /// The place.
    pub place: String,
    /// The revision held (extensions raise it).
    pub revision: u32,
    /// Where it stands.
    pub status: CheckinStatus,
    /// When the server first stored it.
    pub received_at: DateTime<Utc>,
    /// When the person checked out.
    pub checked_out_at: Option<DateTime<Utc>>,
    /// How it went.
    pub outcome: Option<CheckoutOutcome>,
    /// The alarm raised when the deadline passed.
    pub alarm_id: Option<Uuid>,
}

impl Checkin {
    /// The receipt the device sees.
    pub fn receipt(&self) -> CheckinReceipt {
        CheckinReceipt {
            id: self.id,
            status: self.status,
            deadline: self.deadline,
            revision: self.revision,
            received_at: self.received_at,
            checked_out_at: self.checked_out_at,
            alarm_id: self.alarm_id,
        }
    }

    /// The id of the alarm a missed deadline raises: derived from the check-in's, so that
    /// however many instances or retries try, it is one alarm.
    pub fn alarm_id_for(id: Uuid) -> Uuid {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"varn:checkin-overdue:")
            .chain_update(id.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

/// Check-ins and the alarm a missed check-out raises.
#[async_trait]
pub trait CheckinStore: Send + Sync {
    /// Stores a check-in or a newer revision of it (an extension). An older revision, or any
    /// change once it is no longer active, changes nothing. Returns it and whether this call
    /// changed it.
    async fn put_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckinRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, bool), StoreError>;

    /// Checks out (idempotent). After a missed deadline the check-out is recorded on the
    /// check-in and on its alarm's timeline, and the alarm stays until acknowledged; that
    /// alarm is returned when its timeline changed.
    async fn checkout_checkin(
        &self,
        device: &Device,
        id: Uuid,
        req: &CheckoutRequest,
        now: DateTime<Utc>,
    ) -> Result<(Checkin, Option<Alarm>), StoreError>;

    /// One check-in, if it is in the region.
    async fn checkin(&self, region_id: &str, id: Uuid) -> Result<Option<Checkin>, StoreError>;

    /// The region's check-ins a dashboard shows: active ones, and missed ones not checked out.
    async fn open_checkins(&self, region_id: &str) -> Result<Vec<Checkin>, StoreError>;

    /// Active check-ins whose deadline is at or before `now`, in every region.
    async fn overdue_checkins(&self, now: DateTime<Utc>) -> Result<Vec<Checkin>, StoreError>;

    /// Marks a check-in overdue and raises its alarm in the same transaction — only if it is
    /// still active and its deadline has passed, so it happens once however many try.
    /// Returns the alarm when this call raised it.
    async fn raise_overdue_checkin(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Alarm>, StoreError>;
}
