//! Alarms on the dashboard: the list and the live feed (each read recorded with the ids it gave), one alarm whole, acknowledging, the timeline and its text export, what the officer writes, notes, and the alarm centre's state.

use super::*;

/// An alarm as the dashboard shows it: with `late_seconds` when it reached the server after
/// the app had told the person to call 112 (`varn_core::alarm::told_to_call_112`).
pub(super) fn as_shown(a: &crate::store::Alarm) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        let late = varn_core::alarm::told_to_call_112(a.triggered_at, a.received_at);
        o.insert("late_seconds".into(), late.into());
    }
    v
}

/// An alarm as the list and the live feed carry it: without the silent conversation and the
/// person's instructions (those are read one alarm at a time, [`alarm`], and recorded), with
/// how many messages there are and from the person, and whether there are instructions.
pub(super) fn listed(a: &crate::store::Alarm) -> serde_json::Value {
    let mut v = as_shown(a);
    if let Some(o) = v.as_object_mut() {
        o.remove("messages");
        o.remove("instructions");
        let from_person = a
            .messages
            .iter()
            .filter(|m| m.from == varn_core::wire::MessageFrom::Person)
            .count();
        o.insert("messages_count".into(), a.messages.len().into());
        o.insert("messages_from_person".into(), from_person.into());
        o.insert(
            "has_instructions".into(),
            (!a.instructions.is_empty()).into(),
        );
    }
    v
}

/// The region's newest alarms, without their conversations and instructions (recorded).
pub(super) async fn alarms(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Result<Response> {
    let list = state.store().alarms(&o.region_id, LIST_LIMIT).await?;
    record_list(
        &state,
        &o,
        AuditAction::ReadAlarmList,
        "alarm",
        list.iter().map(|a| a.id),
    )
    .await?;
    Ok(Json(list.iter().map(listed).collect::<Vec<_>>()).into_response())
}

/// One alarm whole: its silent conversation and the person's instructions (recorded).
pub(super) async fn alarm(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let a = region_alarm(&state, &o, id).await?;
    followup::record(&state, &o, AuditAction::ReadAlarm, "alarm", id).await?;
    Ok(Json(as_shown(&a)).into_response())
}

/// Writes, when a live feed ends, which alarms it sent after its first list.
pub(super) struct FeedLog {
    state: AppState,
    officer: crate::store::Officer,
    sent: Arc<std::sync::Mutex<std::collections::BTreeSet<Uuid>>>,
}

impl Drop for FeedLog {
    fn drop(&mut self) {
        let ids: Vec<Uuid> =
            std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        if ids.is_empty() {
            return;
        }
        let (state, officer) = (self.state.clone(), self.officer.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = record_list(&state, &officer, AuditAction::LiveFeedSent, "alarm", ids).await {
                    tracing::error!(officer = %officer.id, "the audit log did not take what a live feed sent: {e:?}");
                }
            });
        }
    }
}

/// How often an open live feed checks that its session still stands.
pub const FEED_SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Resolves when the session behind a live feed has ended (logout, expiry, idle, the
/// officer disabled or removed), checked every [`FEED_SESSION_CHECK`]; keeps the session
/// alive meanwhile.
pub(super) async fn session_ended(state: AppState, key: String) {
    loop {
        tokio::time::sleep(FEED_SESSION_CHECK).await;
        match state.live_session(&key).await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            // The database is unreachable: keep the feed (alarms come from memory) and look
            // again.
            Err(_) => {}
        }
    }
}

/// The live feed: first a `snapshot` of the region's alarms, then every change as `alarm`.
/// `resync` asks the page to fetch the list again (it fell behind). The feed ends with
/// `ended` within seconds of its session ending, so names and places stop flowing at once.
pub(super) async fn events(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    axum::Extension(SessionKey(key)): axum::Extension<SessionKey>,
) -> Result<Response> {
    // Subscribe first: nothing that happens while the snapshot is read is lost.
    let rx = state.subscribe();
    let snapshot = state.store().alarms(&o.region_id, LIST_LIMIT).await?;
    record_list(
        &state,
        &o,
        AuditAction::OpenLiveFeed,
        "alarm",
        snapshot.iter().map(|a| a.id),
    )
    .await?;
    let snapshot: Vec<serde_json::Value> = snapshot.iter().map(listed).collect();
    let region = o.region_id.clone();
    let first =
        stream::once(async move { Event::default().event("snapshot").json_data(&snapshot).ok() });
    // What the feed sends later is recorded when it ends (one entry per feed).
    let log = FeedLog {
        state: state.clone(),
        officer: o.clone(),
        sent: Default::default(),
    };
    let changes = BroadcastStream::new(rx).map(move |msg| match msg {
        Ok(alarm) if alarm.region_id == region => {
            log.sent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(alarm.id);
            Event::default()
                .event("alarm")
                .json_data(listed(&alarm))
                .ok()
        }
        Ok(_) => None,
        Err(_) => Some(Event::default().event("resync").data("")),
    });
    // The feed stops at shutdown or when the session ends; in the latter case it says so
    // with a last `ended` event (the page then shows the login).
    let ended = Arc::new(AtomicBool::new(false));
    let stop = {
        let (state, ended) = (state.clone(), ended.clone());
        async move {
            tokio::select! {
                _ = session_ended(state.clone(), key) => ended.store(true, Ordering::SeqCst),
                _ = state.shutting_down() => {}
            }
        }
    };
    let last = stream::once(async move {
        ended
            .load(Ordering::SeqCst)
            .then(|| Event::default().event("ended").data(""))
    });
    let events = first
        .chain(changes)
        .filter_map(|e| async move { e })
        .take_until(stop)
        .chain(last.filter_map(|e| async move { e }))
        .map(Ok::<_, Infallible>);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

pub(super) async fn acknowledge(
    State(state): State<AppState>,
    MayAct(o): MayAct,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    let (alarm, changed) = state.store().acknowledge_alarm(&o, id, state.now()).await?;
    if changed {
        tracing::info!(alarm = %id, officer = %o.id, "alarm acknowledged");
    }
    // The answer is the alarm whole.
    followup::record(&state, &o, AuditAction::ReadAlarm, "alarm", id).await?;
    Ok(Json(as_shown(&alarm)).into_response())
}

/// An alarm of the officer's region, or 404.
pub(super) async fn region_alarm(
    state: &AppState,
    o: &crate::store::Officer,
    id: Uuid,
) -> Result<crate::store::Alarm> {
    state
        .store()
        .alarm(&o.region_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such alarm in your region"))
}

/// An alarm of the officer's region with its timeline, or 404.
pub(super) async fn alarm_with_events(
    state: &AppState,
    o: &crate::store::Officer,
    id: Uuid,
) -> Result<(crate::store::Alarm, Vec<crate::store::AlarmEvent>)> {
    let alarm = region_alarm(state, o, id).await?;
    Ok((alarm, state.store().alarm_events(&o.region_id, id).await?))
}

pub(super) async fn timeline(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let events = alarm_with_events(&state, &o, id).await?.1;
    followup::record(&state, &o, AuditAction::ReadTimeline, "alarm", id).await?;
    Ok(Json(events).into_response())
}

/// The timeline as text for a police report, in the server's local time.
pub(super) async fn timeline_text(
    State(state): State<AppState>,
    MayAct(o): MayAct,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let (alarm, events) = alarm_with_events(&state, &o, id).await?;
    followup::record(&state, &o, AuditAction::ExportTimeline, "alarm", id).await?;
    let id_text = alarm.id.to_string();
    let header = varn_core::timeline::Header {
        id: &id_text,
        who: &alarm.who,
        meeting: &alarm.meeting,
        place: &alarm.place,
        drill: alarm.drill,
    };
    let text = varn_core::timeline::to_text(&header, &events, &chrono::Local, state.now());
    Ok(download(
        text,
        "text/plain; charset=utf-8",
        &format!("varn-larm-{id_text}.txt"),
    ))
}

/// `POST …/shown`: the page has put the alarm on screen (recorded once per officer).
pub(super) async fn shown(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    state.store().mark_shown(&o, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The longest officer note.
pub const MAX_NOTE_CHARS: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteRequest {
    text: String,
}

/// `POST …/notes`: an officer's note on the alarm's timeline.
pub(super) async fn add_note(
    State(state): State<AppState>,
    MayAct(o): MayAct,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    let text = req.text.trim();
    if text.is_empty() {
        return Err(ApiError::unprocessable("a note needs some text"));
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::unprocessable(format!(
            "a note is at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let event = crate::store::AlarmEvent {
        at: state.now(),
        kind: varn_core::wire::EventKind::Note.as_str().into(),
        actor: o.display_name.clone(),
        detail: text.to_string(),
    };
    state
        .store()
        .add_alarm_event(&o.region_id, id, &event)
        .await?;
    // The answer is the timeline.
    let events = state.store().alarm_events(&o.region_id, id).await?;
    followup::record(&state, &o, AuditAction::ReadTimeline, "alarm", id).await?;
    Ok(Json(events).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OfficerMessage {
    /// The page's id for the message (UUIDv7): a resend is stored once.
    id: Uuid,
    text: String,
}

/// `POST …/messages`: an officer writes to the person during the alarm. The person's app
/// shows it at once (its long-poll wakes); after a duress cancel it is kept for the region
/// only and the person's device never shows it.
pub(super) async fn send_message(
    State(state): State<AppState>,
    MayAct(o): MayAct,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<OfficerMessage>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    let text = varn_core::wire::message_text(&req.text)?;
    let m = varn_core::wire::AlarmMessage {
        id: req.id,
        from: varn_core::wire::MessageFrom::Officer,
        author: o.display_name.clone(),
        text,
        at: state.now(),
    };
    let (alarm, created) = state
        .store()
        .add_alarm_message(&o.region_id, id, None, &m)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                ApiError::not_found("no such alarm in your region")
            }
            e => e.into(),
        })?;
    if created {
        tracing::info!(alarm = %id, officer = %o.id, "message to the person");
    }
    // The answer is the alarm whole.
    followup::record(&state, &o, AuditAction::ReadAlarm, "alarm", id).await?;
    Ok(Json(as_shown(&alarm)).into_response())
}

/// Whether the region has an alarm centre (`configured`) and how the link to it stands.
pub(super) async fn centre_status(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Result<Response> {
    let status = state.store().centre_status(&o.region_id).await?;
    Ok(Json(serde_json::json!({
        "configured": state.has_centre(&o.region_id),
        "last_answer_at": status.as_ref().and_then(|s| s.last_answer_at),
        "down_since": status.as_ref().and_then(|s| s.down_since),
        "receivers": status.map(|s| s.receivers).unwrap_or_default(),
    }))
    .into_response())
}
