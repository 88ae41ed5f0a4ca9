//! The region's follow-up: a report's follow-up changes, the audit log, and deletion.

use super::*;

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
    /// Signed in to the dashboard (the item: how, `password` or `oidc`).
    SignIn,
    /// Signed in with the break-glass account (password and TOTP code).
    BreakGlass,
    /// The identity provider no longer signed the officer in; the session ended (the item:
    /// why).
    SessionEnded,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 18] = [
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
        AuditAction::SignIn,
        AuditAction::BreakGlass,
        AuditAction::SessionEnded,
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
            AuditAction::SignIn => "sign_in",
            AuditAction::BreakGlass => "break_glass",
            AuditAction::SessionEnded => "session_ended",
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
    /// The officer's role when it was done (`läsare`, `handläggare`).
    pub role: String,
    /// The identity provider's subject for the officer, when the provider signed them in.
    pub subject: String,
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
            role: officer.role.as_str().into(),
            subject: officer.subject.clone().unwrap_or_default(),
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
