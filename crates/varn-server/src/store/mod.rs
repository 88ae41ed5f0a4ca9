//! Storage behind a small trait, so a region that outgrows one machine can swap SQLite for
//! PostgreSQL without touching the handlers. Every method is one transaction: it either
//! happens completely and durably, or not at all.

pub mod backup;
pub mod migrations;
pub mod postgres;
mod rules;
pub mod sqlite;

pub use rules::{session_live, CENTRE_KINDS, MAX_MESSAGES_PER_ALARM, SESSION_TOUCH_EVERY};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;
use varn_core::stats::{AlarmFacts, ReportFacts};
use varn_core::wire::{
    AlarmMessage, AlarmReceipt, AlarmRequest, AlarmStatus, AttachmentMeta, CancelRequest,
    CheckinReceipt, CheckinRequest, CheckinStatus, CheckoutOutcome, CheckoutRequest, Followup,
    FollowupState, ReportReceipt, ReportRequest, Role, TimelineEntry, UploadStatus,
};

/// A device (one person's app) as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// The device's id.
    pub id: Uuid,
    /// Its region.
    pub region_id: String,
    /// The person's name.
    pub name: String,
    /// The person's role.
    pub role: Role,
    /// When it was enrolled.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked device is refused at once.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked it: the region, or the person unlinking the app.
    pub revoked_by: Option<Revoker>,
}

/// Who ended a device's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revoker {
    /// The region (`varn-server revoke`).
    Region,
    /// The person, unlinking the app in its settings.
    Person,
}

impl Revoker {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Revoker::Region => "region",
            Revoker::Person => "person",
        }
    }

    /// From the stored name (rows from before it was recorded were revoked by the region).
    pub fn parse(s: Option<&str>) -> Option<Revoker> {
        match s {
            Some("person") => Some(Revoker::Person),
            Some(_) => Some(Revoker::Region),
            None => None,
        }
    }
}

/// A security officer's login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Officer {
    /// The officer's id.
    pub id: Uuid,
    /// The region whose alarms and reports the officer sees.
    pub region_id: String,
    /// Login name.
    pub username: String,
    /// Name shown on acknowledgements.
    pub display_name: String,
    /// Argon2id hash in PHC format.
    #[serde(skip)]
    pub password_hash: String,
    /// When the login was disabled; a disabled officer cannot log in and has no sessions.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A dashboard session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose.
    pub officer: Officer,
    /// When it ends however much it is used.
    pub expires_at: DateTime<Utc>,
    /// When the dashboard was last seen using it.
    pub last_seen_at: DateTime<Utc>,
}

/// A change to an officer's login. Each one but [`OfficerChange::Enable`] ends the officer's
/// sessions in the same transaction, so an open dashboard is logged out at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficerChange {
    /// No more logins, from `at`.
    Disable(DateTime<Utc>),
    /// Logins again.
    Enable,
    /// A new password (its Argon2id hash).
    Password(String),
    /// The login removed (what the officer did stays in the timelines, by name).
    Remove,
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
    /// The last answer from the centre.
    pub last_answer_at: Option<DateTime<Utc>>,
    /// Since when it has not answered, if it does not.
    pub down_since: Option<DateTime<Utc>>,
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

/// One entry of an alarm's append-only timeline (the same shape the device API sends).
pub type AlarmEvent = TimelineEntry;

/// A report as the dashboard lists it, with its newest revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The report's id.
    pub id: Uuid,
    /// Region.
    pub region_id: String,
    /// The device that sent it.
    pub device_id: Uuid,
    /// The person's name.
    pub who: String,
    /// The newest revision's number.
    pub revision: u32,
    /// The newest revision's content.
    pub body: serde_json::Value,
    /// When the first revision arrived.
    pub first_received_at: DateTime<Utc>,
    /// When the newest revision arrived.
    pub updated_at: DateTime<Utc>,
    /// Its attachments.
    pub attachments: Vec<Attachment>,
    /// The region's follow-up.
    pub followup: Followup,
    /// The report's own timeline (received, revised, taken, message, closed); filled when
    /// one report is read, empty in lists.
    pub timeline: Vec<TimelineEntry>,
}

/// What an officer does to a report's follow-up: take it, write the person a message, close
/// it (with a note for the region), or take it up again.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowupChange {
    /// The state asked for: `taken` or `closed`.
    pub state: FollowupState,
    /// A message to the person (replaces the earlier one), if any.
    #[serde(default)]
    pub message: Option<String>,
    /// On closing: what was done, for the region (not shown to the person).
    #[serde(default)]
    pub note: String,
}

/// What an officer did that the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Read a report.
    ReadReport,
    /// Opened an attachment.
    ReadAttachment,
    /// Read an alarm's timeline (also the answer to a note, which is the timeline).
    ReadTimeline,
    /// Exported an alarm's timeline as text.
    ExportTimeline,
    /// Changed a report's follow-up.
    FollowUp,
    /// Read the statistics.
    ReadStatistics,
    /// Exported the statistics as CSV.
    ExportStatistics,
    /// Read one alarm whole: its messages and the person's instructions (also the answer to
    /// an acknowledgement or a message, which is the alarm).
    ReadAlarm,
    /// Read the list of alarms (the ids it returned).
    ReadAlarmList,
    /// Opened the live feed (the ids of its first list).
    OpenLiveFeed,
    /// What a live feed sent after its first list, written when it ends (the ids).
    LiveFeedSent,
    /// Read the list of reports (the ids it returned).
    ReadReportList,
    /// Read the open check-ins (the ids it returned).
    ReadCheckins,
    /// Read the region's devices (the ids it returned).
    ReadDevices,
    /// Put a backup in place of the database (`varn-server restore`; every region's, so its
    /// region is empty).
    RestoreDatabase,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 15] = [
        AuditAction::ReadReport,
        AuditAction::ReadAttachment,
        AuditAction::ReadTimeline,
        AuditAction::ExportTimeline,
        AuditAction::FollowUp,
        AuditAction::ReadStatistics,
        AuditAction::ExportStatistics,
        AuditAction::ReadAlarm,
        AuditAction::ReadAlarmList,
        AuditAction::OpenLiveFeed,
        AuditAction::LiveFeedSent,
        AuditAction::ReadReportList,
        AuditAction::ReadCheckins,
        AuditAction::ReadDevices,
        AuditAction::RestoreDatabase,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ReadReport => "read_report",
            AuditAction::ReadAttachment => "read_attachment",
            AuditAction::ReadTimeline => "read_timeline",
            AuditAction::ExportTimeline => "export_timeline",
            AuditAction::FollowUp => "follow_up",
            AuditAction::ReadStatistics => "read_statistics",
            AuditAction::ExportStatistics => "export_statistics",
            AuditAction::ReadAlarm => "read_alarm",
            AuditAction::ReadAlarmList => "read_alarm_list",
            AuditAction::OpenLiveFeed => "open_live_feed",
            AuditAction::LiveFeedSent => "live_feed_sent",
            AuditAction::ReadReportList => "read_report_list",
            AuditAction::ReadCheckins => "read_checkins",
            AuditAction::ReadDevices => "read_devices",
            AuditAction::RestoreDatabase => "restore_database",
        }
    }

    /// The action of a stored name (an unknown one reads as itself in the log's text).
    pub fn parse(s: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One line of the audit log: who did what to which item, when. Append-only (the database
/// refuses updates and deletes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The officer's region.
    pub region_id: String,
    /// The officer's user name.
    pub officer: String,
    /// What was done (an [`AuditAction`]'s name).
    pub action: String,
    /// What kind of item: `report`, `attachment`, `alarm`, `statistics`.
    pub item_kind: String,
    /// The item's id (for statistics, the months; for a list, which list).
    pub item_id: String,
    /// For a list or a feed: the ids of what it returned, space-separated.
    pub items: String,
}

impl AuditEntry {
    /// An entry for `officer` doing `action` to an item now.
    pub fn new(
        officer: &Officer,
        action: AuditAction,
        item_kind: &str,
        item_id: impl ToString,
        now: DateTime<Utc>,
    ) -> AuditEntry {
        AuditEntry {
            at: now,
            region_id: officer.region_id.clone(),
            officer: officer.username.clone(),
            action: action.as_str().into(),
            item_kind: item_kind.into(),
            item_id: item_id.to_string(),
            items: String::new(),
        }
    }

    /// An entry for `officer` reading a list (`item_kind`) that returned `ids`.
    pub fn list(
        officer: &Officer,
        action: AuditAction,
        item_kind: &str,
        ids: impl IntoIterator<Item = Uuid>,
        now: DateTime<Utc>,
    ) -> AuditEntry {
        let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
        AuditEntry {
            item_id: format!("{} returned", ids.len()),
            items: ids.join(" "),
            ..AuditEntry::new(officer, action, item_kind, "", now)
        }
    }
}

/// Which entries of the audit log to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// One region's (None: every region, for the command line).
    pub region_id: Option<String>,
    /// One item's.
    pub item_id: Option<String>,
    /// From (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// What a retention run removed: counts only, never what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Closed reports deleted, with their revisions and timeline.
    pub reports: u64,
    /// Their attachments, bytes and all.
    pub attachments: u64,
    /// Finished alarms deleted, with their timeline (their facts kept), under duress included.
    pub alarms: u64,
    /// Ended check-ins deleted.
    pub checkins: u64,
    /// Expired dashboard sessions deleted.
    pub sessions: u64,
    /// Expired enrollment codes deleted (used or not: the device keeps the name).
    pub enrollment_codes: u64,
}

/// What retention deletes: each kind of row from before its cutoff (none: kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cutoffs {
    /// Closed reports whose follow-up closed before this.
    pub reports: Option<DateTime<Utc>>,
    /// Finished alarms (acknowledged or cancelled) not under duress, received before this;
    /// and ended check-ins last changed before it whose alarm, if they raised one, is gone.
    pub alarms: Option<DateTime<Utc>>,
    /// Finished alarms cancelled under duress, received before this.
    pub duress_alarms: Option<DateTime<Utc>>,
    /// Dashboard sessions and enrollment codes that expired before this.
    pub sessions: Option<DateTime<Utc>>,
}

/// What a chunk does to an upload, decided by the caller from the running SHA-256 (see
/// `crate::uploads`); the store applies it only if the upload is still at the chunk's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkVerdict {
    /// More bytes are to come: keep this running hash state.
    Partial(Vec<u8>),
    /// The last bytes, and the SHA-256 matches: complete.
    Complete,
    /// The last bytes, but the SHA-256 is `actual`: the upload starts again from 0.
    Mismatch {
        /// The SHA-256 of what arrived.
        actual: String,
    },
}

/// An attachment's metadata and upload state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The attachment's id.
    pub id: Uuid,
    /// The report it belongs to.
    pub report_id: Uuid,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Bytes received.
    pub received: u64,
    /// When the last byte arrived and the checksum matched.
    pub complete_at: Option<DateTime<Utc>>,
}

impl Attachment {
    /// Where its upload stands, as the device sees it.
    pub fn status(&self) -> UploadStatus {
        UploadStatus {
            id: self.id,
            offset: self.received,
            size: self.size,
            complete: self.complete_at.is_some(),
        }
    }
}

/// Why a storage call failed.
/// A published app release (without its bundle's bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The version (semantic versioning), which the signature is bound to.
    pub version: String,
    /// What the bundle installs on, as the updater names it: `{os}-{arch}-{bundle type}`
    /// (`linux-x86_64-deb`).
    pub platform: String,
    /// What changed.
    pub notes: String,
    /// The bundle's minisign signature (the `.sig` file's text).
    pub signature: String,
    /// The bundle's SHA-256 (hex), so a copy in memory is known to be this one.
    pub sha256: String,
    /// The bundle's size in bytes.
    pub size: u64,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed (disk, corruption, lock); retrying may help.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The thing asked for does not exist (or belongs to another device or region).
    #[error("not found")]
    NotFound,
    /// The id exists but belongs to another device.
    #[error("this id belongs to another device")]
    OtherDevice,
    /// The same revision was sent with different content.
    #[error("revision {revision} was already received with different content")]
    RevisionConflict {
        /// The revision.
        revision: u32,
        /// The newest revision held.
        current: u32,
    },
    /// An attachment was announced again with different metadata.
    #[error("the attachment was announced with different metadata")]
    MetaConflict,
    /// A chunk does not start where the server is.
    #[error("the upload is at offset {expected}")]
    OffsetMismatch {
        /// Where the next chunk must start.
        expected: u64,
    },
    /// A chunk goes past the announced size.
    #[error("the chunk goes past the announced size of {size} bytes")]
    TooLarge {
        /// The announced size.
        size: u64,
    },
    /// All bytes arrived but their SHA-256 differs; the upload was reset to offset 0.
    #[error("the SHA-256 of the received bytes is {actual}, not {expected}; upload again")]
    ChecksumMismatch {
        /// Announced.
        expected: String,
        /// Computed.
        actual: String,
    },
    /// Enrollment code unknown.
    #[error("unknown enrollment code")]
    CodeUnknown,
    /// Enrollment code expired.
    #[error("the enrollment code has expired")]
    CodeExpired,
    /// Enrollment code already used.
    #[error("the enrollment code has already been used")]
    CodeUsed,
    /// A unique name is taken.
    #[error("{0} is already taken")]
    Taken(String),
    /// A change that is not allowed, with why.
    #[error("{0}")]
    Invalid(String),
    /// A change that conflicts with what is stored, with why.
    #[error("{0}")]
    Conflict(String),
}

/// Devices, enrollment, officers and their sessions.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Stores a new enrollment code (as its hash).
    async fn create_enrollment(
        &self,
        region_id: &str,
        name: &str,
        role: Role,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Redeems a code (stored under one of `code_hashes`): creates the device with the
    /// token's hash and marks the code used.
    async fn enroll(
        &self,
        code_hashes: &[String],
        token_hash: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError>;

    /// The device a token hash belongs to (revoked ones included; the caller checks).
    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError>;

    /// Revokes a device; returns whether it existed and was not revoked already.
    async fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        by: Revoker,
    ) -> Result<bool, StoreError>;

    /// All devices, or those of one region.
    async fn devices(&self, region_id: Option<&str>) -> Result<Vec<Device>, StoreError>;

    /// Proves the database answers (a trivial read).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates an officer login.
    async fn create_officer(&self, officer: &Officer, now: DateTime<Utc>)
        -> Result<(), StoreError>;

    /// Looks up an officer by login name.
    async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, StoreError>;

    /// The officers of a region, by username.
    async fn officers(&self, region_id: &str) -> Result<Vec<Officer>, StoreError>;

    /// Stores a dashboard session (as the token's hash).
    async fn create_session(
        &self,
        token_hash: &str,
        officer_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// A session by its token's hash, if it exists (the caller applies [`session_live`]).
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;

    /// Marks a session as seen at `now`.
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Changes an officer's login (and ends their sessions unless enabling). Returns the
    /// officer as it was, or `None` when there is no such username.
    async fn change_officer(
        &self,
        username: &str,
        change: &OfficerChange,
    ) -> Result<Option<Officer>, StoreError>;

    /// Sets what the person wants responders to know, shown with their alarms.
    async fn set_instructions(&self, device: Uuid, text: &str) -> Result<(), StoreError>;
}

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

/// Incident reports, their revisions and their follow-up.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores a report revision. An older revision never replaces a newer one, but every
    /// revision received is kept.
    async fn put_report(
        &self,
        device: &Device,
        id: Uuid,
        req: &ReportRequest,
        now: DateTime<Utc>,
    ) -> Result<(ReportReceipt, bool), StoreError>;

    /// One report with its newest revision and attachments.
    async fn report(&self, region_id: &str, id: Uuid) -> Result<Option<Report>, StoreError>;

    /// A device's receipt for its own report.
    async fn report_receipt(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<Option<ReportReceipt>, StoreError>;

    /// The newest reports of a region.
    async fn reports(&self, region_id: &str, limit: u32) -> Result<Vec<Report>, StoreError>;

    /// Changes a report's follow-up as [`followup_plan`] decides, by `officer` (display
    /// name), writing the report's timeline; answers the report as it is now.
    async fn follow_up(
        &self,
        region_id: &str,
        id: Uuid,
        officer: &str,
        change: &FollowupChange,
        now: DateTime<Utc>,
    ) -> Result<Report, StoreError>;
}

/// What the region keeps beside the reports: statistics facts, the audit log, retention.
#[async_trait]
pub trait FollowupStore: Send + Sync {
    /// The facts of a region's reports that happened from `from` to `to` (days, inclusive).
    async fn report_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<ReportFacts>, StoreError>;

    /// The facts of a region's alarms received from `from` to `to` (days, inclusive): the
    /// alarms held and those retention has deleted.
    async fn alarm_facts(
        &self,
        region_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<AlarmFacts>, StoreError>;

    /// Appends to the audit log.
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Reads the audit log, newest first.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Deletes what is past its cutoff ([`Cutoffs`]), keeping the facts of reports and
    /// alarms for the statistics, and then lets go of the deleted bytes: SQLite's WAL is
    /// checkpointed and truncated (deleted pages are zeroed, `secure_delete`), PostgreSQL's
    /// tables are vacuumed.
    async fn purge(&self, cutoffs: Cutoffs) -> Result<Purged, StoreError>;
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

    /// Records whether the centre answers.
    async fn centre_link(
        &self,
        region_id: &str,
        up: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// How the link stands, if the region has a centre.
    async fn centre_status(&self, region_id: &str) -> Result<Option<CentreStatus>, StoreError>;
}

/// Attachments (resumable uploads), published profiles and releases.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Announces an attachment of a device's own report (idempotent).
    async fn create_attachment(
        &self,
        device: &Device,
        report_id: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError>;

    /// Appends a chunk at `offset` and applies `verdict` — only if the upload is still at
    /// `offset` (otherwise [`StoreError::OffsetMismatch`]). A mismatch resets the upload to 0
    /// (committed) and answers [`StoreError::ChecksumMismatch`].
    async fn append_chunk(
        &self,
        device: &Device,
        id: Uuid,
        offset: u64,
        bytes: Vec<u8>,
        verdict: ChunkVerdict,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError>;

    /// A device's own upload with its running hash state (`None` before the first chunk,
    /// or for uploads begun before the state was kept).
    async fn upload(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<(Attachment, Option<Vec<u8>>), StoreError>;

    /// A complete attachment of the region, for an officer.
    async fn attachment(&self, region_id: &str, id: Uuid) -> Result<Attachment, StoreError>;

    /// The stored chunk of an attachment of the region that starts at or after `offset`
    /// (its start and bytes), so that an attachment is read one chunk at a time.
    async fn attachment_chunk(
        &self,
        region_id: &str,
        id: Uuid,
        offset: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Stores a signed region profile (checked by the caller); false when that version of the
    /// region's profile is published already.
    async fn publish_profile(
        &self,
        region_id: &str,
        version: u32,
        signed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The newest published profile of every region (signed profiles' JSON).
    async fn published_profiles(&self) -> Result<Vec<String>, StoreError>;

    /// Stores an app release (its bundle checked by the caller); false when that version is
    /// published already for that platform, whatever its bytes: it is never replaced.
    async fn add_release(&self, release: &Release, bundle: &[u8]) -> Result<bool, StoreError>;

    /// Every published release, without the bundles' bytes.
    async fn releases(&self) -> Result<Vec<Release>, StoreError>;

    /// A published release's bundle for a platform.
    async fn release_bundle(
        &self,
        version: &str,
        platform: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;
}

/// What the region server stores, one trait per aggregate. One transaction per call.
/// Callers of a `dyn Store` bring the traits into scope with `use crate::store::prelude::*`.
#[async_trait]
pub trait Store:
    AccessStore
    + AlarmStore
    + CheckinStore
    + ReportStore
    + FollowupStore
    + CentreStore
    + FileStore
    + 'static
{
    /// Closes the database at a graceful stop, after the last request (SQLite: every
    /// connection, so that no `-wal` is left beside the file).
    async fn close(&self) {}

    /// Alarm changes made by other server instances sharing this database, for this
    /// instance's dashboards. `None` when no other instance can share it.
    fn remote_alarms(&self) -> Option<broadcast::Receiver<Alarm>> {
        None
    }
}

/// The store's traits, so that their calls on a `dyn Store` resolve.
pub mod prelude {
    pub use super::{
        AccessStore, AlarmStore, CentreStore, CheckinStore, FileStore, FollowupStore, ReportStore,
        Store,
    };
}

/// Where the data lives: a SQLite file (one machine) or a PostgreSQL database shared by
/// several instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else is a file path.
    pub fn parse(s: &str) -> Database {
        let lower = s.trim().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres(s.trim().to_string())
        } else {
            Database::Sqlite(PathBuf::from(s))
        }
    }

    /// The SQLite file, if it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }

    /// Opens (and migrates) it. For PostgreSQL, `access` gives the password when the URL has
    /// none, and the CA that signed the database's certificate (with `sslmode=require`).
    pub async fn open(&self, access: &DatabaseAccess) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            Database::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open(path)?)),
            Database::Postgres(url) => {
                let connect = postgres::parse_url(
                    url,
                    access.password.as_deref(),
                    access.ca_file.as_deref(),
                )?;
                Ok(postgres::PgStore::open(connect).await?)
            }
        }
    }
}

/// What a PostgreSQL connection needs besides its URL.
#[derive(Debug, Clone, Default)]
pub struct DatabaseAccess {
    /// The password (from `VARN_SERVER_DATABASE_PASSWORD`), when the URL has none.
    pub password: Option<String>,
    /// The CA certificate (PEM) that signed the database's certificate, for a private CA.
    pub ca_file: Option<PathBuf>,
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl std::fmt::Display for Database {
    /// For logs and messages: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => match url.parse::<reqwest::Url>() {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => write!(f, "a PostgreSQL URL"),
            },
        }
    }
}
