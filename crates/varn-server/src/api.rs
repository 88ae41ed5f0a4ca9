//! The device API: enroll, raise and cancel alarms, wait for acknowledgement, send reports and
//! upload attachments. Every write is idempotent by the client's id.

use std::time::Duration;
use varn_core::wire::ProblemType;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;
use varn_core::paths;
use varn_core::wire::{
    check_text, message_text, normalize_code, AlarmMessage, AlarmReceipt, AlarmRequest,
    AttachmentMeta, CancelRequest, CheckinReceipt, CheckinRequest, CheckoutRequest, DeviceInfo,
    EnrollRequest, EnrollResponse, EventKind, Instructions, MessageFrom, MessageRequest,
    ReportReceipt, ReportRequest, TimelineEntry, UploadStatus, MAX_MESSAGE_CHARS,
};

use crate::auth::{self, DeviceAuth};
use crate::contract::{
    BodyProblems, DeviceProblems, JsonObject, Octets, ProblemAnswer, UploadOffset, VersionNumber,
    WaitSeconds,
};
use crate::front::ClientIp;
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::ratelimit::{OverQuota, Quota};
use crate::store::{Revoker, StoreError};
use crate::AppState;

/// How long an enrollment code is valid.
pub const CODE_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
pub use crate::limits::MAX_WAIT_SECS;

type Result<T> = std::result::Result<T, ApiError>;

/// `POST /v1/enroll`: a one-time code for a device token. A failure slot of the address is
/// taken before the code is looked up, so parallel guesses cannot exceed the limit.
#[utoipa::path(
    post,
    path = paths::ENROLL,
    summary = "Exchange a one-time enrollment code for a device token",
    description = "Wrong codes are rate-limited per client address (429 with Retry-After).",
    request_body = EnrollRequest,
    responses(
        (status = 201, description = "Enrolled; the token is shown only here", body = EnrollResponse),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn enroll(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Response> {
    let slot = state
        .enroll_limiter()
        .begin(client)
        .map_err(|r| crate::admission::refused(r, "wrong enrollment codes"))?;
    // Past the server's budget of wrong codes everyone is slowed, nobody refused.
    tokio::time::sleep(slot.delay).await;
    let code = normalize_code(&req.code);
    if code.len() != auth::CODE_LEN {
        drop(slot);
        return Err(ApiError::unauthorized(
            ProblemType::BadCode,
            format!(
                "an enrollment code has {} letters and digits",
                auth::CODE_LEN
            ),
        ));
    }
    let token = auth::new_token();
    // Codes are stored under the server's secret; codes made before that by their plain
    // SHA-256 (they expire within a day).
    let hashes = [state.secret().code_hash(&code), auth::hash_secret(&code)];
    let result = state
        .store()
        .enroll(
            &hashes,
            &auth::hash_secret(&token),
            Uuid::now_v7(),
            state.now(),
        )
        .await;
    let device = match result {
        Ok(d) => {
            slot.succeeded();
            d
        }
        Err(e @ StoreError::Backend(_)) => {
            slot.not_counted();
            return Err(e.into());
        }
        Err(e) => {
            drop(slot);
            return Err(e.into());
        }
    };
    tracing::info!(device = %device.id, region = %device.region_id, "device enrolled");
    let profile_key = state
        .profile(&device.region_id)
        .and_then(|p| p.key)
        .map(|k| k.encode());
    let body = EnrollResponse {
        device_id: device.id,
        token,
        region_id: device.region_id,
        name: device.name,
        role: device.role,
        profile_key,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /v1/me`: the person unlinked the app. The device is revoked at once (its token
/// stops working) and the dashboard shows it as unlinked by the person.
#[utoipa::path(
    delete,
    path = paths::ME,
    summary = "Unlink: the device revokes its own token (the dashboard shows it as unlinked by the person)",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked; the token is no longer accepted"),
        DeviceProblems,
    )
)]
pub async fn unlink(State(state): State<AppState>, DeviceAuth(d): DeviceAuth) -> Result<Response> {
    state
        .store()
        .revoke_device(d.id, state.now(), Revoker::Person)
        .await?;
    tracing::info!(device = %d.id, "device unlinked by the person");
    Ok(StatusCode::NO_CONTENT.into_response())
}

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
        state.publish(alarm);
    }
    Ok(stored(created, receipt))
}

/// `PUT /v1/me/instructions`: what the person wants responders to know (e.g. "ring inte
/// tillbaka", a code word, medical needs), shown to officers with each of their alarms.
#[utoipa::path(
    put,
    path = paths::INSTRUCTIONS,
    summary = "What responders should know about this person (shown to officers with every alarm)",
    security(("bearer" = [])),
    request_body = Instructions,
    responses(
        (status = 200, description = "Stored (trimmed)", body = Instructions),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_instructions(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(req): ApiJson<Instructions>,
) -> Result<Response> {
    let text = req.text.trim().to_string();
    check_text("text", &text, MAX_MESSAGE_CHARS)?;
    state.store().set_instructions(device.id, &text).await?;
    Ok(Json(Instructions { text }).into_response())
}

/// The answer to an idempotent write: 201 with what was stored when this request stored it,
/// 200 with the same when it was there already (a retry).
fn stored<T: serde::Serialize>(created: bool, body: T) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

/// 429 for a device over a quota.
pub(crate) fn over(q: OverQuota) -> ApiError {
    ApiError::too_many(q.wait, q.detail)
}

/// A write counted against the device's quota for `kind`: over the quota it is refused,
/// unless `stored_before` finds the request already stored (a retry, answered as before
/// whatever the quota says — then the answer comes back as `Err`). A write that stores
/// nothing new (it reports `false`) is not counted.
async fn counted<T>(
    state: &AppState,
    device: &crate::store::Device,
    kinds: &[(Quota, u64)],
    stored_before: impl std::future::Future<Output = Result<Option<Response>>>,
    write: impl std::future::Future<Output = std::result::Result<(T, bool), StoreError>>,
) -> Result<std::result::Result<(T, bool), Response>> {
    let give_back = |taken: Vec<crate::ratelimit::Taken>| {
        for t in taken {
            state.quotas().give_back(t);
        }
    };
    let mut taken = Vec::with_capacity(kinds.len());
    for &(kind, amount) in kinds {
        match state.quotas().take(device.id, kind, amount) {
            Ok(t) => taken.push(t),
            Err(q) => {
                give_back(taken);
                return match stored_before.await? {
                    Some(answer) => Ok(Err(answer)),
                    None => Err(over(q)),
                };
            }
        }
    }
    match write.await {
        Ok((value, true)) => Ok(Ok((value, true))),
        Ok((value, false)) => {
            give_back(taken);
            Ok(Ok((value, false)))
        }
        Err(e) => {
            give_back(taken);
            Err(e.into())
        }
    }
}

/// `GET /v1/me`.
#[utoipa::path(
    get,
    path = paths::ME,
    summary = "Who the token belongs to",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The device", body = DeviceInfo),
        DeviceProblems,
    )
)]
pub async fn me(DeviceAuth(d): DeviceAuth) -> Json<DeviceInfo> {
    Json(DeviceInfo {
        device_id: d.id,
        region_id: d.region_id,
        name: d.name,
        role: d.role,
    })
}

/// `GET /v1/profile`: the device's region profile as the region signed it (a
/// [`varn_core::signing::SignedProfile`]), `304` when the ETag matches.
#[utoipa::path(
    get,
    path = paths::PROFILE,
    summary = "The region profile of the device's region",
    security(("bearer" = [])),
    params(
        ("If-None-Match" = Option<String>, Header, nullable = false),
    ),
    responses(
        (status = 200, description = "The profile (see varn_core::profile)", body = inline(JsonObject), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn profile(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
    headers: HeaderMap,
) -> Result<Response> {
    let p = state
        .profile(&d.region_id)
        .ok_or_else(|| ApiError::not_found("no profile is configured for this device's region"))?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == p.etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, p.etag.clone())]).into_response());
    }
    Ok((
        [
            (header::ETAG, p.etag.clone()),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        p.json.clone(),
    )
        .into_response())
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
        state.publish(alarm);
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
        state.publish(alarm.clone());
    }
    Ok(Json(alarm.receipt()).into_response())
}

/// `PUT /v1/checkins/{id}`: a check-in or an extension of it (idempotent per revision).
#[utoipa::path(
    put,
    path = paths::CHECKIN,
    summary = "Check in, or extend (idempotent per revision)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The check-in's id"),
    ),
    request_body = CheckinRequest,
    responses(
        (status = 200, description = "What the server holds", body = CheckinReceipt),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_checkin(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CheckinRequest>,
) -> Result<Response> {
    req.validate()?;
    let stored_before = async {
        Ok(state
            .store()
            .checkin(&device.region_id, id)
            .await?
            .filter(|k| k.device_id == device.id && k.revision >= req.revision)
            .map(|k| Json(k.receipt()).into_response()))
    };
    let write = state.store().put_checkin(&device, id, &req, state.now());
    let (k, changed) = match counted(
        &state,
        &device,
        &[(Quota::Checkin, 1)],
        stored_before,
        write,
    )
    .await?
    {
        Ok(r) => r,
        Err(answer) => return Ok(answer),
    };
    if changed {
        tracing::info!(checkin = %id, revision = k.revision, "check-in stored");
    }
    Ok(Json(k.receipt()).into_response())
}

/// `GET /v1/checkins/{id}`: what the server holds.
#[utoipa::path(
    get,
    path = paths::CHECKIN,
    summary = "What the server holds for a check-in",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The check-in's id"),
    ),
    responses(
        (status = 200, description = "What the server holds", body = CheckinReceipt),
        (status = 400, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn get_checkin(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let k = state
        .store()
        .checkin(&device.region_id, id)
        .await?
        .filter(|k| k.device_id == device.id)
        .ok_or_else(|| ApiError::not_found("no such check-in for this device"))?;
    Ok(Json(k.receipt()).into_response())
}

/// `POST /v1/checkins/{id}/checkout` (idempotent). After a missed deadline the alarm stays
/// until an officer acknowledges it.
#[utoipa::path(
    post,
    path = paths::CHECKOUT,
    summary = "Check out (idempotent); after a missed deadline it is recorded and the alarm stays until acknowledged",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The check-in's id"),
    ),
    request_body = CheckoutRequest,
    responses(
        (status = 200, description = "What the server holds", body = CheckinReceipt),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn checkout(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CheckoutRequest>,
) -> Result<Response> {
    let (k, alarm) = state
        .store()
        .checkout_checkin(&device, id, &req, state.now())
        .await?;
    if let Some(alarm) = alarm {
        state.publish(alarm);
    }
    Ok(Json(k.receipt()).into_response())
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
        };
        match state
            .store()
            .acknowledge_alarm(&responder, id, state.now())
            .await
        {
            Ok((alarm, true)) => state.publish(alarm),
            Ok((_, false)) => {}
            Err(e) => tracing::error!(alarm = %id, "the drill responder failed: {e}"),
        }
    });
}

/// `PUT /v1/reports/{id}`: one revision of a report (idempotent per revision).
#[utoipa::path(
    put,
    path = paths::REPORT,
    summary = "Send one revision of an incident report (idempotent per revision)",
    description = "An older revision never replaces a newer one; every revision received is kept. The same revision with different content is a 409.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The client's UUIDv7 for this report"),
    ),
    request_body = ReportRequest,
    responses(
        (status = 200, description = "This revision was stored before", body = ReportReceipt),
        (status = 201, description = "This revision was stored now", body = ReportReceipt),
        (status = 403, response = ProblemAnswer),
        (status = 409, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ReportRequest>,
) -> Result<Response> {
    req.validate()?;
    let stored_before = async {
        Ok(state
            .store()
            .report_receipt(&device, id)
            .await?
            .filter(|r| r.revision >= req.revision)
            .map(|r| Json(r).into_response()))
    };
    let write = state.store().put_report(&device, id, &req, state.now());
    // Counted in revisions and in bytes (the revision as JSON, as it is stored).
    let bytes = serde_json::to_vec(&req).map_or(0, |v| v.len() as u64);
    let quotas = [(Quota::ReportRevision, 1), (Quota::ReportBytes, bytes)];
    let (receipt, created) = match counted(&state, &device, &quotas, stored_before, write).await? {
        Ok(r) => r,
        Err(answer) => return Ok(answer),
    };
    Ok(stored(created, receipt))
}

/// `GET /v1/reports/{id}`: the device's receipt for its own report.
#[utoipa::path(
    get,
    path = paths::REPORT,
    summary = "The device's receipt for its report",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The report's id"),
    ),
    responses(
        (status = 200, description = "Receipt of the newest revision", body = ReportReceipt),
        (status = 400, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn get_report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let receipt = state
        .store()
        .report_receipt(&device, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such report for this device"))?;
    Ok(Json(receipt).into_response())
}

/// `PUT /v1/reports/{report}/attachments/{id}`: announce an attachment (idempotent).
#[utoipa::path(
    put,
    path = paths::REPORT_ATTACHMENT,
    summary = "Announce an attachment of a report (idempotent)",
    security(("bearer" = [])),
    params(
        ("report" = Uuid, Path, description = "The report's id (sent first)"),
        ("id" = Uuid, Path, description = "The client's UUIDv7 for this attachment"),
    ),
    request_body = AttachmentMeta,
    responses(
        (status = 200, description = "Where the upload stands", body = UploadStatus),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        (status = 409, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_attachment(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath((report, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(meta): ApiJson<AttachmentMeta>,
) -> Result<Response> {
    meta.validate()?;
    // Announcing again (a retry) is not counted again.
    let known = match state.store().upload(&device, id).await {
        Ok(_) => true,
        Err(StoreError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    let taken = if known {
        None
    } else {
        Some(
            state
                .quotas()
                .take(device.id, Quota::Attachment, 1)
                .map_err(over)?,
        )
    };
    let result = state
        .store()
        .create_attachment(&device, report, id, &meta, state.now())
        .await;
    if let (Err(_), Some(t)) = (&result, taken) {
        state.quotas().give_back(t);
    }
    Ok(Json(result?).into_response())
}

/// `GET /v1/attachments/{id}`: where the upload stands.
#[utoipa::path(
    get,
    path = paths::UPLOAD,
    summary = "Where an upload stands (resume from offset)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The attachment's id"),
    ),
    responses(
        (status = 200, description = "Upload status", body = UploadStatus),
        (status = 400, response = ProblemAnswer),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn get_upload(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    Ok(Json(state.store().upload(&device, id).await?.0.status()).into_response())
}

pub use varn_core::paths::UPLOAD_OFFSET;

/// `PATCH /v1/attachments/{id}`: a chunk starting at `Upload-Offset`.
#[utoipa::path(
    patch,
    path = paths::UPLOAD,
    summary = "Upload a chunk starting at Upload-Offset",
    description = "Chunks of at most 4 MiB. A chunk that does not start at the server's offset is a 409 whose problem carries the offset to resume from. When the last byte arrives the SHA-256 is checked; on mismatch the upload is reset to 0 (422).",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The attachment's id"),
        ("Upload-Offset" = inline(UploadOffset), Header),
    ),
    request_body(content = inline(Octets), content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Upload status after the chunk", body = UploadStatus),
        (status = 400, response = ProblemAnswer),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        (status = 409, response = ProblemAnswer),
        (status = 413, response = ProblemAnswer),
        (status = 422, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn patch_upload(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let offset: u64 = headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request("send the chunk's start as the Upload-Offset header (bytes)")
        })?;
    let is_octets = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"));
    if !is_octets {
        return Err(ApiError::bad_request(
            "send the chunk as Content-Type: application/octet-stream",
        ));
    }
    if body.len() > varn_core::wire::MAX_CHUNK_BYTES {
        return Err(ApiError::bad_request(format!(
            "a chunk may hold at most {} bytes",
            varn_core::wire::MAX_CHUNK_BYTES
        )));
    }
    let (a, hash_state) = state.store().upload(&device, id).await?;
    if a.complete_at.is_some() {
        // A retry of the last chunk whose answer was lost: already done.
        return Ok(Json(a.status()).into_response());
    }
    if offset != a.received {
        return Err(StoreError::OffsetMismatch {
            expected: a.received,
        }
        .into());
    }
    if offset + body.len() as u64 > a.size {
        return Err(StoreError::TooLarge { size: a.size }.into());
    }
    if body.is_empty() {
        return Ok(Json(a.status()).into_response());
    }
    let taken = state
        .quotas()
        .take(device.id, Quota::UploadBytes, body.len() as u64)
        .map_err(over)?;
    // An upload begun before the running hash was kept (or whose state is damaged) has its
    // state rebuilt from the chunks once.
    let hash_state = match (hash_state, a.received) {
        (Some(s), _) if crate::uploads::state_readable(&s) => Some(s),
        (_, 0) => None,
        (_, upto) => Some(crate::uploads::rebuild(&state, &device.region_id, id, upto).await?),
    };
    // Hashing 4 MiB takes milliseconds: off the async workers, and never on the database's
    // writer thread.
    let (verdict, body) = tokio::task::spawn_blocking(move || {
        let v = crate::uploads::judge(&a, hash_state.as_deref(), &body);
        (v, body)
    })
    .await
    .map_err(|e| ApiError::unavailable(format!("hashing the chunk failed: {e}")))?;
    let verdict = verdict?;
    let result = state
        .store()
        .append_chunk(&device, id, offset, body.to_vec(), verdict, state.now())
        .await;
    if matches!(
        result,
        Err(StoreError::OffsetMismatch { .. }
            | StoreError::Backend(_)
            | StoreError::TooLarge { .. })
    ) {
        state.quotas().give_back(taken);
    }
    Ok(Json(result?).into_response())
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
