//! The security officers' dashboard: a web page behind a login (HttpOnly, SameSite=Strict
//! session cookie) with the live list of alarms (SSE), acknowledgement with one click, and the
//! reports with their attachments. Officers see only their own region.

use crate::admission::SessionKey;
use crate::auth::{self, OfficerAuth};
use crate::front::ClientIp;
use crate::problem::{ApiError, ApiJson, ApiPath};
use crate::store::AuditAction;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use varn_core::wire::ProblemType;

pub use alarms::*;
pub use files::*;
use people::*;
use session::*;

mod alarms;
mod files;
mod followup;
mod people;
mod provider;
mod session;

pub(crate) use provider::renewed;
pub use provider::MayAct;

/// How long a dashboard session lasts.
pub const SESSION_HOURS: i64 = 12;
/// How many alarms and reports the lists show.
pub const LIST_LIMIT: u32 = 200;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");
const STATS_JS: &str = include_str!("stats.js");
const STRINGS_JS: &str = include_str!("strings.js");
const PEOPLE_JS: &str = include_str!("people.js");
const SIGNIN_JS: &str = include_str!("signin.js");
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
            "/dashboard/strings.js",
            get(|| async { asset("text/javascript; charset=utf-8", STRINGS_JS) }),
        )
        .route(
            "/dashboard/people.js",
            get(|| async { asset("text/javascript; charset=utf-8", PEOPLE_JS) }),
        )
        .route(
            "/dashboard/signin.js",
            get(|| async { asset("text/javascript; charset=utf-8", SIGNIN_JS) }),
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

/// The dashboard's routes that need no session: login and logout, and signing in with the
/// region's identity provider (the anonymous gate's).
pub fn anonymous_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .route("/dashboard/api/login", post(login))
        .route("/dashboard/api/logout", post(logout))
        .routes(routes!(provider::sign_in_options))
        .routes(routes!(provider::start))
        .routes(routes!(provider::callback))
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
