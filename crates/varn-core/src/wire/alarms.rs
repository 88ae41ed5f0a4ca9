//! The alarm on the wire: the request, the receipt, the person's and the officer's words, the instructions, the cancel, and the timeline's entries.

use super::*;

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
