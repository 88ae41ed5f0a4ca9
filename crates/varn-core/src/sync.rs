//! The sync engine's decisions, as plain logic: given the outbox and what the server answered,
//! what to send next, how long to wait, and what an answer means for an item. The app's runner
//! does the I/O; tests call this without sockets.
//!
//! Rules:
//! - Items go in the order they were queued, except that an attachment waits for its report
//!   (the server files attachments under a report it already has).
//! - A network-level failure (timeout, reset, 5xx, 408, 429) means the *server* is out of
//!   reach: the whole queue waits, with exponential backoff and jitter, or as long as a 429's
//!   `Retry-After` asks. Triggers ("Skicka nu", network back, a report marked ready) cut the
//!   wait short.
//! - A refusal of one item (4xx) stops only that item; the rest of the queue goes on.
//! - A refused device token (401) stops everything until the device is linked again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// First wait after a failure (a single lost connection is common on a phone network; the
/// wait doubles from here while failures continue).
pub const RETRY_BASE: Duration = Duration::from_millis(500);
/// Longest wait between attempts after repeated failures.
pub const RETRY_MAX: Duration = Duration::from_secs(300);
/// How often the runner looks at a non-empty queue when it cannot send (no link, locked
/// keychain), and how often it checks the region profile while online.
pub const TICK: Duration = Duration::from_secs(30);
/// How often an attachment may arrive damaged before it is given up.
pub const MAX_CHECKSUM_RETRIES: u32 = 3;

/// What an outbox entry sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// The report's current revision.
    Report,
    /// One attachment's bytes.
    Attachment,
}

impl ItemKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Report => "report",
            ItemKind::Attachment => "attachment",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "report" => Some(ItemKind::Report),
            "attachment" => Some(ItemKind::Attachment),
            _ => None,
        }
    }
}

/// One entry of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// Queue order.
    pub seq: i64,
    /// What it sends.
    pub kind: ItemKind,
    /// The report it belongs to.
    pub incident: Uuid,
    /// The report (for [`ItemKind::Report`]) or the attachment.
    pub item: Uuid,
    /// Attempts so far.
    pub attempts: u32,
    /// Why the server refused it for good, if it did; such an entry waits for the person.
    pub failed: Option<String>,
}

/// What the runner should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send this entry now.
    Send(OutboxEntry),
    /// Nothing can go before this time (backoff); sleep until then or a trigger.
    WaitUntil(DateTime<Utc>),
    /// Nothing is sendable (empty, or only refused items).
    Idle,
}

/// Chooses the next entry. `not_before` is the queue-wide wait after failures.
pub fn next(
    entries: &[OutboxEntry],
    not_before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Next {
    let Some(entry) = sendable(entries).next() else {
        return Next::Idle;
    };
    match not_before {
        Some(t) if t > now => Next::WaitUntil(t),
        _ => Next::Send(entry.clone()),
    }
}

/// The entries that may be sent, in order: not refused, and no attachment ahead of its own
/// report.
pub fn sendable(entries: &[OutboxEntry]) -> impl Iterator<Item = &OutboxEntry> {
    let mut sorted: Vec<&OutboxEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.seq);
    let blocked_reports: Vec<Uuid> = sorted
        .iter()
        .filter(|e| e.kind == ItemKind::Report)
        .map(|e| e.incident)
        .collect();
    sorted.into_iter().filter(move |e| {
        e.failed.is_none()
            && match e.kind {
                ItemKind::Report => true,
                // Its report is still in the queue (waiting or refused): the report goes first.
                ItemKind::Attachment => !blocked_reports.contains(&e.incident),
            }
    })
}

/// What a server answer (or its absence) means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// The server is out of reach or busy: the whole queue waits (at least `at_least`).
    RetryLater {
        /// A wait the server asked for (429 `Retry-After`).
        at_least: Option<Duration>,
    },
    /// The device's token is refused: nothing goes until the device is linked again.
    DeviceRefused,
    /// The server refuses this item for good; the rest goes on. The text is for the person.
    Refused(String),
    /// The server holds this revision number with other content (an earlier answer was lost
    /// and the report changed since): send the content as a revision after `current`.
    RevisionTaken {
        /// The newest revision the server has.
        current: u32,
    },
    /// The upload is elsewhere than the app thought: go on from `offset`.
    ResumeAt {
        /// Where the server's copy ends.
        offset: u64,
    },
    /// The server's checksum of the whole file did not match: send it again from the start.
    Damaged,
}

/// A failed request, as the runner saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer: refused, reset, timed out, unreadable.
    Network,
    /// An error answer.
    Status {
        /// HTTP status.
        status: u16,
        /// The problem type, e.g. `urn:varn:problem:revision-conflict`.
        kind: String,
        /// The problem's detail.
        detail: String,
        /// `Retry-After`, in seconds.
        retry_after: Option<u64>,
        /// The problem's `offset` (offset mismatches).
        offset: Option<u64>,
        /// The problem's `current_revision` (revision conflicts).
        current_revision: Option<u32>,
    },
}

/// Sorts a failure into what to do about it.
pub fn classify(f: &Failure) -> Disposition {
    match f {
        Failure::Network => Disposition::RetryLater { at_least: None },
        Failure::Status {
            status,
            kind,
            detail,
            retry_after,
            offset,
            current_revision,
        } => {
            use crate::wire::ProblemType;
            match (*status, ProblemType::parse(kind)) {
                (429, _) => Disposition::RetryLater {
                    at_least: retry_after.map(Duration::from_secs),
                },
                (408, _) | (500..=599, _) => Disposition::RetryLater {
                    at_least: retry_after.map(Duration::from_secs),
                },
                (401, _) if ProblemType::refuses_device(kind) => Disposition::DeviceRefused,
                // No token arrived (a proxy may have dropped it): not the device's fault.
                (401, _) => Disposition::RetryLater { at_least: None },
                (409, Some(ProblemType::RevisionConflict)) => match current_revision {
                    Some(current) => Disposition::RevisionTaken { current: *current },
                    None => Disposition::Refused(detail.clone()),
                },
                (409, Some(ProblemType::OffsetMismatch)) => match offset {
                    Some(offset) => Disposition::ResumeAt { offset: *offset },
                    None => Disposition::Refused(detail.clone()),
                },
                (422, Some(ProblemType::ChecksumMismatch)) => Disposition::Damaged,
                _ => Disposition::Refused(if detail.is_empty() {
                    format!("HTTP {status}")
                } else {
                    detail.clone()
                }),
            }
        }
    }
}

/// The queue-wide wait after `failures` failures in a row: exponential from [`RETRY_BASE`] up
/// to [`RETRY_MAX`], jittered between half and all of the step (`unit` in `[0, 1)`), never
/// shorter than what the server asked for.
pub fn retry_delay(
    failures: u32,
    at_least: Option<Duration>,
    base: Duration,
    max: Duration,
    unit: f64,
) -> Duration {
    let jittered = crate::backoff::step(base, max, failures.saturating_sub(1), unit);
    match at_least {
        Some(asked) => jittered.max(asked.min(max)),
        None => jittered,
    }
}

/// The next chunk of an upload: the byte range to send from `offset`.
pub fn chunk(offset: u64, size: u64, max_chunk: u64) -> std::ops::Range<u64> {
    let start = offset.min(size);
    start..(start + max_chunk).min(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, kind: ItemKind, incident: Uuid) -> OutboxEntry {
        OutboxEntry {
            seq,
            kind,
            incident,
            item: if kind == ItemKind::Report {
                incident
            } else {
                Uuid::now_v7()
            },
            attempts: 0,
            failed: None,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn status(status: u16, kind: &str) -> Failure {
        Failure::Status {
            status,
            kind: format!("urn:varn:problem:{kind}"),
            detail: format!("detail {status}"),
            retry_after: None,
            offset: None,
            current_revision: None,
        }
    }

    #[test]
    fn the_oldest_entry_goes_first_and_an_empty_queue_is_idle() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let q = vec![entry(5, ItemKind::Report, b), entry(2, ItemKind::Report, a)];
        assert_eq!(next(&q, None, now()), Next::Send(q[1].clone()));
        assert_eq!(next(&[], None, now()), Next::Idle);
    }

    #[test]
    fn an_attachment_waits_for_its_report_but_not_for_others() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut q = vec![
            entry(1, ItemKind::Report, a),
            entry(2, ItemKind::Attachment, a),
            entry(3, ItemKind::Attachment, b),
        ];
        let order: Vec<i64> = sendable(&q).map(|e| e.seq).collect();
        assert_eq!(order, vec![1, 3]);
        // Report a refused for good: neither it nor its attachment goes; b's still does.
        q[0].failed = Some("nej".into());
        assert_eq!(next(&q, None, now()), Next::Send(q[2].clone()));
        q.remove(2);
        assert_eq!(next(&q, None, now()), Next::Idle);
        // Report a done: its attachment is free to go.
        q.remove(0);
        assert_eq!(next(&q, None, now()), Next::Send(q[0].clone()));
    }

    #[test]
    fn a_backoff_holds_the_whole_queue_until_it_ends() {
        let q = vec![entry(1, ItemKind::Report, Uuid::now_v7())];
        let later = now() + chrono::Duration::seconds(8);
        assert_eq!(next(&q, Some(later), now()), Next::WaitUntil(later));
        assert_eq!(next(&q, Some(later), later), Next::Send(q[0].clone()));
    }

    #[test]
    fn failures_are_sorted_into_retry_refuse_and_repair() {
        assert_eq!(
            classify(&Failure::Network),
            Disposition::RetryLater { at_least: None }
        );
        for s in [500, 502, 503, 504, 408] {
            assert_eq!(
                classify(&status(s, "x")),
                Disposition::RetryLater { at_least: None },
                "{s}"
            );
        }
        let mut busy = status(429, "rate-limited");
        if let Failure::Status { retry_after, .. } = &mut busy {
            *retry_after = Some(7);
        }
        assert_eq!(
            classify(&busy),
            Disposition::RetryLater {
                at_least: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            classify(&status(401, "bad-token")),
            Disposition::DeviceRefused
        );
        assert_eq!(
            classify(&status(401, "revoked")),
            Disposition::DeviceRefused
        );
        assert_eq!(
            classify(&status(401, "no-token")),
            Disposition::RetryLater { at_least: None }
        );
        assert_eq!(
            classify(&status(403, "forbidden")),
            Disposition::Refused("detail 403".into())
        );
        assert_eq!(
            classify(&status(422, "invalid")),
            Disposition::Refused("detail 422".into())
        );
        assert_eq!(
            classify(&status(422, "checksum-mismatch")),
            Disposition::Damaged
        );
        let mut conflict = status(409, "revision-conflict");
        if let Failure::Status {
            current_revision, ..
        } = &mut conflict
        {
            *current_revision = Some(4);
        }
        assert_eq!(
            classify(&conflict),
            Disposition::RevisionTaken { current: 4 }
        );
        let mut moved = status(409, "offset-mismatch");
        if let Failure::Status { offset, .. } = &mut moved {
            *offset = Some(4096);
        }
        assert_eq!(classify(&moved), Disposition::ResumeAt { offset: 4096 });
        // A conflict without the number to repair it is a refusal, not a loop.
        assert!(matches!(
            classify(&status(409, "revision-conflict")),
            Disposition::Refused(_)
        ));
    }

    #[test]
    fn the_wait_grows_with_jitter_up_to_the_cap_and_honours_retry_after() {
        let base = Duration::from_secs(2);
        let d = |n, unit| retry_delay(n, None, base, RETRY_MAX, unit);
        assert_eq!(d(1, 0.999_999).as_secs(), 1); // ~2 s at most
        assert_eq!(d(1, 0.0), Duration::from_secs(1));
        assert_eq!(d(3, 0.0), Duration::from_secs(4));
        assert!(d(3, 0.99) > d(3, 0.0));
        assert_eq!(d(30, 0.0), RETRY_MAX / 2);
        assert!(d(30, 0.999) <= RETRY_MAX);
        let asked = retry_delay(1, Some(Duration::from_secs(60)), base, RETRY_MAX, 0.0);
        assert_eq!(asked, Duration::from_secs(60));
        let too_long = retry_delay(1, Some(Duration::from_secs(86_400)), base, RETRY_MAX, 0.0);
        assert_eq!(too_long, RETRY_MAX);
    }

    #[test]
    fn chunks_cover_the_file_from_any_offset() {
        assert_eq!(chunk(0, 10, 4), 0..4);
        assert_eq!(chunk(8, 10, 4), 8..10);
        assert_eq!(chunk(10, 10, 4), 10..10);
        assert_eq!(chunk(12, 10, 4), 10..10);
        assert_eq!(chunk(0, 0, 4), 0..0);
    }
}
