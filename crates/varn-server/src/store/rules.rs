//! The store's decisions, written once for both backends: pure functions over what a
//! backend has read, with unit tests. The backends only run SQL and do what these say.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use varn_core::wire::{
    AlarmMessage, AlarmRequest, AlarmStatus, CancelRequest, CheckinStatus, CheckoutOutcome,
    EventKind, Followup, FollowupState, ReportReceipt, UploadStatus,
};

use super::{Alarm, Attachment, Checkin, Device, FollowupChange, Session, StoreError};

/// Something stored by one device.
pub(crate) trait Owned {
    /// The device that wrote it.
    fn owner(&self) -> Uuid;
}

impl Owned for Uuid {
    fn owner(&self) -> Uuid {
        *self
    }
}

impl Owned for Alarm {
    fn owner(&self) -> Uuid {
        self.device_id
    }
}

impl Owned for Checkin {
    fn owner(&self) -> Uuid {
        self.device_id
    }
}

/// The one ownership rule: a device reads and changes only what it stored itself. Nothing
/// stored is [`StoreError::NotFound`]; another device's is [`StoreError::OtherDevice`] (which
/// the API answers as if it were missing).
pub(crate) fn own<T: Owned>(found: Option<T>, device: &Device) -> Result<T, StoreError> {
    match found {
        None => Err(StoreError::NotFound),
        Some(t) if t.owner() != device.id => Err(StoreError::OtherDevice),
        Some(t) => Ok(t),
    }
}

/// What a chunk of an upload does ([`chunk_plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChunkPlan {
    /// Nothing to store: answer with where the upload stands (a retry of the last chunk whose
    /// answer was lost, or an empty chunk).
    Answer(UploadStatus),
    /// Store it; the upload then has `end` bytes.
    Store {
        /// The upload's length after the chunk.
        end: u64,
    },
}

/// What a chunk of `len` bytes at `offset` does to upload `a`: a finished upload answers as
/// it stands; a chunk must start where the upload ends and may not run past its size.
pub(crate) fn chunk_plan(a: &Attachment, offset: u64, len: usize) -> Result<ChunkPlan, StoreError> {
    if a.complete_at.is_some() {
        return Ok(ChunkPlan::Answer(a.status()));
    }
    if offset != a.received {
        return Err(StoreError::OffsetMismatch {
            expected: a.received,
        });
    }
    let end = a.received + len as u64;
    if end > a.size {
        return Err(StoreError::TooLarge { size: a.size });
    }
    if len == 0 {
        return Ok(ChunkPlan::Answer(a.status()));
    }
    Ok(ChunkPlan::Store { end })
}

/// A timeline entry a backend is to write: when, what, who, and the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// Who did it.
    pub who: String,
    /// The detail.
    pub detail: String,
}

/// The timeline a new alarm starts with: raised on the device (a drill says so), stored
/// there (when the device says when), received here.
pub(crate) fn alarm_opening(req: &AlarmRequest, who: &str, now: DateTime<Utc>) -> Vec<NewEntry> {
    let entry = |at, kind, who: &str, detail: &str| NewEntry {
        at,
        kind,
        who: who.to_string(),
        detail: detail.to_string(),
    };
    let drill = if req.drill { "drill" } else { "" };
    let mut entries = vec![entry(req.triggered_at, EventKind::Triggered, who, drill)];
    if let Some(stored) = req.stored_at {
        entries.push(entry(stored, EventKind::Stored, who, ""));
    }
    entries.push(entry(now, EventKind::Received, "server", ""));
    entries
}

/// What a cancel from the person's device does to an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelPlan {
    /// Nothing: it is already cancelled, or was cancelled under duress (a repeat).
    Repeat,
    /// Forced to cancel (the duress PIN): the alarm stays as it is, marked, and the dashboard
    /// puts it first. The device shows a cancel.
    Duress,
    /// Cancelled.
    Cancel,
}

/// See [`CancelPlan`].
pub(crate) fn cancel_plan(alarm: &Alarm, req: &CancelRequest) -> CancelPlan {
    if alarm.status == AlarmStatus::Cancelled || alarm.duress_at.is_some() {
        CancelPlan::Repeat
    } else if req.duress {
        CancelPlan::Duress
    } else {
        CancelPlan::Cancel
    }
}

impl CancelPlan {
    /// The timeline entry's kind, if it writes one.
    pub fn entry(self) -> Option<EventKind> {
        match self {
            CancelPlan::Repeat => None,
            CancelPlan::Duress => Some(EventKind::Duress),
            CancelPlan::Cancel => Some(EventKind::Cancelled),
        }
    }
}

/// Whether an officer's acknowledgement changes the alarm: only an open one (an
/// acknowledged or cancelled alarm answers as it is).
pub(crate) fn acknowledges(alarm: &Alarm) -> bool {
    alarm.status == AlarmStatus::Open
}

/// Whether a session still opens the dashboard at `now`: not past its end, used within
/// `idle`, and its officer not disabled. The one rule for both backends.
pub fn session_live(s: &Session, now: DateTime<Utc>, idle: std::time::Duration) -> bool {
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    s.expires_at > now && now - s.last_seen_at < idle && s.officer.disabled_at.is_none()
}

/// How often a session in use is marked as seen (a write), at most.
pub const SESSION_TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The timeline kinds the alarm centre is sent.
pub const CENTRE_KINDS: [&str; 5] = [
    "received",
    "checkin_overdue",
    "cancelled",
    "duress",
    "escalated",
];

/// What the centre's answer to a timeline entry of kind `kind` does, decided once for both
/// backends: the entry it writes (kind, detail), whether it marks the alarm as received by
/// the centre (an ACK of the alarm itself), and whether as refused. `taken` true is an ACK,
/// false a refusal; `None` (an event not for the centre) does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CentreOutcome {
    /// The timeline entry's kind and detail.
    pub entry: (&'static str, String),
    /// Sets `centre_received_at` (once).
    pub received: bool,
    /// Sets `centre_refused_at`.
    pub refused: bool,
}

/// See [`CentreOutcome`].
pub(crate) fn centre_outcome(
    taken: Option<bool>,
    kind: &str,
    answer: &str,
) -> Option<CentreOutcome> {
    let detail = format!("{kind}: {answer}");
    let taken = taken?;
    let entry = if taken {
        varn_core::wire::EventKind::CentreReceived.as_str()
    } else {
        varn_core::wire::EventKind::CentreRefused.as_str()
    };
    Some(CentreOutcome {
        entry: (entry, detail),
        received: taken && matches!(kind, "received" | "checkin_overdue"),
        refused: !taken,
    })
}

/// The most messages one alarm holds (both ways): a conversation, not a channel to flood.
pub const MAX_MESSAGES_PER_ALARM: usize = 200;

/// Whether a message may be added to `alarm` (decided once for both backends): not to a
/// cancelled alarm, and not past [`MAX_MESSAGES_PER_ALARM`].
pub(crate) fn message_allowed(alarm: &Alarm) -> Result<(), StoreError> {
    if alarm.status == AlarmStatus::Cancelled {
        return Err(StoreError::Conflict(
            "the alarm was cancelled: the conversation is over".into(),
        ));
    }
    if alarm.messages.len() >= MAX_MESSAGES_PER_ALARM {
        return Err(StoreError::Conflict(format!(
            "an alarm holds at most {MAX_MESSAGES_PER_ALARM} messages"
        )));
    }
    Ok(())
}

/// A message stored again with the same id: the same message is a repeat (answered as
/// before); anything else under that id is refused.
pub(crate) fn same_message(stored: &AlarmMessage, new: &AlarmMessage) -> Result<(), StoreError> {
    if stored.from == new.from && stored.text == new.text && stored.author == new.author {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "this message id was already used for another message".into(),
        ))
    }
}

/// What escalation step `step` of `alarm`, alerting `to`, records: the names alerted so far
/// (each once, in order) as JSON, and the timeline entry's text. Shared by both backends.
pub(crate) fn escalation_record(
    alarm: &Alarm,
    step: u32,
    to: &[String],
) -> Result<(String, String), StoreError> {
    let mut names = alarm.escalated_to.clone();
    for n in to {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let names_json =
        serde_json::to_string(&names).map_err(|e| StoreError::Backend(e.to_string()))?;
    let detail = if to.is_empty() {
        format!("steg {step}: alla larmcentraler")
    } else {
        format!("steg {step}: {}", to.join(", "))
    };
    Ok((names_json, detail))
}

/// Whether escalation step `step` is the alarm's next one: open, not a drill, one step on.
pub(crate) fn escalation_due(alarm: &Alarm, step: u32) -> bool {
    alarm.status == AlarmStatus::Open && !alarm.drill && alarm.escalation_step + 1 == step
}

/// A check-out's stored status: a missed check-in stays overdue, with the check-out beside it.
pub(crate) fn checkout_status(k: &Checkin) -> &'static str {
    if k.status == CheckinStatus::Overdue {
        "overdue"
    } else {
        "checked_out"
    }
}

/// An alarm status from its stored name (both backends store the same names).
pub(crate) fn stored_alarm_status(s: &str) -> Option<AlarmStatus> {
    match s {
        "open" => Some(AlarmStatus::Open),
        "acknowledged" => Some(AlarmStatus::Acknowledged),
        "cancelled" => Some(AlarmStatus::Cancelled),
        _ => None,
    }
}

/// A check-in status from its stored name.
pub(crate) fn stored_checkin_status(s: &str) -> Option<CheckinStatus> {
    match s {
        "active" => Some(CheckinStatus::Active),
        "checked_out" => Some(CheckinStatus::CheckedOut),
        "overdue" => Some(CheckinStatus::Overdue),
        _ => None,
    }
}

/// A check-out's outcome from its stored name ([`outcome_str`]; the schema allows no other).
pub(crate) fn stored_outcome(s: &str) -> CheckoutOutcome {
    if s == "calm" {
        CheckoutOutcome::Calm
    } else {
        CheckoutOutcome::Incident
    }
}

/// The stored name of a check-out's outcome.
pub(crate) fn outcome_str(o: CheckoutOutcome) -> &'static str {
    match o {
        CheckoutOutcome::Calm => "calm",
        CheckoutOutcome::Incident => "incident",
    }
}

/// The timeline entry of a check-out after the deadline had raised an alarm.
pub(crate) fn late_checkout_detail(o: CheckoutOutcome) -> &'static str {
    match o {
        CheckoutOutcome::Calm => "utcheckad sent: allt lugnt",
        CheckoutOutcome::Incident => "utcheckad sent: något hände",
    }
}

/// The message of the alarm a missed check-out raises.
pub(crate) fn overdue_message(k: &Checkin) -> String {
    let local = k.deadline.with_timezone(&chrono::Local).format("%H:%M");
    format!("Missad utcheckning: skulle ha checkat ut senast kl {local}")
}

/// What a follow-up change does, decided once for both backends: the message the report
/// holds afterwards and the timeline entries (kind, detail) it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FollowupPlan {
    /// The message to the person after the change (the earlier one when none is given).
    pub message: String,
    /// The entries for the report's timeline, in order.
    pub entries: Vec<(&'static str, String)>,
}

/// The plan for `change` to a report whose follow-up is `current`; `None` when nothing
/// changes. A report cannot go back to *new*; an unchanged message is not written again.
/// Every change of state writes an entry, so no entries means nothing changed.
pub(crate) fn followup_plan(
    current: &Followup,
    change: &FollowupChange,
) -> Result<Option<FollowupPlan>, StoreError> {
    let mut entries = Vec::new();
    match (current.state, change.state) {
        (_, FollowupState::New) => {
            return Err(StoreError::Invalid(
                "a report cannot go back to new; take it or close it".into(),
            ))
        }
        (FollowupState::New, FollowupState::Taken) => entries.push(("taken", String::new())),
        (FollowupState::Closed, FollowupState::Taken) => entries.push(("reopened", String::new())),
        (FollowupState::Taken, FollowupState::Taken) => {}
        (FollowupState::Closed, FollowupState::Closed) => {}
        (_, FollowupState::Closed) => {}
    }
    let message = match change.message.as_deref().map(str::trim) {
        Some(m) if m != current.message => {
            entries.push(("message", m.to_string()));
            m.to_string()
        }
        _ => current.message.clone(),
    };
    if change.state == FollowupState::Closed && current.state != FollowupState::Closed {
        entries.push(("closed", change.note.trim().to_string()));
    }
    Ok((!entries.is_empty()).then_some(FollowupPlan { message, entries }))
}

/// The entry a newly stored revision writes on the report's timeline: `received` for the
/// first to arrive, `revised` after; the detail is the revision's number.
pub(crate) fn report_arrival(current: u32, revision: u32) -> (&'static str, String) {
    let kind = if current == 0 { "received" } else { "revised" };
    (kind, revision.to_string())
}

/// A revision number sent again: the same body is a repeat (answered as before), another
/// body under a number already used is refused, since revisions are never rewritten.
pub(crate) fn repeated_revision(
    stored_body: &str,
    body: &str,
    revision: u32,
    current: u32,
) -> Result<(), StoreError> {
    if stored_body == body {
        Ok(())
    } else {
        Err(StoreError::RevisionConflict { revision, current })
    }
}

/// The receipt of a report revision: the newest revision held is the higher of the two (an
/// older revision arriving late is kept, but does not become current).
pub(crate) fn revision_receipt(
    id: Uuid,
    revision: u32,
    current: u32,
    received_at: DateTime<Utc>,
) -> ReportReceipt {
    ReportReceipt {
        id,
        revision,
        received_at,
        current_revision: current.max(revision),
        followup: None,
    }
}

/// The follow-up of a report as stored: state, officer, message and when it changed (a
/// report nobody has taken shows when it arrived).
pub(crate) fn stored_followup(
    state: &str,
    by: Option<String>,
    message: String,
    at: Option<DateTime<Utc>>,
    first_received_at: DateTime<Utc>,
) -> Followup {
    Followup {
        state: FollowupState::parse(state).unwrap_or(FollowupState::New),
        by,
        message,
        at: at.unwrap_or(first_received_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Officer, Revoker};

    fn followup(state: FollowupState, message: &str) -> Followup {
        Followup {
            state,
            by: None,
            message: message.into(),
            at: Utc::now(),
        }
    }

    fn change(state: FollowupState, message: Option<&str>, note: &str) -> FollowupChange {
        FollowupChange {
            state,
            message: message.map(str::to_string),
            note: note.into(),
        }
    }

    #[test]
    fn a_follow_up_change_writes_what_changed_and_nothing_else() {
        use FollowupState::*;
        let plan = followup_plan(
            &followup(New, ""),
            &change(Taken, Some(" Jag ringer dig. "), ""),
        )
        .unwrap()
        .unwrap();
        assert_eq!(plan.message, "Jag ringer dig.");
        assert_eq!(
            plan.entries,
            [
                ("taken", String::new()),
                ("message", "Jag ringer dig.".into())
            ]
        );
        // The same again: nothing.
        assert_eq!(
            followup_plan(
                &followup(Taken, "Jag ringer dig."),
                &change(Taken, Some("Jag ringer dig."), "")
            )
            .unwrap(),
            None
        );
        // Closing keeps the message and writes the note for the region.
        let plan = followup_plan(
            &followup(Taken, "Jag ringer dig."),
            &change(Closed, None, " Klart. "),
        )
        .unwrap()
        .unwrap();
        assert_eq!(plan.message, "Jag ringer dig.");
        assert_eq!(plan.entries, [("closed", "Klart.".to_string())]);
        let plan = followup_plan(&followup(Closed, ""), &change(Taken, None, ""))
            .unwrap()
            .unwrap();
        assert_eq!(plan.entries, [("reopened", String::new())]);
        assert!(matches!(
            followup_plan(&followup(Taken, ""), &change(New, None, "")),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn the_centres_answer_marks_the_alarm_only_for_the_alarm_itself() {
        let ack = centre_outcome(Some(true), "received", "ACK").unwrap();
        assert_eq!(ack.entry, ("centre_received", "received: ACK".to_string()));
        assert!(ack.received && !ack.refused);
        let cancel = centre_outcome(Some(true), "cancelled", "ACK").unwrap();
        assert!(
            !cancel.received,
            "an ACK of the cancel is not the alarm's receipt"
        );
        assert!(
            centre_outcome(Some(true), "checkin_overdue", "ACK")
                .unwrap()
                .received
        );
        let duh = centre_outcome(Some(false), "received", "DUH").unwrap();
        assert_eq!(duh.entry.0, "centre_refused");
        assert!(duh.refused && !duh.received);
        assert_eq!(centre_outcome(None, "received", "SKIP"), None);
    }

    fn session(expires_in: i64, seen_ago: i64, disabled: bool) -> (Session, DateTime<Utc>) {
        let now = Utc::now();
        let s = Session {
            officer: Officer {
                id: Uuid::now_v7(),
                region_id: "sormland".into(),
                username: "hanna".into(),
                display_name: "Hanna".into(),
                password_hash: String::new(),
                disabled_at: disabled.then_some(now),
                role: crate::store::OfficerRole::Handler,
                subject: None,
                totp: None,
            },
            expires_at: now + chrono::Duration::seconds(expires_in),
            created_at: now - chrono::Duration::seconds(seen_ago),
            last_seen_at: now - chrono::Duration::seconds(seen_ago),
            by: crate::store::SignedInBy::Password,
            renew_at: None,
            refresh: None,
        };
        (s, now)
    }

    #[test]
    fn a_session_lives_until_its_end_its_idle_time_or_its_officer_is_disabled() {
        let idle = std::time::Duration::from_secs(1800);
        let (s, now) = session(3600, 10, false);
        assert!(session_live(&s, now, idle));
        let (s, now) = session(0, 10, false);
        assert!(!session_live(&s, now, idle), "past its end");
        let (s, now) = session(3600, 1800, false);
        assert!(!session_live(&s, now, idle), "idle for the whole idle time");
        let (s, now) = session(3600, 1799, false);
        assert!(session_live(&s, now, idle));
        let (s, now) = session(3600, 10, true);
        assert!(!session_live(&s, now, idle), "disabled officer");
    }

    #[test]
    fn revokers_round_trip_and_old_rows_read_as_the_region() {
        for r in [Revoker::Region, Revoker::Person] {
            assert_eq!(Revoker::parse(Some(r.as_str())), Some(r));
        }
        assert_eq!(Revoker::parse(Some("")), Some(Revoker::Region));
        assert_eq!(Revoker::parse(None), None);
    }

    fn device(id: u128) -> Device {
        Device {
            id: Uuid::from_u128(id),
            region_id: "r".into(),
            name: "Anna".into(),
            role: varn_core::wire::Role::Fortroendevald,
            created_at: Utc::now(),
            revoked_at: None,
            revoked_by: None,
        }
    }

    fn alarm(status: AlarmStatus, duress: bool) -> Alarm {
        Alarm {
            status,
            duress_at: duress.then(Utc::now),
            ..Alarm::example()
        }
    }

    #[test]
    fn a_device_reaches_only_what_it_stored() {
        let a = alarm(AlarmStatus::Open, false);
        assert_eq!(own(Some(a.clone()), &device(1)).unwrap(), a);
        assert!(matches!(
            own(Some(a), &device(2)),
            Err(StoreError::OtherDevice)
        ));
        assert!(matches!(
            own::<Uuid>(None, &device(1)),
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            own(Some(Uuid::from_u128(3)), &device(1)),
            Err(StoreError::OtherDevice)
        ));
    }

    #[test]
    fn a_new_alarm_starts_its_timeline_on_the_device_and_then_here() {
        let t = Utc::now();
        let mut req = AlarmRequest {
            triggered_at: t - chrono::Duration::seconds(60),
            meeting: String::new(),
            place: String::new(),
            message: String::new(),
            drill: true,
            stored_at: Some(t - chrono::Duration::seconds(59)),
        };
        let e = alarm_opening(&req, "Anna", t);
        let kinds: Vec<_> = e
            .iter()
            .map(|e| (e.kind, e.who.as_str(), e.detail.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Triggered, "Anna", "drill"),
                (EventKind::Stored, "Anna", ""),
                (EventKind::Received, "server", "")
            ]
        );
        assert_eq!(
            (e[0].at, e[1].at, e[2].at),
            (req.triggered_at, req.stored_at.unwrap(), t)
        );
        req.drill = false;
        req.stored_at = None;
        let e = alarm_opening(&req, "Anna", t);
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].kind, e[0].detail.as_str()),
            (EventKind::Triggered, "")
        );
    }

    #[test]
    fn a_cancel_ends_an_alarm_once_and_duress_leaves_it_standing() {
        let cancel = |duress| CancelRequest {
            cancelled_at: Utc::now(),
            reason: String::new(),
            duress,
        };
        for status in [AlarmStatus::Open, AlarmStatus::Acknowledged] {
            let a = alarm(status, false);
            assert_eq!(cancel_plan(&a, &cancel(false)), CancelPlan::Cancel);
            assert_eq!(cancel_plan(&a, &cancel(true)), CancelPlan::Duress);
        }
        // A repeat of either, and no way back from duress to a real cancel.
        for duress in [false, true] {
            assert_eq!(
                cancel_plan(&alarm(AlarmStatus::Cancelled, false), &cancel(duress)),
                CancelPlan::Repeat
            );
            assert_eq!(
                cancel_plan(&alarm(AlarmStatus::Open, true), &cancel(duress)),
                CancelPlan::Repeat
            );
        }
        assert_eq!(CancelPlan::Repeat.entry(), None);
        assert_eq!(CancelPlan::Duress.entry(), Some(EventKind::Duress));
        assert_eq!(CancelPlan::Cancel.entry(), Some(EventKind::Cancelled));
    }

    #[test]
    fn only_an_open_alarm_is_acknowledged() {
        assert!(acknowledges(&alarm(AlarmStatus::Open, false)));
        assert!(acknowledges(&alarm(AlarmStatus::Open, true)));
        assert!(!acknowledges(&alarm(AlarmStatus::Acknowledged, false)));
        assert!(!acknowledges(&alarm(AlarmStatus::Cancelled, false)));
    }

    #[test]
    fn a_revision_is_never_rewritten_and_a_late_one_does_not_become_current() {
        assert!(repeated_revision("{}", "{}", 2, 3).is_ok());
        assert!(matches!(
            repeated_revision("{}", "{\"a\":1}", 2, 3),
            Err(StoreError::RevisionConflict {
                revision: 2,
                current: 3
            })
        ));
        let t = Utc::now();
        let id = Uuid::from_u128(5);
        assert_eq!(revision_receipt(id, 2, 3, t).current_revision, 3);
        assert_eq!(revision_receipt(id, 4, 3, t).current_revision, 4);
        assert_eq!(revision_receipt(id, 1, 0, t).current_revision, 1);
        assert_eq!(report_arrival(0, 1), ("received", "1".to_string()));
        assert_eq!(report_arrival(1, 2), ("revised", "2".to_string()));
    }

    #[test]
    fn a_chunk_starts_where_the_upload_ends_and_stays_within_its_size() {
        let a = Attachment {
            id: Uuid::from_u128(4),
            report_id: Uuid::from_u128(5),
            filename: "a.jpg".into(),
            content_type: "image/jpeg".into(),
            size: 10,
            sha256: String::new(),
            received: 4,
            complete_at: None,
        };
        assert_eq!(chunk_plan(&a, 4, 6).unwrap(), ChunkPlan::Store { end: 10 });
        assert_eq!(chunk_plan(&a, 4, 0).unwrap(), ChunkPlan::Answer(a.status()));
        assert!(matches!(
            chunk_plan(&a, 3, 1),
            Err(StoreError::OffsetMismatch { expected: 4 })
        ));
        assert!(matches!(
            chunk_plan(&a, 4, 7),
            Err(StoreError::TooLarge { size: 10 })
        ));
        // Finished: a repeat of the last chunk is answered as it stands, whatever it says.
        let done = Attachment {
            received: 10,
            complete_at: Some(Utc::now()),
            ..a
        };
        assert_eq!(
            chunk_plan(&done, 4, 6).unwrap(),
            ChunkPlan::Answer(done.status())
        );
    }
}
