//! What every request passes before its handler runs. Routes come in three kinds, each with
//! capacity of its own, so that anonymous traffic can never take what an enrolled device
//! needs to raise an alarm:
//!
//! - **device routes** (`/v1/…` but enrollment): the bearer token is checked here. A token
//!   that matches is admitted whatever its address has sent; one that matches nothing counts
//!   against its address, and only further wrong tokens from there are refused. The device
//!   gets a bounded number of requests in progress, and only then is its body read;
//! - **officer routes** (`/dashboard/api/…` but login and logout): the session is checked the
//!   same way and kept alive here;
//! - **anonymous routes** (enrollment, login, `/health`): a bounded number in progress at
//!   once, and a share of them per address; beyond it 503 with `Retry-After`. The
//!   dashboard's page and files are outside every gate.
//!
//! Every body is read completely, within a total deadline and a size limit, before the
//! handler sees it: a client that trickles its body is cut off (408) instead of holding a
//! handler.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use varn_core::wire::ProblemType;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::auth;
use crate::front::ClientIp;
use crate::problem::ApiError;
use crate::ratelimit::{address_key, Refused, WrongToken};
use crate::AppState;

/// The largest body an anonymous or officer request may have (a login, a note, a code).
pub const SMALL_BODY_BYTES: usize = 64 * 1024;

/// The session a request came with (its token's hash), for handlers that keep checking it.
#[derive(Clone)]
pub struct SessionKey(pub String);

/// The client's address ([`crate::front::identify`] set it).
fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ClientIp>()
        .map(|c| c.0)
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// 429 for a refused attempt, in the words of what ran out.
pub fn refused(r: Refused, what: &str) -> ApiError {
    let wait = r.wait();
    let detail = match r {
        Refused::Address(_) => format!("too many {what} from this address; try again in {wait} s"),
        Refused::AddressAndUsername(_) => {
            format!("too many {what} for this username from this address; try again in {wait} s")
        }
        Refused::Slowed(_) => format!(
            "this username is slowed down after {what}; try again in {wait} s (a browser that \
             has signed in before is not)"
        ),
    };
    ApiError::too_many(wait, detail)
}

/// Requests in progress per key (a device, an address).
pub struct InFlight<K>(Mutex<HashMap<K, usize>>);

impl<K> Default for InFlight<K> {
    fn default() -> Self {
        InFlight(Mutex::new(HashMap::new()))
    }
}

/// A place among a key's requests in progress, freed on drop.
pub struct InFlightPermit<K: Hash + Eq> {
    table: Arc<InFlight<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> InFlight<K> {
    /// A place for one more request of `key`, if it has fewer than `max` in progress.
    pub fn enter(self: &Arc<Self>, key: K, max: usize) -> Option<InFlightPermit<K>> {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.entry(key.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(InFlightPermit {
            table: self.clone(),
            key,
        })
    }
}

impl<K: Hash + Eq> Drop for InFlightPermit<K> {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                t.remove(&self.key);
            }
        }
    }
}

/// The answer to a device token that matched nothing (or a revoked device's): what is
/// wrong, or, past the limit, 429.
fn wrong_token(verdict: WrongToken, answer: ApiError) -> Response {
    match verdict {
        WrongToken::Answer => answer.into_response(),
        WrongToken::TooMany(wait) => ApiError::too_many(
            wait,
            format!("too many wrong device tokens from here; try again in {wait} s"),
        )
        .into_response(),
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

/// The gate of device routes: token, then capacity, then body. The token is looked up
/// first: one that matches is admitted whatever else its address has sent.
pub async fn device_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = auth::bearer_token(req.headers()).map(str::to_string);
    let (device, _permit) = match admit_device(&state, token, client_ip(&req)).await {
        Ok(admitted) => admitted,
        Err(refusal) => return before_body(&req, refusal),
    };
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string());
    let (limit, deadline) = device_body(req.method(), route.as_deref(), state.limits());
    let mut req = match buffered(req, limit, deadline).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    // Reports, files and bundles take their turn among a few at a time, whoever sends them,
    // so that no device's volume of them stands in the way of an alarm: those never wait.
    let _turn = match is_bulk(route.as_deref()) {
        true => state.bulk().clone().acquire_owned().await.ok(),
        false => None,
    };
    req.extensions_mut().insert(device);
    next.run(req).await
}

/// The device of the request's token and its place among the device's requests in
/// progress, or the refusal.
async fn admit_device(
    state: &AppState,
    token: Result<String, ApiError>,
    ip: IpAddr,
) -> Result<(crate::store::Device, InFlightPermit<uuid::Uuid>), Response> {
    let token = token.map_err(IntoResponse::into_response)?;
    let hash = auth::hash_secret(&token);
    let revoked = || {
        ApiError::unauthorized(
            ProblemType::Revoked,
            "this device has been revoked (or unlinked); enroll the app again with a new code",
        )
        .into_response()
    };
    // A revoked token used over and over is answered from memory: always 401, so that the
    // app knows to stop, and never at the database's cost.
    if state.wrong_tokens().known_revoked(&hash) {
        return Err(revoked());
    }
    let device = match state.store().device_by_token(&hash).await {
        Ok(Some(d)) if d.revoked_at.is_none() => d,
        Ok(Some(_)) => {
            state.wrong_tokens().revoked(&hash);
            return Err(revoked());
        }
        Ok(None) => {
            return Err(wrong_token(
                state.wrong_tokens().unknown(ip),
                ApiError::unauthorized(
                    ProblemType::BadToken,
                    "the device token is not valid; enroll the app again",
                ),
            ));
        }
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let max = state.limits().device_in_flight;
    let permit = state.in_flight().enter(device.id, max).ok_or_else(|| {
        ApiError::too_many(
            1,
            format!("this device already has {max} requests in progress; wait for their answers"),
        )
        .into_response()
    })?;
    Ok((device, permit))
}

/// A refusal sent before the request's body was read. hyper does not keep a connection with
/// an unread body, so the answer says `Connection: close`: the client then never sends its
/// next request on a connection that is about to close (and loses it).
fn before_body(req: &Request, refusal: Response) -> Response {
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != "0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut refusal = refusal;
    if has_body {
        refusal
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    refusal
}

/// Whether a device route carries the person's reports and files or the app's bundles:
/// large, not urgent, and taken a few at a time. Alarms, cancels, messages and check-ins
/// are not, and never wait for them.
pub fn is_bulk(route: Option<&str>) -> bool {
    use varn_core::paths;
    matches!(
        route,
        Some(paths::REPORT | paths::REPORT_ATTACHMENT | paths::UPLOAD)
            | Some(varn_core::wire::UPDATE_PATH | varn_core::wire::BUNDLE_PATH)
    )
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
    let (parts, body) = req.into_parts();
    let token = auth::session_token(&parts, state.secure_cookies());
    let req = Request::from_parts(parts, body);
    let Some(token) = token else {
        let refusal = ApiError::unauthorized(ProblemType::NoSession, "log in to the dashboard")
            .into_response();
        return before_body(&req, refusal);
    };
    let key = auth::hash_secret(&token);
    // An unknown or ended session is always told so (never 429): a browser with a stale
    // cookie must reach the login, whatever others at its address sent. Session tokens are
    // 256 random bits; there is nothing to guess.
    let officer = match state.live_session(&key).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            let refusal = ApiError::unauthorized(
                ProblemType::NoSession,
                "the session has ended; log in again",
            )
            .into_response();
            return before_body(&req, refusal);
        }
        Err(e) => return before_body(&req, e.into_response()),
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

/// The gate of anonymous routes: bounded in number, a share of them per address, then the
/// body.
pub async fn anonymous_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = state.limits();
    let Some(_mine) = state
        .anonymous_per_address()
        .enter(address_key(client_ip(&req)), limits.anonymous_per_address)
    else {
        let refusal = ApiError::busy(
            1,
            format!(
                "{} anonymous requests from this address are in progress; try again in a second",
                limits.anonymous_per_address
            ),
        );
        return before_body(&req, refusal.into_response());
    };
    let Ok(_permit) = state.anonymous().clone().try_acquire_owned() else {
        let refusal = ApiError::busy(
            1,
            "the server is busy with other anonymous requests; try again in a second",
        );
        return before_body(&req, refusal.into_response());
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
    fn alarms_check_ins_and_messages_never_wait_for_reports_and_files() {
        use varn_core::paths;
        for urgent in [
            paths::ALARM,
            paths::ALARM_CANCEL,
            paths::ALARM_MESSAGE,
            paths::ALARM_TIMELINE,
            paths::CHECKIN,
            paths::CHECKOUT,
            paths::ME,
            paths::INSTRUCTIONS,
            paths::PROFILE,
        ] {
            assert!(!is_bulk(Some(urgent)), "{urgent}");
        }
        for bulk in [paths::REPORT, paths::REPORT_ATTACHMENT, paths::UPLOAD] {
            assert!(is_bulk(Some(bulk)), "{bulk}");
        }
        assert!(is_bulk(Some(varn_core::wire::BUNDLE_PATH)));
        // Every device route is one or the other, on purpose: a new route is urgent unless
        // it is added here.
        assert_eq!(
            paths::ALL.iter().filter(|p| is_bulk(Some(p))).count(),
            4,
            "{:?}",
            paths::ALL
        );
    }

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
