//! The incident report on the wire: its kinds, its text and follow-up fields, the request, the receipt and the region's follow-up.

use super::*;

/// The kinds of incident the app records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Hot på plats.
    OnSite,
    /// Telefon.
    Phone,
    /// Brev.
    Letter,
    /// Mail/SMS.
    MailSms,
    /// Sociala medier.
    SocialMedia,
    /// Våld.
    Violence,
    /// Annat.
    Other,
}

/// An incident report as the region receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentReport {
    /// What kind of incident.
    pub kind: Option<IncidentKind>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Where.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub place: String,
    /// Who was involved (a description).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_text))]
    pub involved: String,
    /// Vad hände innan.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_text))]
    pub before: String,
    /// Vad hände under.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_text))]
    pub during: String,
    /// Vad gjorde vi.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_text))]
    pub actions: String,
    /// Witnesses.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_text))]
    pub witnesses: String,
    /// Whether it has been reported to the police.
    #[serde(default)]
    pub police_reported: bool,
    /// When it was reported to the police.
    pub police_reported_at: Option<DateTime<Utc>>,
    /// The police report's number.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub police_report_number: String,
    /// Whether it has been reported to the region otherwise.
    #[serde(default)]
    pub reported_to_region: bool,
    /// Ids of the EFTER checklist items ticked for this incident.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::checklist))]
    pub checklist: Vec<String>,
    /// Attachments (uploaded separately).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::attachments))]
    pub attachments: Vec<Uuid>,
    /// The alarm this incident followed, if any.
    pub alarm_id: Option<Uuid>,
    /// The region's follow-up fields (PTU's categories), all optional. Left out when empty,
    /// so a report written before they existed is the same JSON as before.
    #[serde(flatten)]
    pub followup: FollowupFields,
}

/// The fields a region's follow-up and statistics need, in PTU's categories
/// (see [`crate::ptu`]); each may stay unanswered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FollowupFields {
    /// PTU's kind of event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventType>,
    /// How it reached the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Of a sexual character.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sexual: Option<bool>,
    /// It has happened before (false: the first time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeated: Option<bool>,
    /// Who did it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perpetrator: Option<Perpetrator>,
    /// What it led to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::consequences))]
    pub consequences: Vec<Consequence>,
    /// Why it was not reported to the police (only when it was not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_reported_reason: Option<NotReportedReason>,
}

impl FollowupFields {
    /// Sorts and de-duplicates the consequences, and drops a reason for not reporting from a
    /// report that was reported.
    pub fn normalised(mut self, police_reported: bool) -> FollowupFields {
        self.consequences.sort();
        self.consequences.dedup();
        if police_reported {
            self.not_reported_reason = None;
        }
        self
    }
}

/// `PUT /v1/reports/{id}`: one revision of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// Revision number, 1 for the first; each edit after sending makes a new one.
    #[serde(deserialize_with = "whole_number")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::revision))]
    pub revision: u32,
    /// The content.
    pub report: IncidentReport,
}

/// What the server holds for a report after a `PUT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportReceipt {
    /// The report's id.
    pub id: Uuid,
    /// The revision this answer is about.
    pub revision: u32,
    /// When the server received that revision.
    pub received_at: DateTime<Utc>,
    /// The newest revision the server holds (never lower than `revision`).
    pub current_revision: u32,
    /// How the region follows the report up, once an officer has taken it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup: Option<Followup>,
}

/// Where the region's follow-up of a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FollowupState {
    /// Ny: nobody has taken it yet.
    New,
    /// Under uppföljning: an officer has taken it.
    Taken,
    /// Avslutad: followed up and closed.
    Closed,
}

impl FollowupState {
    /// Every state, in order.
    pub const ALL: [FollowupState; 3] = [
        FollowupState::New,
        FollowupState::Taken,
        FollowupState::Closed,
    ];

    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowupState::New => "new",
            FollowupState::Taken => "taken",
            FollowupState::Closed => "closed",
        }
    }

    /// The state of that name, if it is one.
    pub fn parse(s: &str) -> Option<FollowupState> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the person sees of the region's follow-up of their report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Followup {
    /// Where it stands.
    pub state: FollowupState,
    /// The officer who took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The officer's message to the person ("Jag ringer dig i morgon förmiddag. /Hanna").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// When it last changed.
    pub at: DateTime<Utc>,
}

impl ReportRequest {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.revision == 0 {
            return Err(WireError::Invalid {
                field: "revision",
                message: "starts at 1".into(),
            });
        }
        let r = &self.report;
        check_text("report.place", &r.place, MAX_SHORT_CHARS)?;
        check_text("report.involved", &r.involved, MAX_REPORT_TEXT_CHARS)?;
        check_text("report.before", &r.before, MAX_REPORT_TEXT_CHARS)?;
        check_text("report.during", &r.during, MAX_REPORT_TEXT_CHARS)?;
        check_text("report.actions", &r.actions, MAX_REPORT_TEXT_CHARS)?;
        check_text("report.witnesses", &r.witnesses, MAX_REPORT_TEXT_CHARS)?;
        check_text(
            "report.police_report_number",
            &r.police_report_number,
            MAX_SHORT_CHARS,
        )?;
        if r.checklist.len() > MAX_CHECKLIST_ITEMS || r.attachments.len() > MAX_ATTACHMENTS {
            return Err(WireError::Invalid {
                field: "report",
                message: "too many checklist items or attachments".into(),
            });
        }
        for item in &r.checklist {
            check_text("report.checklist", item, MAX_SHORT_CHARS)?;
        }
        if r.followup.consequences.len() > crate::ptu::Consequence::ALL.len() {
            return Err(WireError::Invalid {
                field: "report.consequences",
                message: format!("at most {} items", crate::ptu::Consequence::ALL.len()),
            });
        }
        Ok(())
    }
}
