//! The report aggregate: a report as the region holds it.

use super::*;

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
