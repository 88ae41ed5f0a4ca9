//! What every request passes before its handler runs. Routes come in three kinds, each with
//! capacity of its own, so that anonymous traffic can never take what an enrolled device
//! needs to raise an alarm:
//!
//! - **device routes** (`/v1/…` but enrollment): the bearer token is checked here (a wrong
//!   one counts as a failure of the address, before the database is asked), the device gets
//!   a bounded number of requests in progress, and only then is its body read;
//! - **officer routes** (`/dashboard/api/…` but login and logout): the session is checked and
//!   kept alive here;
//! - **anonymous routes** (enrollment, login, the dashboard's files, `/health`): a bounded
//!   number in progress at once; beyond it 503 with `Retry-After`.
//!
//! Every body is read completely, within a total deadline and a size limit, before the
//! handler sees it: a client that trickles its body is cut off (408) instead of holding a
//! handler.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use varn_core::wire::ProblemType;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use uuid::Uuid;

use crate::auth;
use crate::problem::ApiError;
use crate::ratelimit::Refused;
use crate::AppState;

/// The largest body an anonymous or officer request may have (a login, a note, a code).
pub const SMALL_BODY_BYTES: usize = 64 * 1024;

/// The session a request came with (its token's hash), for handlers that keep checking it.
#[derive(Clone)]
pub struct SessionKey(pub String);

/// The client's address as the server saw it.
fn peer_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// 429 for a refused attempt, in the words of what ran out.
pub fn refused(r: Refused, what: &str) -> ApiError {
    let wait = r.wait();
    let who = match r {
        Refused::Address(_) => "from this address",
        Refused::Username(_) => "for this username",
        Refused::Global(_) => "on this server",
    };
    ApiError::too_many(
        wait,
        format!("too many {what} {who}; try again in {wait} s"),
    )
}

/// Requests in progress per device.
#[derive(Default)]
pub struct InFlight(Mutex<HashMap<Uuid, usize>>);

/// A device's place among its requests in progress, freed on drop.
pub struct InFlightPermit {
    table: Arc<InFlight>,
    device: Uuid,
}

impl InFlight {
    /// A place for one more request of `device`, if it has fewer than `max` in progress.
    pub fn enter(self: &Arc<Self>, device: Uuid, max: usize) -> Option<InFlightPermit> {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.entry(device).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(InFlightPermit {
            table: self.clone(),
            device,
        })
    }
}

impl Drop for InFlightPermit {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.get_mut(&self.device) {
            *n -= 1;
            if *n == 0 {
                t.remove(&self.device);
            }
        }
    }
}

/// Reads the whole body within `deadline` and `limit` bytes and puts it back, or answers
/// 408 / 413.
async fn buffered(req: Request, limit: usize, deadline: Duration) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit).into_response());
    }
    match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(too_large(limit).into_response())
        }
        Ok(Err(_)) => {
            Err(ApiError::bad_request("the request body could not be read").into_response())
        }
        Err(_) => {
            let mut res = ApiError::timeout(format!(
                "the request body did not arrive within {} s",
                deadline.as_secs()
            ))
            .into_response();
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(res)
        }
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::too_large(format!("the request body may be at most {limit} bytes"))
}

/// The gate of device routes: token, then capacity, then body.
pub async fn device_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = peer_ip(&req);
    let token = match auth::bearer_token(req.headers()) {
        Ok(t) => t.to_string(),
        Err(e) => return e.into_response(),
    };
    let slot = match state.token_limiter().begin(ip, None) {
        Ok(s) => s,
        Err(r) => return refused(r, "wrong device tokens").into_response(),
    };
    let device = match state
        .store()
        .device_by_token(&auth::hash_secret(&token))
        .await
    {
        Ok(Some(d)) if d.revoked_at.is_none() => {
            slot.succeeded();
            d
        }
        Ok(Some(_)) => {
            drop(slot);
            return ApiError::unauthorized(
                ProblemType::Revoked,
                "this device has been revoked (or unlinked); enroll the app again with a new code",
            )
            .into_response();
        }
        Ok(None) => {
            drop(slot);
            return ApiError::unauthorized(
                ProblemType::BadToken,
                "the device token is not valid; enroll the app again",
            )
            .into_response();
        }
        Err(e) => {
            slot.not_counted();
            return ApiError::from(e).into_response();
        }
    };
    let limits = state.limits();
    let Some(_permit) = state.in_flight().enter(device.id, limits.device_in_flight) else {
        return ApiError::too_many(
            1,
            format!(
                "this device already has {} requests in progress; wait for their answers",
                limits.device_in_flight
            ),
        )
        .into_response();
    };
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string());
    let (limit, deadline) = device_body(req.method(), route.as_deref(), limits);
    let mut req = match buffered(req, limit, deadline).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    req.extensions_mut().insert(device);
    next.run(req).await
}

/// The largest body a device route takes and how long it may take to arrive, by method and
/// matched route. Decided here alone: the device routes lift axum's own body limit, and this
/// gate reads every body whole before the handler runs.
pub fn device_body(
    method: &Method,
    route: Option<&str>,
    limits: &crate::limits::Limits,
) -> (usize, Duration) {
    match (method, route) {
        // An attachment's chunk, with room for the request around it.
        (&Method::PATCH, _) => (
            varn_core::wire::MAX_CHUNK_BYTES + 64 * 1024,
            limits.upload_body_timeout,
        ),
        // Reports alone may be larger: every valid one fits (varn_core::wire).
        (&Method::PUT, Some(crate::REPORT_ROUTE)) => {
            (crate::MAX_REPORT_BODY_BYTES, limits.body_timeout)
        }
        _ => (crate::MAX_JSON_BYTES, limits.body_timeout),
    }
}

/// The gate of officer routes: a live session (kept alive while the page is open), then
/// the body.
pub async fn officer_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = peer_ip(&req);
    let (parts, body) = req.into_parts();
    let Some(token) = auth::session_token(&parts, state.secure_cookies()) else {
        return ApiError::unauthorized(ProblemType::NoSession, "log in to the dashboard")
            .into_response();
    };
    let req = Request::from_parts(parts, body);
    let key = auth::hash_secret(&token);
    let slot = match state.token_limiter().begin(ip, None) {
        Ok(s) => s,
        Err(r) => return refused(r, "wrong session cookies").into_response(),
    };
    let officer = match state.live_session(&key).await {
        Ok(Some(o)) => {
            slot.succeeded();
            o
        }
        Ok(None) => {
            drop(slot);
            return ApiError::unauthorized(
                ProblemType::NoSession,
                "the session has ended; log in again",
            )
            .into_response();
        }
        Err(e) => {
            slot.not_counted();
            return e.into_response();
        }
    };
    let limits = state.limits();
    let mut req = match buffered(req, SMALL_BODY_BYTES, limits.body_timeout).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    req.extensions_mut().insert(officer);
    req.extensions_mut().insert(SessionKey(key));
    next.run(req).await
}

/// The gate of anonymous routes: bounded in number, then the body.
pub async fn anonymous_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = state.anonymous().clone().try_acquire_owned() else {
        return ApiError::unavailable(
            "the server is busy with other anonymous requests; try again in a second",
        )
        .into_response();
    };
    let req = match buffered(req, SMALL_BODY_BYTES, state.limits().body_timeout).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use varn_core::wire::{MAX_CHUNK_BYTES, MAX_JSON_BYTES, MAX_REPORT_BODY_BYTES};

    #[test]
    fn only_a_report_and_a_chunk_may_be_larger_than_json() {
        let l = crate::limits::Limits::default();
        let limit = |m: &Method, route: Option<&str>| device_body(m, route, &l).0;
        assert_eq!(
            limit(&Method::PUT, Some(crate::REPORT_ROUTE)),
            MAX_REPORT_BODY_BYTES
        );
        assert_eq!(
            limit(&Method::PATCH, Some("/v1/attachments/{id}")),
            MAX_CHUNK_BYTES + 64 * 1024
        );
        for route in [
            "/v1/alarms/{id}",
            "/v1/reports/{report}/attachments/{id}",
            "/v1/checkins/{id}",
        ] {
            assert_eq!(limit(&Method::PUT, Some(route)), MAX_JSON_BYTES, "{route}");
        }
        assert_eq!(limit(&Method::PUT, None), MAX_JSON_BYTES);
        assert_eq!(
            device_body(&Method::PATCH, None, &l).1,
            l.upload_body_timeout
        );
    }
}
