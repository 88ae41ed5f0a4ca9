//! The device API's paths, query names and headers: the one list the server routes by and the
//! app (and the tests) build their requests from. A route is a template with `{name}` parts
//! (axum's syntax); [`fill`] puts the values in.

use std::fmt::Display;

use uuid::Uuid;

/// `POST`: exchanges an enrollment code for a device token.
pub const ENROLL: &str = "/v1/enroll";
/// `GET`: the device as the server knows it; `DELETE`: unlinks it.
pub const ME: &str = "/v1/me";
/// `PUT`: the person's instructions for responders.
pub const INSTRUCTIONS: &str = "/v1/me/instructions";
/// `GET`: the region's signed profile.
pub const PROFILE: &str = "/v1/profile";
/// `PUT`: raises the alarm; `GET`: its receipt, with [`AFTER_VERSION`] and [`WAIT`] a long-poll.
pub const ALARM: &str = "/v1/alarms/{id}";
/// `POST`: cancels the alarm.
pub const ALARM_CANCEL: &str = "/v1/alarms/{id}/cancel";
/// `GET`: the alarm's timeline.
pub const ALARM_TIMELINE: &str = "/v1/alarms/{id}/timeline";
/// `PUT`: the person's message during the alarm.
pub const ALARM_MESSAGE: &str = "/v1/alarms/{id}/messages/{message}";
/// `PUT`: a check-in (or its extension); `GET`: its receipt.
pub const CHECKIN: &str = "/v1/checkins/{id}";
/// `POST`: the check-out.
pub const CHECKOUT: &str = "/v1/checkins/{id}/checkout";
/// `PUT`: a report's revision; `GET`: its receipt.
pub const REPORT: &str = "/v1/reports/{id}";
/// `PUT`: announces an attachment of a report.
pub const REPORT_ATTACHMENT: &str = "/v1/reports/{report}/attachments/{id}";
/// `GET`: where an upload stands; `PATCH`: a chunk of it at [`UPLOAD_OFFSET`].
pub const UPLOAD: &str = "/v1/attachments/{id}";

/// Every route of the device API (besides the updater's, in [`crate::wire`]), for the
/// server's test that its document describes exactly these.
pub const ALL: [&str; 14] = [
    ENROLL,
    ME,
    INSTRUCTIONS,
    PROFILE,
    ALARM,
    ALARM_CANCEL,
    ALARM_TIMELINE,
    ALARM_MESSAGE,
    CHECKIN,
    CHECKOUT,
    REPORT,
    REPORT_ATTACHMENT,
    UPLOAD,
    crate::wire::UPDATE_PATH,
];

/// The header naming where a chunk starts (bytes).
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// The alarm's receipt is answered only once its version is higher than this.
pub const AFTER_VERSION: &str = "after_version";
/// How many seconds the server may wait for that.
pub const WAIT: &str = "wait";

/// `template` with its `{…}` parts replaced by `values`, in order.
pub fn fill(template: &str, values: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(template.len() + 36 * values.len());
    let mut values = values.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        match values.next() {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str(&rest[open..close]),
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// [`ALARM`] of `id`.
pub fn alarm(id: Uuid) -> String {
    fill(ALARM, &[&id])
}

/// [`ALARM`] of `id` as a long-poll: answered when its version is above `after_version`, or
/// after `wait` seconds.
pub fn alarm_wait(id: Uuid, after_version: i64, wait: u64) -> String {
    format!(
        "{}?{AFTER_VERSION}={after_version}&{WAIT}={wait}",
        alarm(id)
    )
}

/// [`ALARM_CANCEL`] of `id`.
pub fn alarm_cancel(id: Uuid) -> String {
    fill(ALARM_CANCEL, &[&id])
}

/// [`ALARM_TIMELINE`] of `id`.
pub fn alarm_timeline(id: Uuid) -> String {
    fill(ALARM_TIMELINE, &[&id])
}

/// [`ALARM_MESSAGE`] `message` of alarm `id`.
pub fn alarm_message(id: Uuid, message: Uuid) -> String {
    fill(ALARM_MESSAGE, &[&id, &message])
}

/// [`CHECKIN`] of `id`.
pub fn checkin(id: Uuid) -> String {
    fill(CHECKIN, &[&id])
}

/// [`CHECKOUT`] of `id`.
pub fn checkout(id: Uuid) -> String {
    fill(CHECKOUT, &[&id])
}

/// [`REPORT`] of `id`.
pub fn report(id: Uuid) -> String {
    fill(REPORT, &[&id])
}

/// [`REPORT_ATTACHMENT`] `id` of `report`.
pub fn report_attachment(report: Uuid, id: Uuid) -> String {
    fill(REPORT_ATTACHMENT, &[&report, &id])
}

/// [`UPLOAD`] of `id`.
pub fn upload(id: Uuid) -> String {
    fill(UPLOAD, &[&id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_filled_in_order_and_left_alone_past_its_values() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(alarm_message(a, b), format!("/v1/alarms/{a}/messages/{b}"));
        assert_eq!(
            report_attachment(a, b),
            format!("/v1/reports/{a}/attachments/{b}")
        );
        assert_eq!(fill(ALARM, &[]), ALARM);
        assert_eq!(fill(ME, &[&a]), ME);
        assert_eq!(
            alarm_wait(a, 7, 25),
            format!("/v1/alarms/{a}?after_version=7&wait=25")
        );
    }
}
