//! Alarms from a device: raising, the long-poll for the receipt, cancelling (plainly or under duress), the person's words, the timeline, and the drill responder.

use super::*;

/// `PUT /v1/alarms/{id}/messages/{message}`: the person writes to the region during the
/// alarm (silently: a quick answer or their own words). The same message id again answers as
/// before; the receipt carries the whole conversation.
#[utoipa::path(
    put,
    path = paths::ALARM_MESSAGE,
    summary = "The person writes to the region during the alarm (idempotent per message id)",
    description = "A quick answer or the person's own words, silently. The same message id again answers as before; a different message under that id, or a message on a cancelled alarm, is 409. At most 200 messages an alarm.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The alarm's id"),
        ("message" = Uuid, Path, description = "The message's client id (UUIDv7)"),
    ),
    request_body = MessageRequest,
    responses(
        (status = 200, description = "Already stored: the receipt", body = AlarmReceipt),
        (status = 201, description = "Stored: the receipt with the conversation", body = AlarmReceipt),
        (status = 404, response = ProblemAnswer),
        (status = 409, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_message(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath((id, message)): ApiPath<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<MessageRequest>,
) -> Result<Response> {
    let text = message_text(&req.text)?;
    let m = AlarmMessage {
        id: message,
        from: MessageFrom::Person,
        author: device.name.clone(),
        text,
        at: state.now(),
    };
    let (alarm, created) = state
        .store()
        .add_alarm_message(&device.region_id, id, Some(device.id), &m)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("no such alarm for this device"),
            e => e.into(),
        })?;
    let receipt = alarm.receipt();
    if created {
        tracing::info!(alarm = %id, device = %device.id, "message from the person");
    }
    Ok(stored(created, receipt))
}

/// `PUT /v1/alarms/{id}`: raise an alarm. The same id again returns the same receipt.
#[utoipa::path(
    put,
    path = paths::ALARM,
    summary = "Raise an alarm (idempotent)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The client's UUIDv7 for this alarm"),
    ),
    request_body = AlarmRequest,
    responses(
        (status = 200, description = "Stored before; the same receipt", body = AlarmReceipt),
        (status = 201, description = "Stored now; the receipt", body = AlarmReceipt),
        (status = 403, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_alarm(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<AlarmRequest>,
) -> Result<Response> {
    req.validate()?;
    let stored_before = async {
        Ok(state
            .store()
            .alarm(&device.region_id, id)
            .await?
            .filter(|a| a.device_id == device.id)
            .map(|a| Json(a.receipt()).into_response()))
    };
    let write = state.store().put_alarm(&device, id, &req, state.now());
    let (alarm, created) =
        match counted(&state, &device, &[(Quota::Alarm, 1)], stored_before, write).await? {
            Ok(r) => r,
            Err(answer) => return Ok(answer),
        };
    let receipt = alarm.receipt();
    if created {
        tracing::info!(alarm = %id, device = %device.id, "alarm received");
        if alarm.drill && auto_acknowledges_drills(&state, &device.region_id) {
            spawn_drill_responder(state.clone(), device.region_id.clone(), id);
        }
    }
    Ok(stored(created, receipt))
}

/// Query of `GET /v1/alarms/{id}`.
#[derive(Deserialize)]
pub struct WaitQuery {
    /// Answer only when the alarm's version is higher than this (long-poll).
    after_version: Option<u64>,
    /// Seconds to wait for that, at most [`MAX_WAIT_SECS`].
    wait: Option<u64>,
}

/// `GET /v1/alarms/{id}`: the receipt; with `after_version`, waits for a change.
#[utoipa::path(
    get,
    path = paths::ALARM,
    summary = "The alarm's receipt; with after_version, wait for a change (long-poll)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The alarm's id"),
        ("after_version" = inline(Option<VersionNumber>), Query, description = "Answer when the alarm's version is higher than this"),
        ("wait" = inline(Option<WaitSeconds>), Query, description = "Seconds to wait for a change (at most 30)"),
    ),
    responses(
        (status = 200, description = "The receipt", body = AlarmReceipt),
        (status = 400, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn get_alarm(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Response> {
    if q.wait.is_some_and(|w| w > MAX_WAIT_SECS) {
        return Err(ApiError::bad_request(format!(
            "wait is at most {MAX_WAIT_SECS} seconds"
        )));
    }
    let after = match q.after_version.map(i64::try_from) {
        None => i64::MIN,
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            return Err(ApiError::bad_request(format!(
                "after_version is at most {}",
                i64::MAX
            )))
        }
    };
    // Subscribe before reading, so a change in between is not missed.
    let mut changes = state.subscribe();
    let own = |a: &crate::store::Alarm| a.device_id == device.id;
    let alarm = state
        .store()
        .alarm(&device.region_id, id)
        .await?
        .filter(own)
        .ok_or_else(|| ApiError::not_found("no such alarm for this device"))?;
    if alarm.version > after || q.wait.unwrap_or(0) == 0 {
        return Ok(Json(alarm.receipt()).into_response());
    }
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    let changed = async {
        loop {
            match changes.recv().await {
                Ok(a) if a.id == id && a.version > after => return,
                Ok(_) => {}
                // Missed some: re-read below.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    };
    tokio::select! {
        _ = changed => {}
        _ = tokio::time::sleep(wait) => {}
        _ = state.shutting_down() => {}
    }
    let alarm = state
        .store()
        .alarm(&device.region_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such alarm for this device"))?;
    Ok(Json(alarm.receipt()).into_response())
}

/// `POST /v1/alarms/{id}/cancel`: a false alarm (idempotent).
#[utoipa::path(
    post,
    path = paths::ALARM_CANCEL,
    summary = "Cancel an alarm as a false alarm (idempotent)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The alarm's id"),
    ),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "The receipt after cancelling", body = AlarmReceipt),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn cancel_alarm(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CancelRequest>,
) -> Result<Response> {
    req.validate()?;
    let (alarm, changed) = state
        .store()
        .cancel_alarm(&device, id, &req, state.now())
        .await?;
    if changed {
        // The same line for a plain cancel and a duress cancel: the log is no place to
        // learn who is under duress.
        tracing::info!(alarm = %id, "alarm cancelled");
    }
    Ok(Json(alarm.receipt()).into_response())
}

/// `GET /v1/alarms/{id}/timeline`: the alarm's timeline as the device may show it. For an
/// alarm cancelled under duress it ends with a plain cancel, so the device never shows
/// that the alarm is still running.
#[utoipa::path(
    get,
    path = paths::ALARM_TIMELINE,
    summary = "The alarm's timeline as the device may show it (a duress alarm ends with its cancel)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The alarm's id"),
    ),
    responses(
        (status = 200, description = "The timeline, oldest first", body = Vec<TimelineEntry>),
        (status = 400, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn get_timeline(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let alarm = state
        .store()
        .alarm(&device.region_id, id)
        .await?
        .filter(|a| a.device_id == device.id)
        .ok_or_else(|| ApiError::not_found("no such alarm for this device"))?;
    let events = state.store().alarm_events(&device.region_id, id).await?;
    Ok(Json(for_device(events, alarm.duress_at.is_some())).into_response())
}

/// What the device is shown of a timeline: everything, or for a duress alarm everything up
/// to the duress, which reads as a cancel.
pub fn for_device(events: Vec<TimelineEntry>, duress: bool) -> Vec<TimelineEntry> {
    if !duress {
        return events;
    }
    let mut shown = Vec::with_capacity(events.len());
    for mut e in events {
        if e.kind == EventKind::Duress.as_str() {
            e.kind = EventKind::Cancelled.as_str().into();
            shown.push(e);
            break;
        }
        shown.push(e);
    }
    shown
}

/// The name on acknowledgements by the automatic drill responder.
pub const DRILL_RESPONDER: &str = "Automatiskt testsvar";
/// How long the automatic responder waits, so the drill shows on dashboards first.
const DRILL_RESPONDER_DELAY: Duration = Duration::from_secs(2);

fn auto_acknowledges_drills(state: &AppState, region_id: &str) -> bool {
    state
        .profile(region_id)
        .is_some_and(|p| p.profile.alarm.drill_auto_ack)
}

/// Acknowledges a drill on the region's behalf when its profile allows it (a region without
/// a staffed dashboard can still drill the whole path).
fn spawn_drill_responder(state: AppState, region_id: String, id: Uuid) {
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(DRILL_RESPONDER_DELAY) => {}
            _ = state.shutting_down() => return,
        }
        let responder = crate::store::Officer {
            id: Uuid::nil(),
            region_id,
            username: String::new(),
            display_name: DRILL_RESPONDER.into(),
            password_hash: String::new(),
            disabled_at: None,
            role: crate::store::OfficerRole::Handler,
            subject: None,
            totp: None,
        };
        match state
            .store()
            .acknowledge_alarm(&responder, id, state.now())
            .await
        {
            Ok(_) => {}
            Err(e) => tracing::error!(alarm = %id, "the drill responder failed: {e}"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;
    use varn_core::paths::{AFTER_VERSION, WAIT};

    /// The long-poll's query names are the core's, which the app builds its requests from.
    #[test]
    fn the_long_poll_reads_the_query_names_the_app_sends() {
        let uri: axum::http::Uri = format!("/x?{AFTER_VERSION}=3&{WAIT}=4").parse().unwrap();
        let Query(q) = Query::<WaitQuery>::try_from_uri(&uri).unwrap();
        assert_eq!((q.after_version, q.wait), (Some(3), Some(4)));
    }
}
