//! The JSON the app and the region server exchange, defined once for both.
//!
//! Every alarm and report carries a client-generated UUIDv7, so a retry is always safe: the
//! server stores each id once and answers a repeat with what it stored the first time.

mod alarms;
mod checkins;
mod device;
mod reports;
mod uploads;

pub use crate::ptu::{Channel, Consequence, EventType, NotReportedReason, Perpetrator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use alarms::*;
pub use checkins::*;
pub use device::*;
pub use reports::*;
pub use uploads::*;

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
