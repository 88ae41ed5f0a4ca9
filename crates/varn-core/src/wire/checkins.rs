//! The check-in on the wire: the request (start or extend), the check-out, the receipt.

use super::*;

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
