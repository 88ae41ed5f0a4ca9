//! The security officers' dashboard: a web page behind a login (HttpOnly, SameSite=Strict
//! session cookie) with the live list of alarms (SSE), acknowledgement with one click, and the
//! reports with their attachments. Officers see only their own region.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use varn_core::wire::ProblemType;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use crate::admission::SessionKey;
use crate::auth::{self, OfficerAuth};
use crate::front::ClientIp;
use crate::problem::{ApiError, ApiJson, ApiPath};
use crate::store::AuditAction;
use crate::AppState;

mod followup;

/// How long a dashboard session lasts.
pub const SESSION_HOURS: i64 = 12;
/// How many alarms and reports the lists show.
pub const LIST_LIMIT: u32 = 200;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");
const STATS_JS: &str = include_str!("stats.js");
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) type Result<T> = std::result::Result<T, ApiError>;

/// The dashboard's page and its files: constant, served outside every gate.
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(page))
        .route(
            "/dashboard/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/dashboard/stats.js",
            get(|| async { asset("text/javascript; charset=utf-8", STATS_JS) }),
        )
        .route(
            "/dashboard/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
}

/// The dashboard's routes that need no session: login and logout (the anonymous gate's).
pub fn anonymous_routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/api/login", post(login))
        .route("/dashboard/api/logout", post(logout))
}

/// The dashboard's routes for a logged-in officer (checked by the officer gate).
pub fn officer_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .route("/dashboard/api/me", get(me))
        .route("/dashboard/api/alarms", get(alarms))
        .route("/dashboard/api/events", get(events))
        .route("/dashboard/api/alarms/{id}", get(alarm))
        .route("/dashboard/api/alarms/{id}/ack", post(acknowledge))
        .route("/dashboard/api/alarms/{id}/timeline", get(timeline))
        .route(
            "/dashboard/api/alarms/{id}/timeline.txt",
            get(timeline_text),
        )
        .route("/dashboard/api/alarms/{id}/shown", post(shown))
        .route("/dashboard/api/alarms/{id}/notes", post(add_note))
        .route("/dashboard/api/alarms/{id}/messages", post(send_message))
        .route("/dashboard/api/centre", get(centre_status))
        .route("/dashboard/api/checkins", get(checkins))
        .route("/dashboard/api/reports", get(followup::reports))
        .route("/dashboard/api/reports/{id}", get(followup::report))
        .route(
            "/dashboard/api/reports/{id}/followup",
            post(followup::follow_up),
        )
        .routes(routes!(followup::statistics))
        .route(
            "/dashboard/api/statistics.csv",
            get(followup::statistics_csv),
        )
        .route("/dashboard/api/audit/{id}", get(followup::audit_of_item))
        .route("/dashboard/api/vocabulary", get(followup::vocabulary))
        .route("/dashboard/api/attachments/{id}", get(attachment))
        .route("/dashboard/api/devices", get(devices))
}

async fn page() -> Response {
    let mut res = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Requests that change state must come from the dashboard's own origin: the public
/// address when one is set (behind the proxy), else the host asked for. The cookie is
/// SameSite=Strict already; this also refuses a stray `Origin`.
pub(crate) fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if let Some(public) = state.public_url() {
        return if origin.eq_ignore_ascii_case(public.origin()) {
            Ok(())
        } else {
            Err(ApiError::forbidden("cross-origin request refused"))
        };
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    if origin_host == host {
        Ok(())
    } else {
        Err(ApiError::forbidden("cross-origin request refused"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

/// A hash to verify against when the user does not exist, so both cases take as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("not a real password").unwrap_or_default())
}

/// `POST /dashboard/api/login`. A failure slot ([`crate::ratelimit::LoginLimiter`]) is
/// taken before the password is checked, and the check runs in the bounded pool: a burst of
/// wrong logins neither runs more checks than the limits allow nor piles up memory. A
/// browser the officer has signed in from before (its known-device cookie) is counted on
/// its own and checked first, so others' wrong passwords never keep the officer out.
async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<Login>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    let username = req.username.trim().to_string();
    if username.is_empty() || username.chars().count() > 200 || req.password.len() > 1024 {
        return Err(ApiError::unauthorized(
            ProblemType::BadLogin,
            "wrong username or password",
        ));
    }
    let known = auth::known_device(&headers, state.secure_cookies(), state.secret(), &username);
    let slot = state
        .login_limiter()
        .begin(client, &username, known.as_deref())
        .map_err(|r| crate::admission::refused(r, "failed logins"))?;
    tokio::time::sleep(slot.delay).await;
    let officer = match state.store().officer_by_username(&username).await {
        Ok(o) => o,
        Err(e) => {
            slot.not_counted();
            return Err(e.into());
        }
    };
    let hash = officer
        .as_ref()
        .map(|o| o.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let ok = match state
        .hashing()
        .verify(req.password, hash, known.is_some())
        .await
    {
        Ok(ok) => ok,
        Err(auth::Busy(wait)) => {
            slot.not_counted();
            return Err(ApiError::busy(
                wait,
                "too many logins are being checked right now; try again in a moment",
            ));
        }
    };
    let officer = match (ok, officer) {
        (true, Some(o)) if o.disabled_at.is_none() => o,
        _ => {
            drop(slot);
            return Err(ApiError::unauthorized(
                ProblemType::BadLogin,
                "wrong username or password",
            ));
        }
    };
    slot.succeeded();
    let token = auth::new_token();
    let now = state.now();
    state
        .store()
        .create_session(
            &auth::hash_secret(&token),
            officer.id,
            now,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
    tracing::info!(officer = %officer.id, "officer logged in");
    let cookie = auth::session_cookie(state.secure_cookies(), Some(&token), SESSION_HOURS * 3600);
    let device = auth::known_device_cookie(state.secure_cookies(), state.secret(), &username);
    let mut res = Json(serde_json::json!({
        "display_name": officer.display_name,
        "region_id": officer.region_id,
    }))
    .into_response();
    for c in [cookie, device] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    let (parts, _) = req.into_parts();
    if let Some(token) = auth::session_token(&parts, state.secure_cookies()) {
        state
            .store()
            .delete_session(&auth::hash_secret(&token))
            .await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(state.secure_cookies(), None, 0)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn me(State(state): State<AppState>, OfficerAuth(o): OfficerAuth) -> Json<serde_json::Value> {
    // The region by its name, as people call it (its id only when no profile names it).
    let region_name = state
        .profile(&o.region_id)
        .map_or_else(|| o.region_id.clone(), |p| p.profile.region.name.clone());
    Json(serde_json::json!({
        "display_name": o.display_name,
        "region_id": o.region_id,
        "region_name": region_name,
        "username": o.username,
    }))
}

/// An alarm as the dashboard shows it: with `late_seconds` when it reached the server after
/// the app had told the person to call 112 (`varn_core::alarm::told_to_call_112`).
fn as_shown(a: &crate::store::Alarm) -> serde_json::Value {
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
fn listed(a: &crate::store::Alarm) -> serde_json::Value {
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

/// Records that `o` was given `ids` by `action` (a list, a feed) before it is answered.
async fn record_list(
    state: &AppState,
    o: &crate::store::Officer,
    action: AuditAction,
    kind: &str,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<()> {
    let entry = crate::store::AuditEntry::list(o, action, kind, ids, state.now());
    state.store().audit(&entry).await?;
    Ok(())
}

/// The region's newest alarms, without their conversations and instructions (recorded).
async fn alarms(State(state): State<AppState>, OfficerAuth(o): OfficerAuth) -> Result<Response> {
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
async fn alarm(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let a = region_alarm(&state, &o, id).await?;
    followup::record(&state, &o, AuditAction::ReadAlarm, "alarm", id).await?;
    Ok(Json(as_shown(&a)).into_response())
}

/// Writes, when a live feed ends, which alarms it sent after its first list.
struct FeedLog {
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
async fn session_ended(state: AppState, key: String) {
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
async fn events(
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

async fn acknowledge(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    let (alarm, changed) = state.store().acknowledge_alarm(&o, id, state.now()).await?;
    if changed {
        tracing::info!(alarm = %id, officer = %o.id, "alarm acknowledged");
        state.publish(alarm.clone());
    }
    // The answer is the alarm whole.
    followup::record(&state, &o, AuditAction::ReadAlarm, "alarm", id).await?;
    Ok(Json(as_shown(&alarm)).into_response())
}

/// An alarm of the officer's region, or 404.
async fn region_alarm(
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
async fn alarm_with_events(
    state: &AppState,
    o: &crate::store::Officer,
    id: Uuid,
) -> Result<(crate::store::Alarm, Vec<crate::store::AlarmEvent>)> {
    let alarm = region_alarm(state, o, id).await?;
    Ok((alarm, state.store().alarm_events(&o.region_id, id).await?))
}

async fn timeline(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let events = alarm_with_events(&state, &o, id).await?.1;
    followup::record(&state, &o, AuditAction::ReadTimeline, "alarm", id).await?;
    Ok(Json(events).into_response())
}

/// The timeline as text for a police report, in the server's local time.
async fn timeline_text(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
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

/// A text the browser saves as `filename` rather than shows.
pub(crate) fn download(body: String, content_type: &'static str, filename: &str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `POST …/shown`: the page has put the alarm on screen (recorded once per officer).
async fn shown(
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
struct NoteRequest {
    text: String,
}

/// `POST …/notes`: an officer's note on the alarm's timeline.
async fn add_note(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
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
struct OfficerMessage {
    /// The page's id for the message (UUIDv7): a resend is stored once.
    id: Uuid,
    text: String,
}

/// `POST …/messages`: an officer writes to the person during the alarm. The person's app
/// shows it at once (its long-poll wakes); after a duress cancel it is kept for the region
/// only and the person's device never shows it.
async fn send_message(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
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
        state.publish(alarm.clone());
    }
    // The answer is the alarm whole.
    followup::record(&state, &o, AuditAction::ReadAlarm, "alarm", id).await?;
    Ok(Json(as_shown(&alarm)).into_response())
}

/// Whether the region has an alarm centre (`configured`) and how the link to it stands.
async fn centre_status(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Result<Response> {
    let status = state.store().centre_status(&o.region_id).await?;
    Ok(Json(serde_json::json!({
        "configured": state.has_centre(&o.region_id),
        "last_answer_at": status.as_ref().and_then(|s| s.last_answer_at),
        "down_since": status.as_ref().and_then(|s| s.down_since),
    }))
    .into_response())
}

/// Active check-ins with their deadlines, and missed ones not yet checked out, with the
/// server's time (the page counts minutes left from it, not from the officer's clock).
async fn checkins(State(state): State<AppState>, OfficerAuth(o): OfficerAuth) -> Result<Response> {
    let checkins = state.store().open_checkins(&o.region_id).await?;
    record_list(
        &state,
        &o,
        AuditAction::ReadCheckins,
        "checkin",
        checkins.iter().map(|c| c.id),
    )
    .await?;
    Ok(Json(serde_json::json!({ "now": state.now(), "checkins": checkins })).into_response())
}

/// Types shown inline in the page; everything else downloads as bytes.
const INLINE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The region's devices: who is enrolled, and whose access was revoked by the region or
/// unlinked by the person.
async fn devices(State(state): State<AppState>, OfficerAuth(o): OfficerAuth) -> Result<Response> {
    let devices = state.store().devices(Some(&o.region_id)).await?;
    record_list(
        &state,
        &o,
        AuditAction::ReadDevices,
        "device",
        devices.iter().map(|d| d.id),
    )
    .await?;
    Ok(Json(devices).into_response())
}

/// Images up to this size are shown in the page (on request); larger ones download.
pub const MAX_INLINE_BYTES: u64 = 8 * 1024 * 1024;

/// An attachment, streamed from the store one chunk at a time.
async fn attachment(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let a = state.store().attachment(&o.region_id, id).await?;
    followup::record(&state, &o, AuditAction::ReadAttachment, "attachment", id).await?;
    let inline = INLINE_TYPES.contains(&a.content_type.as_str()) && a.size <= MAX_INLINE_BYTES;
    let content_type = if inline {
        a.content_type.clone()
    } else {
        "application/octet-stream".into()
    };
    let safe_name: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{safe_name}\"",
        if inline { "inline" } else { "attachment" }
    );
    let mut res = crate::uploads::body(state.clone(), o.region_id.clone(), &a).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(a.size));
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(res)
}
