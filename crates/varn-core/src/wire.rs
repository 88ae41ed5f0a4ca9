//! The JSON the app and the region server exchange, defined once for both.
//!
//! Every alarm and report carries a client-generated UUIDv7, so a retry is always safe: the
//! server stores each id once and answers a repeat with what it stored the first time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::ptu::{Channel, Consequence, EventType, NotReportedReason, Perpetrator};

/// Longest free text accepted in a field (place, meeting, message, report sections).
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest text accepted in one section of an incident report.
pub const MAX_REPORT_TEXT_CHARS: usize = 100_000;
/// Longest short text accepted (names, reasons, report numbers).
pub const MAX_SHORT_CHARS: usize = 200;
/// Largest attachment accepted, in bytes.
pub const MAX_ATTACHMENT_BYTES: u64 = 512 * 1024 * 1024;
/// Largest chunk of an attachment in one request, in bytes.
pub const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// Largest JSON body of any request but a report's, in bytes.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Largest body of `PUT /v1/reports/{id}`, in bytes: every report that passes
/// [`ReportRequest::validate`] fits when written as the app writes it (serde_json: at most
/// four bytes a character), so a valid report is never refused for its size.
pub const MAX_REPORT_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most checklist items one report may tick.
pub const MAX_CHECKLIST_ITEMS: usize = 100;
/// Most attachments one report may have.
pub const MAX_ATTACHMENTS: usize = 1000;

/// Reads a whole number, also when it is written `3.0`: JSON (and JSON Schema's `integer`)
/// does not tell `3` and `3.0` apart. A fraction, a negative number or one too large for the
/// field is an error naming the number.
fn whole_number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::{Error, Visitor};
    struct Whole;
    impl Visitor<'_> for Whole {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number, 0 or more")
        }
        fn visit_u64<E: Error>(self, n: u64) -> Result<u64, E> {
            Ok(n)
        }
        fn visit_i64<E: Error>(self, n: i64) -> Result<u64, E> {
            u64::try_from(n).map_err(|_| E::custom(format!("{n} is below 0")))
        }
        fn visit_f64<E: Error>(self, n: f64) -> Result<u64, E> {
            // 2^64 as f64; below it every whole f64 fits a u64.
            if n.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&n) {
                Ok(n as u64)
            } else {
                Err(E::custom(format!("{n} is not a whole number of 0 or more")))
            }
        }
    }
    let n = d.deserialize_any(Whole)?;
    T::try_from(n).map_err(|_| D::Error::custom(format!("{n} is too large")))
}

/// What a person does in the region's eyes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// An elected official.
    #[serde(rename = "förtroendevald")]
    Fortroendevald,
}

impl Role {
    /// Parses the role as typed on the command line (with or without Swedish letters).
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_lowercase().as_str() {
            "förtroendevald" | "fortroendevald" => Some(Role::Fortroendevald),
            _ => None,
        }
    }

    /// The role's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fortroendevald => "förtroendevald",
        }
    }
}

/// `POST /v1/enroll`: exchange a one-time enrollment code for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The code the region handed out, e.g. `K7QM-2XHD` (case and dashes do not matter).
    #[cfg_attr(feature = "openapi", schema(examples("K7QM-2XHD")))]
    pub code: String,
}

/// The answer to an enrollment: the device's identity and its secret token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// The device's id on the server.
    pub device_id: Uuid,
    /// Bearer token for every later request; shown once, stored only as a hash on the server.
    pub token: String,
    /// The region the device belongs to.
    pub region_id: String,
    /// The person's name as the region enrolled it.
    pub name: String,
    /// The person's role.
    pub role: Role,
    /// The key the region signs its profile with (`ed25519:…`), when it does: an app that
    /// has no key for the region shows its fingerprint to compare with the region's letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_key: Option<String>,
}

/// `GET /v1/me`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    /// The device's id.
    pub device_id: Uuid,
    /// The region.
    pub region_id: String,
    /// The person's name.
    pub name: String,
    /// The person's role.
    pub role: Role,
}

/// `GET /v1/app/update`: the path the app's updater asks (with the device's token).
pub const UPDATE_PATH: &str = "/v1/app/update";
/// `GET /v1/app/bundles/{version}`: a published bundle's bytes.
pub const BUNDLE_PATH_PREFIX: &str = "/v1/app/bundles/";
/// The bundle route, [`BUNDLE_PATH_PREFIX`] and `{version}/{platform}` (the platform is
/// `target-arch-bundle_type`).
pub const BUNDLE_PATH: &str = "/v1/app/bundles/{version}/{platform}";

/// `GET /v1/app/update`: a newer release of the app, in the form the Tauri updater reads.
/// The server answers 204 when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateOffer {
    /// The release's version (semantic versioning), which its signature is bound to.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::version))]
    pub version: String,
    /// What changed, in the region's words.
    pub notes: String,
    /// When it was published (RFC 3339).
    pub pub_date: String,
    /// Where the bundle is, on the same server.
    pub url: String,
    /// The bundle's minisign signature (the `.sig` file's text).
    pub signature: String,
}

/// `PUT /v1/alarms/{id}`: raise an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlarmRequest {
    /// When the button was pressed, by the device's clock.
    pub triggered_at: DateTime<Utc>,
    /// The meeting or appearance the person is at, if known.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub meeting: String,
    /// Where the person is, as they gave it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub place: String,
    /// Optional free text.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::free_text))]
    pub message: String,
    /// A drill ("Testlarm"): goes the whole way, marked TEST, never escalates.
    #[serde(default)]
    pub drill: bool,
    /// When the alarm was durable in the device's own database, by the device's clock.
    #[serde(default)]
    pub stored_at: Option<DateTime<Utc>>,
}

/// Where an alarm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlarmStatus {
    /// Received, nobody has acknowledged it yet.
    Open,
    /// An officer has taken it.
    Acknowledged,
    /// The person cancelled it as a false alarm.
    Cancelled,
}

/// The receipt the app shows: what the server holds for an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlarmReceipt {
    /// The alarm's id (the client's UUIDv7).
    pub id: Uuid,
    /// Where it stands.
    pub status: AlarmStatus,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
    /// When an officer acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it (the officer's display name).
    pub acknowledged_by: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Increases with every change; long-polls wait for a higher one.
    pub version: i64,
    /// A drill.
    #[serde(default)]
    pub drill: bool,
    /// Whom the server has alerted because nobody acknowledged in time, in order.
    #[serde(default)]
    pub escalated_to: Vec<String>,
    /// The server holds a duress cancel: the alarm stays open. The device shows it as
    /// cancelled, so whoever forced the cancel sees nothing else.
    #[serde(default)]
    pub duress: bool,
    /// The silent conversation during the alarm, oldest first: what the officer wrote and
    /// what the person answered. Empty after a duress cancel (the device shows no messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<AlarmMessage>,
    /// When the region's 24/7 alarm centre confirmed it has the alarm (DC-09 ACK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre_received_at: Option<DateTime<Utc>>,
}

/// Longest message during an alarm.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Who wrote a message during an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageFrom {
    /// A security officer, on the dashboard.
    Officer,
    /// The person who raised the alarm, in the app.
    Person,
}

impl MessageFrom {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageFrom::Officer => "officer",
            MessageFrom::Person => "person",
        }
    }

    /// The direction of a stored name.
    pub fn parse(s: &str) -> Option<MessageFrom> {
        [MessageFrom::Officer, MessageFrom::Person]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    /// The alarm timeline's kind for a message this way.
    pub fn event_kind(self) -> EventKind {
        match self {
            MessageFrom::Officer => EventKind::MessageToPerson,
            MessageFrom::Person => EventKind::MessageFromPerson,
        }
    }
}

/// One message of the silent conversation during an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlarmMessage {
    /// The writer's client id (UUIDv7): a retry is never stored twice.
    pub id: Uuid,
    /// Who wrote it.
    pub from: MessageFrom,
    /// The officer's display name, or the person's name.
    pub author: String,
    /// The text.
    pub text: String,
    /// When the server stored it.
    pub at: DateTime<Utc>,
}

/// `PUT /v1/alarms/{id}/messages/{message}`: the person writes during the alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The text (a quick answer or the person's own words).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::message))]
    pub text: String,
}

/// `PUT /v1/me/instructions`: what the person wants responders to know, shown to officers
/// with every alarm of theirs (empty: nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Instructions {
    /// The text, at most [`MAX_MESSAGE_CHARS`].
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::instructions))]
    pub text: String,
}

/// Checks a message's text: some words, at most [`MAX_MESSAGE_CHARS`], no control
/// characters but line breaks. Returns it trimmed.
pub fn message_text(text: &str) -> Result<String, WireError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(WireError::Invalid {
            field: "text",
            message: "a message needs some words".into(),
        });
    }
    check_text("text", t, MAX_MESSAGE_CHARS)?;
    Ok(t.to_string())
}

/// `POST /v1/alarms/{id}/cancel`: a false alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// When the person cancelled, by the device's clock.
    pub cancelled_at: DateTime<Utc>,
    /// Why (may be empty).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::free_text))]
    pub reason: String,
    /// Entered with the duress PIN: the person was forced to cancel. The server keeps the
    /// alarm open, marks it as the highest priority and answers like a cancel would look.
    #[serde(default)]
    pub duress: bool,
}

/// The longest check-in the server takes: a deadline at most this far after the start.
pub const MAX_CHECKIN_HOURS: i64 = 24;

/// `PUT /v1/checkins/{id}`: a check-in ("Jag är på plats") and its deadline. Sent whole
/// each time; the server keeps the highest revision, so a retry or a late duplicate of an
/// older extension never moves the deadline back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckinRequest {
    /// When the person checked in (device clock).
    pub started_at: DateTime<Utc>,
    /// When the person must have checked out; after it the server raises an alarm itself.
    pub deadline: DateTime<Utc>,
    /// The meeting or appearance.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub meeting: String,
    /// Where it is.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub place: String,
    /// Starts at 1, grows with every extension.
    #[serde(deserialize_with = "whole_number")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::revision))]
    pub revision: u32,
}

/// How a check-out went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutOutcome {
    /// "Allt lugnt".
    Calm,
    /// "Något hände": a report follows.
    Incident,
}

/// `POST /v1/checkins/{id}/checkout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// When the person checked out (device clock).
    pub at: DateTime<Utc>,
    /// How it went.
    pub outcome: CheckoutOutcome,
}

/// Where a check-in stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckinStatus {
    /// Running; the deadline has not passed.
    Active,
    /// Checked out in time.
    CheckedOut,
    /// The deadline passed without a check-out: the server raised an alarm.
    Overdue,
}

/// What the server holds for a check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckinReceipt {
    /// The check-in's id (the client's UUIDv7).
    pub id: Uuid,
    /// Where it stands.
    pub status: CheckinStatus,
    /// The deadline the server holds.
    pub deadline: DateTime<Utc>,
    /// The revision the server holds.
    pub revision: u32,
    /// When the server first stored it.
    pub received_at: DateTime<Utc>,
    /// When the person checked out (also after an overdue alarm).
    pub checked_out_at: Option<DateTime<Utc>>,
    /// The alarm the server raised when the deadline passed.
    pub alarm_id: Option<Uuid>,
}

impl CheckinRequest {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), WireError> {
        check_text("meeting", &self.meeting, MAX_SHORT_CHARS)?;
        check_text("place", &self.place, MAX_SHORT_CHARS)?;
        if self.revision == 0 {
            return Err(WireError::Invalid {
                field: "revision",
                message: "starts at 1".into(),
            });
        }
        if self.deadline <= self.started_at {
            return Err(WireError::Invalid {
                field: "deadline",
                message: "must be after started_at".into(),
            });
        }
        if self.deadline - self.started_at > chrono::Duration::hours(MAX_CHECKIN_HOURS) {
            return Err(WireError::Invalid {
                field: "deadline",
                message: format!("at most {MAX_CHECKIN_HOURS} hours after started_at"),
            });
        }
        Ok(())
    }
}

/// One entry of an alarm's append-only timeline (`GET /v1/alarms/{id}/timeline`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    /// When it happened: the device's clock for `triggered` and `stored`, else the server's.
    pub at: DateTime<Utc>,
    /// What happened: an [`EventKind`]'s name. A string on the wire, so that an app meets a
    /// kind a newer server adds with its name instead of a parse error.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::event_kind))]
    pub kind: String,
    /// Who did it (the person, an officer, or `server`).
    pub actor: String,
    /// Extra detail (a cancel reason, whom an escalation alerted, a note's text).
    pub detail: String,
}

/// What happened, in an alarm's timeline: the one list for the server that writes the
/// entries, the app and the dashboard that show them, and the API's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Raised on the device (the device's clock).
    Triggered,
    /// Written to the device's database (the device's clock).
    Stored,
    /// Received by the region's server.
    Received,
    /// Shown to an officer on the dashboard (once per officer).
    Shown,
    /// Acknowledged by an officer.
    Acknowledged,
    /// Nobody acknowledged in time: the next on the escalation list was alerted.
    Escalated,
    /// An escalation notice could not be delivered.
    NotifyFailed,
    /// Cancelled by the person.
    Cancelled,
    /// Cancelled under duress: the alarm stays open (shown to the device as `cancelled`).
    Duress,
    /// An officer's note.
    Note,
    /// The check-in this alarm came from began (the device's clock).
    CheckedIn,
    /// Nobody checked out by the deadline: the server raised this alarm.
    CheckinOverdue,
    /// Checked out after all (late).
    CheckedOut,
    /// An officer wrote to the person (the detail is the text).
    MessageToPerson,
    /// The person wrote to the region (the detail is the text).
    MessageFromPerson,
    /// The region's alarm centre confirmed an event (DC-09 ACK; the detail says which).
    CentreReceived,
    /// The alarm centre refused an event (DUH, or NAK again and again).
    CentreRefused,
}

impl EventKind {
    /// Every kind, in the order they usually happen.
    pub const ALL: [EventKind; 17] = [
        EventKind::Triggered,
        EventKind::Stored,
        EventKind::Received,
        EventKind::Shown,
        EventKind::Acknowledged,
        EventKind::Escalated,
        EventKind::NotifyFailed,
        EventKind::Cancelled,
        EventKind::Duress,
        EventKind::Note,
        EventKind::CheckedIn,
        EventKind::CheckinOverdue,
        EventKind::CheckedOut,
        EventKind::MessageToPerson,
        EventKind::MessageFromPerson,
        EventKind::CentreReceived,
        EventKind::CentreRefused,
    ];

    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Triggered => "triggered",
            EventKind::Stored => "stored",
            EventKind::Received => "received",
            EventKind::Shown => "shown",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Escalated => "escalated",
            EventKind::NotifyFailed => "notify_failed",
            EventKind::Cancelled => "cancelled",
            EventKind::Duress => "duress",
            EventKind::Note => "note",
            EventKind::CheckedIn => "checked_in",
            EventKind::CheckinOverdue => "checkin_overdue",
            EventKind::CheckedOut => "checked_out",
            EventKind::MessageToPerson => "message_to_person",
            EventKind::MessageFromPerson => "message_from_person",
            EventKind::CentreReceived => "centre_received",
            EventKind::CentreRefused => "centre_refused",
        }
    }

    /// The kind of that name, if it is one.
    pub fn parse(name: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

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

/// `PUT /v1/reports/{report}/attachments/{id}`: announce an attachment before its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttachmentMeta {
    /// The file's name as the person picked it.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::filename))]
    pub filename: String,
    /// MIME type, e.g. `image/jpeg`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub content_type: String,
    /// Size in bytes.
    #[serde(deserialize_with = "whole_number")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::attachment_size))]
    pub size: u64,
    /// SHA-256 of the whole file, lower-case hex.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::sha256))]
    pub sha256: String,
}

/// Where an upload stands: the next chunk must start at `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    /// The attachment's id.
    pub id: Uuid,
    /// Bytes received so far.
    pub offset: u64,
    /// Size announced.
    pub size: u64,
    /// True once all bytes arrived and the SHA-256 matched.
    pub complete: bool,
}

/// The kinds of problem the server answers with (`type` is `urn:varn:problem:` and the
/// name): the one list for the server, which writes them, and the app, which reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemType {
    /// An attachment id used again for another file.
    AttachmentConflict,
    /// An enrollment code that is wrong, used or expired.
    BadCode,
    /// A wrong username or password.
    BadLogin,
    /// A request that cannot be read (a query, a header, a path).
    BadRequest,
    /// A device token the server does not know.
    BadToken,
    /// The server is at capacity; try again after `Retry-After`.
    Busy,
    /// An upload whose bytes do not match its SHA-256 (it starts over).
    ChecksumMismatch,
    /// A change that conflicts with what is stored.
    Conflict,
    /// Not allowed (another device's item, a cross-site request).
    Forbidden,
    /// A body that breaks a rule (each names the field).
    Invalid,
    /// A method the route does not take (`Allow` lists those it does).
    MethodNotAllowed,
    /// No live dashboard session.
    NoSession,
    /// A device route without a device token.
    NoToken,
    /// Nothing there (or nothing of yours).
    NotFound,
    /// A chunk at the wrong offset (`offset` says where to resume).
    OffsetMismatch,
    /// Too many tries or requests; wait `Retry-After`.
    RateLimited,
    /// A report revision number used again for another body (`current_revision` says the newest).
    RevisionConflict,
    /// A device token the region has revoked (the device is unlinked).
    Revoked,
    /// A unique name that is taken.
    Taken,
    /// A body that did not arrive in time.
    Timeout,
    /// A body over its limit.
    TooLarge,
    /// The database did not answer in time; try again.
    Unavailable,
    /// A body of the wrong content type.
    UnsupportedMediaType,
}

impl ProblemType {
    /// Every kind.
    pub const ALL: [ProblemType; 23] = [
        ProblemType::AttachmentConflict,
        ProblemType::BadCode,
        ProblemType::BadLogin,
        ProblemType::BadRequest,
        ProblemType::BadToken,
        ProblemType::Busy,
        ProblemType::ChecksumMismatch,
        ProblemType::Conflict,
        ProblemType::Forbidden,
        ProblemType::Invalid,
        ProblemType::MethodNotAllowed,
        ProblemType::NoSession,
        ProblemType::NoToken,
        ProblemType::NotFound,
        ProblemType::OffsetMismatch,
        ProblemType::RateLimited,
        ProblemType::RevisionConflict,
        ProblemType::Revoked,
        ProblemType::Taken,
        ProblemType::Timeout,
        ProblemType::TooLarge,
        ProblemType::Unavailable,
        ProblemType::UnsupportedMediaType,
    ];

    /// The prefix of a problem's `type`.
    pub const URN_PREFIX: &'static str = "urn:varn:problem:";

    /// The name (after the prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemType::AttachmentConflict => "attachment-conflict",
            ProblemType::BadCode => "bad-code",
            ProblemType::BadLogin => "bad-login",
            ProblemType::BadRequest => "bad-request",
            ProblemType::BadToken => "bad-token",
            ProblemType::Busy => "busy",
            ProblemType::ChecksumMismatch => "checksum-mismatch",
            ProblemType::Conflict => "conflict",
            ProblemType::Forbidden => "forbidden",
            ProblemType::Invalid => "invalid",
            ProblemType::MethodNotAllowed => "method-not-allowed",
            ProblemType::NoSession => "no-session",
            ProblemType::NoToken => "no-token",
            ProblemType::NotFound => "not-found",
            ProblemType::OffsetMismatch => "offset-mismatch",
            ProblemType::RateLimited => "rate-limited",
            ProblemType::RevisionConflict => "revision-conflict",
            ProblemType::Revoked => "revoked",
            ProblemType::Taken => "taken",
            ProblemType::Timeout => "timeout",
            ProblemType::TooLarge => "too-large",
            ProblemType::Unavailable => "unavailable",
            ProblemType::UnsupportedMediaType => "unsupported-media-type",
        }
    }

    /// The problem's `type`: `urn:varn:problem:` and the name.
    pub fn urn(self) -> String {
        format!("{}{}", Self::URN_PREFIX, self.as_str())
    }

    /// The kind of a problem's `type` (with or without the prefix); `None` for another.
    pub fn parse(s: &str) -> Option<ProblemType> {
        let name = s.strip_prefix(Self::URN_PREFIX).unwrap_or(s);
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether a 401 of this kind means the region refuses the device for good (its token
    /// revoked, or not known there), so that the app stops sending until it is linked
    /// again. A missing token is not: a proxy in between may have stripped it.
    pub fn refuses_device(kind: &str) -> bool {
        matches!(
            Self::parse(kind),
            Some(ProblemType::Revoked | ProblemType::BadToken)
        )
    }
}

/// An error answer, `application/problem+json` (RFC 9457).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A stable identifier of the kind of problem, e.g. `urn:varn:problem:bad-token`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::problem_type))]
    pub kind: String,
    /// A short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What exactly was wrong, for a person.
    pub detail: String,
    /// For offset mismatches: where the server is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// For stale revisions and the like: the server's current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<u32>,
}

/// Why a request body cannot be accepted; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A text is longer than allowed.
    #[error("{field}: högst {max} tecken / at most {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// A text holds control characters other than line breaks and tabs.
    #[error("{0}: kontrolltecken är inte tillåtna / control characters are not allowed")]
    ControlChars(&'static str),
    /// A value is outside what makes sense.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// What [`check_text`] accepts, as a JSON Schema pattern: no control characters (C0, DEL and
/// C1) but tab and the line breaks.
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Checks a text field's length and characters.
pub fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), WireError> {
    if s.chars().count() > max {
        return Err(WireError::TooLong { field, max });
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(WireError::ControlChars(field));
    }
    Ok(())
}

impl AlarmRequest {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), WireError> {
        check_text("meeting", &self.meeting, MAX_SHORT_CHARS)?;
        check_text("place", &self.place, MAX_SHORT_CHARS)?;
        check_text("message", &self.message, MAX_TEXT_CHARS)
    }
}

impl CancelRequest {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), WireError> {
        check_text("reason", &self.reason, MAX_TEXT_CHARS)
    }
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

impl AttachmentMeta {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), WireError> {
        check_text("filename", &self.filename, MAX_SHORT_CHARS)?;
        check_text("content_type", &self.content_type, MAX_SHORT_CHARS)?;
        if self.filename.is_empty() {
            return Err(WireError::Invalid {
                field: "filename",
                message: "must not be empty".into(),
            });
        }
        if self.size > MAX_ATTACHMENT_BYTES {
            return Err(WireError::Invalid {
                field: "size",
                message: format!("at most {MAX_ATTACHMENT_BYTES} bytes"),
            });
        }
        let hex_ok = self.sha256.len() == 64
            && self
                .sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !hex_ok {
            return Err(WireError::Invalid {
                field: "sha256",
                message: "64 lower-case hex digits".into(),
            });
        }
        Ok(())
    }
}

/// Normalises an enrollment code as typed: upper case, no spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_pattern_is_what_check_text_accepts() {
        let pattern = regex::Regex::new(TEXT_PATTERN).unwrap();
        let chars = (0..0x400u32).chain([0x2028, 0x202E, 0xFEFF, 0x1F600]);
        for c in chars.filter_map(char::from_u32) {
            let s = format!("a{c}b");
            assert_eq!(
                pattern.is_match(&s),
                check_text("t", &s, 10).is_ok(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn the_bundle_route_is_under_its_prefix() {
        let rest = BUNDLE_PATH.strip_prefix(BUNDLE_PATH_PREFIX).unwrap();
        assert_eq!(rest, "{version}/{platform}");
    }

    #[test]
    fn a_problem_type_round_trips_with_and_without_its_prefix() {
        for k in ProblemType::ALL {
            assert_eq!(ProblemType::parse(&k.urn()), Some(k));
            assert_eq!(ProblemType::parse(k.as_str()), Some(k));
        }
        assert_eq!(
            ProblemType::RevisionConflict.urn(),
            "urn:varn:problem:revision-conflict"
        );
        assert_eq!(ProblemType::parse("urn:varn:problem:proxy"), None);
    }

    #[test]
    fn role_parses_with_and_without_swedish_letters() {
        assert_eq!(Role::parse("förtroendevald"), Some(Role::Fortroendevald));
        assert_eq!(Role::parse("Fortroendevald"), Some(Role::Fortroendevald));
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(
            serde_json::to_string(&Role::Fortroendevald).unwrap(),
            "\"förtroendevald\""
        );
    }

    #[test]
    fn alarm_request_rejects_unknown_fields_and_control_chars() {
        let bad = r#"{"triggered_at":"2026-11-24T10:00:00Z","colour":"red"}"#;
        assert!(serde_json::from_str::<AlarmRequest>(bad).is_err());
        let mut a: AlarmRequest =
            serde_json::from_str(r#"{"triggered_at":"2026-11-24T10:00:00Z"}"#).unwrap();
        assert!(a.validate().is_ok());
        a.place = "Torget\u{0}".into();
        assert_eq!(a.validate(), Err(WireError::ControlChars("place")));
        a.place = "x".repeat(MAX_SHORT_CHARS + 1);
        assert!(matches!(
            a.validate(),
            Err(WireError::TooLong { field: "place", .. })
        ));
    }

    /// The largest report `validate` lets through, in the widest characters (four bytes each
    /// in UTF-8), written as the app writes it, fits [`MAX_REPORT_BODY_BYTES`]; one character
    /// more in any section is refused by `validate` before the size could matter.
    #[test]
    fn the_largest_valid_report_fits_the_report_body_limit() {
        let wide = |n: usize| "\u{1F6A8}".repeat(n);
        let mut report = IncidentReport {
            kind: Some(IncidentKind::OnSite),
            started_at: Some(Utc::now()),
            ended_at: Some(Utc::now()),
            place: wide(MAX_SHORT_CHARS),
            involved: wide(MAX_REPORT_TEXT_CHARS),
            before: wide(MAX_REPORT_TEXT_CHARS),
            during: wide(MAX_REPORT_TEXT_CHARS),
            actions: wide(MAX_REPORT_TEXT_CHARS),
            witnesses: wide(MAX_REPORT_TEXT_CHARS),
            police_reported: true,
            police_reported_at: Some(Utc::now()),
            police_report_number: wide(MAX_SHORT_CHARS),
            reported_to_region: true,
            checklist: vec![wide(MAX_SHORT_CHARS); 100],
            attachments: vec![Uuid::now_v7(); 1000],
            alarm_id: Some(Uuid::now_v7()),
            followup: FollowupFields {
                event: Some(EventType::Corruption),
                channel: Some(Channel::TextMessage),
                sexual: Some(true),
                repeated: Some(true),
                perpetrator: Some(Perpetrator::Organised),
                consequences: crate::ptu::Consequence::ALL.to_vec(),
                not_reported_reason: Some(NotReportedReason::FearOfConsequences),
            },
        };
        let request = ReportRequest {
            revision: u32::MAX,
            report: report.clone(),
        };
        assert_eq!(request.validate(), Ok(()));
        let bytes = serde_json::to_vec(&request).unwrap().len();
        assert!(
            bytes > MAX_JSON_BYTES && bytes <= MAX_REPORT_BODY_BYTES,
            "{bytes} bytes"
        );
        report.checklist[0].push('x');
        let too_long = ReportRequest {
            revision: 1,
            report,
        };
        assert!(matches!(
            too_long.validate(),
            Err(WireError::TooLong {
                field: "report.checklist",
                ..
            })
        ));
    }

    #[test]
    fn whole_numbers_are_read_also_when_written_with_a_zero_fraction() {
        let meta = |size: &str| {
            serde_json::from_str::<AttachmentMeta>(&format!(
                r#"{{"filename":"a","content_type":"b","sha256":"{}","size":{size}}}"#,
                "a".repeat(64)
            ))
            .map(|m| m.size)
            .map_err(|e| e.to_string())
        };
        assert_eq!(meta("134217728"), Ok(134_217_728));
        assert_eq!(meta("134217728.0"), Ok(134_217_728));
        assert_eq!(meta("1e3"), Ok(1000));
        assert!(meta("1.5")
            .unwrap_err()
            .contains("1.5 is not a whole number"));
        assert!(meta("-1").unwrap_err().contains("-1 is below 0"));
        assert!(meta("\"1\"").is_err());
        let revision = |r: &str| {
            serde_json::from_str::<ReportRequest>(&format!(r#"{{"revision":{r},"report":{{}}}}"#))
                .map(|r| r.revision)
                .map_err(|e| e.to_string())
        };
        assert_eq!(revision("2.0"), Ok(2));
        assert!(revision("4294967296").unwrap_err().contains("too large"));
    }

    #[test]
    fn event_kinds_have_one_name_each_on_the_wire() {
        let mut names = std::collections::HashSet::new();
        for kind in EventKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert!(names.insert(kind.as_str()), "{kind:?} named twice");
        }
        assert_eq!(EventKind::parse("exploded"), None);
    }

    #[test]
    fn report_revision_starts_at_one() {
        let r = ReportRequest {
            revision: 0,
            report: IncidentReport::default(),
        };
        assert!(r.validate().is_err());
    }

    #[test]
    fn attachment_checksum_must_be_hex() {
        let mut m = AttachmentMeta {
            filename: "foto.jpg".into(),
            content_type: "image/jpeg".into(),
            size: 10,
            sha256: "a".repeat(64),
        };
        assert!(m.validate().is_ok());
        m.sha256 = "A".repeat(64);
        assert!(m.validate().is_err());
        m.sha256 = "a".repeat(63);
        assert!(m.validate().is_err());
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(normalize_code(" k7qm-2xhd "), "K7QM2XHD");
    }
}
