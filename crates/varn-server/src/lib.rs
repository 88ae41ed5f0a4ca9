//! Värn's region server: the other end of every alarm and report. Devices enroll with a
//! one-time code and then raise alarms and send reports; security officers watch a live
//! dashboard and acknowledge. `router(state)` is the whole HTTP service; `main` only reads the
//! configuration and serves it.

#![forbid(unsafe_code)]

pub mod admission;
pub mod api;
pub mod auth;
pub mod breakglass;
pub mod centre;
pub mod clock;
pub mod config;
pub mod connections;
pub mod contract;
pub mod dashboard;
pub mod escalation;
pub mod front;
pub mod limits;
pub mod oidc;
pub mod problem;
pub mod profiles;
pub mod ratelimit;
pub mod releases;
pub mod retention;
pub mod server;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod uploads;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use varn_core::paths;

use crate::admission::InFlight;
use crate::auth::{HashPool, ServerSecret};
use crate::clock::Clock;
use crate::contract::{JsonObject, ProblemAnswer};
use crate::front::Front;
use crate::limits::Limits;
use crate::problem::ApiError;
use crate::ratelimit::{FailureLimiter, LoginLimiter, Quotas, WrongTokens};
use crate::store::{Alarm, Officer, Store};

pub use varn_core::wire::{MAX_JSON_BYTES, MAX_REPORT_BODY_BYTES};

pub use profiles::ServedProfile;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    profiles: std::sync::RwLock<profiles::Served>,
    limits: Limits,
    enroll_limiter: FailureLimiter,
    login_limiter: LoginLimiter,
    wrong_tokens: WrongTokens,
    quotas: Quotas,
    hashing: HashPool,
    anonymous: Arc<tokio::sync::Semaphore>,
    anonymous_per_address: Arc<InFlight<std::net::IpAddr>>,
    bulk: Arc<tokio::sync::Semaphore>,
    in_flight: Arc<InFlight<uuid::Uuid>>,
    secret: ServerSecret,
    secure_cookies: bool,
    front: Front,
    shutdown: watch::Receiver<bool>,
    escalation: escalation::Escalation,
    centre_regions: Vec<String>,
    bundles: releases::BundleCache,
    providers: oidc::Providers,
}

/// How to build the state.
pub struct StateConfig {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Region profiles to start with, by region id (newer published ones replace them).
    pub profiles: profiles::Served,
    /// Served over TLS by the server itself.
    pub tls: bool,
    /// How clients reach the server: trusted proxies and the public address.
    pub front: Front,
    /// Flips to true when the server shuts down; long-lived requests end then.
    pub shutdown: watch::Receiver<bool>,
    /// Who is alerted when nobody acknowledges an alarm, and how.
    pub escalation: escalation::Escalation,
    /// The regions with a 24/7 alarm centre configured.
    pub centre_regions: Vec<String>,
    /// The bounds on time, memory and count.
    pub limits: Limits,
    /// The secret enrollment codes are stored under.
    pub secret: ServerSecret,
    /// The regions' identity providers (OpenID Connect).
    pub providers: oidc::Providers,
}

impl AppState {
    /// Builds the state.
    pub fn new(cfg: StateConfig) -> AppState {
        AppState(Arc::new(Inner {
            store: cfg.store,
            clock: cfg.clock,
            profiles: std::sync::RwLock::new(cfg.profiles),
            enroll_limiter: FailureLimiter::new(cfg.limits.failures.clone()),
            login_limiter: LoginLimiter::new(cfg.limits.failures.clone()),
            wrong_tokens: WrongTokens::new(
                cfg.limits.failures.window,
                cfg.limits.failures.bad_tokens_per_address,
                cfg.limits.failures.revoked_token_uses,
            ),
            quotas: Quotas::new(&cfg.limits.device),
            hashing: HashPool::new(cfg.limits.hash_workers, cfg.limits.hash_queue),
            anonymous: Arc::new(tokio::sync::Semaphore::new(cfg.limits.anonymous_in_flight)),
            anonymous_per_address: Arc::new(InFlight::default()),
            bulk: Arc::new(tokio::sync::Semaphore::new(cfg.limits.bulk_in_flight)),
            in_flight: Arc::new(InFlight::default()),
            secret: cfg.secret,
            limits: cfg.limits,
            // Behind a TLS proxy the public address says the browser speaks TLS.
            secure_cookies: cfg.tls || cfg.front.public_url.is_some(),
            front: cfg.front,
            shutdown: cfg.shutdown,
            escalation: cfg.escalation,
            centre_regions: cfg.centre_regions,
            bundles: releases::BundleCache::default(),
            providers: cfg.providers,
        }))
    }

    /// The app bundle kept in memory for downloads.
    pub(crate) fn bundles(&self) -> &releases::BundleCache {
        &self.0.bundles
    }

    /// The escalation lists and notifier.
    pub fn escalation(&self) -> &escalation::Escalation {
        &self.0.escalation
    }

    /// Whether `region` has a 24/7 alarm centre configured (what the dashboard may claim).
    pub fn has_centre(&self, region: &str) -> bool {
        self.0.centre_regions.iter().any(|r| r == region)
    }

    /// Storage.
    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    /// The profile of a region as served now.
    pub fn profile(&self, region_id: &str) -> Option<Arc<ServedProfile>> {
        self.0
            .profiles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(region_id)
            .cloned()
    }

    /// Serves `profile` for `region` from now on.
    pub fn serve_profile(&self, region: String, profile: ServedProfile) {
        self.0
            .profiles
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(region, Arc::new(profile));
    }

    /// The regions this server hosts.
    pub fn regions(&self) -> Vec<String> {
        self.0
            .profiles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Listens to alarm changes, as the store announces them after each commit
    /// ([`Store::alarm_changes`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Alarm>> {
        self.0.store.alarm_changes()
    }

    /// Resolves when the server is shutting down.
    pub async fn shutting_down(&self) {
        let mut rx = self.0.shutdown.clone();
        let _ = rx.wait_for(|down| *down).await;
    }

    pub(crate) fn enroll_limiter(&self) -> &FailureLimiter {
        &self.0.enroll_limiter
    }

    pub(crate) fn login_limiter(&self) -> &LoginLimiter {
        &self.0.login_limiter
    }

    pub(crate) fn wrong_tokens(&self) -> &WrongTokens {
        &self.0.wrong_tokens
    }

    /// The proxies whose forwarded header names the client.
    pub fn trusted_proxies(&self) -> &front::TrustedProxies {
        &self.0.front.trusted_proxies
    }

    /// The address people use, when TLS ends at a proxy.
    pub fn public_url(&self) -> Option<&front::PublicUrl> {
        self.0.front.public_url.as_ref()
    }

    /// What each device has sent.
    pub fn quotas(&self) -> &Quotas {
        &self.0.quotas
    }

    /// The password checks.
    pub(crate) fn hashing(&self) -> &HashPool {
        &self.0.hashing
    }

    pub(crate) fn anonymous(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.0.anonymous
    }

    pub(crate) fn anonymous_per_address(&self) -> &Arc<InFlight<std::net::IpAddr>> {
        &self.0.anonymous_per_address
    }

    /// Turns for reports, files and bundles ([`admission::is_bulk`]).
    pub(crate) fn bulk(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.0.bulk
    }

    pub(crate) fn in_flight(&self) -> &Arc<InFlight<uuid::Uuid>> {
        &self.0.in_flight
    }

    /// The bounds in force.
    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    /// The regions' identity providers.
    pub fn providers(&self) -> &oidc::Providers {
        &self.0.providers
    }

    /// The secret enrollment codes are stored under.
    pub fn secret(&self) -> &ServerSecret {
        &self.0.secret
    }

    /// The officer of a session that is still live ([`store::session_live`]); marks it as
    /// seen now and then, so a dashboard left open stays logged in while a closed one ends
    /// after the idle time. A session the region's identity provider signed in is renewed
    /// through it when due ([`dashboard::renewed`]): `None` once the provider no longer signs
    /// the person in.
    pub async fn live_session(&self, token_hash: &str) -> Result<Option<Officer>, ApiError> {
        let now = self.now();
        let Some(s) = self.store().session(token_hash).await? else {
            return Ok(None);
        };
        if !store::session_live(&s, now, self.0.limits.session_idle) {
            return Ok(None);
        }
        if now - s.last_seen_at >= store::SESSION_TOUCH_EVERY {
            self.store().touch_session(token_hash, now).await?;
        }
        Ok(dashboard::renewed(self, token_hash, s).await?)
    }

    /// Whether the browser speaks TLS to us (the server's own, or the proxy's at
    /// `public_url`): the cookie is then `__Host-` and `Secure`, and answers carry HSTS.
    pub(crate) fn secure_cookies(&self) -> bool {
        self.0.secure_cookies
    }
}

/// The report route: the one device route whose body may exceed [`MAX_JSON_BYTES`].
pub const REPORT_ROUTE: &str = paths::REPORT;

/// The device API: each route registered and documented (its handler's `#[utoipa::path]`)
/// in one statement.
fn device_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(api::me, api::unlink))
        .routes(routes!(api::put_instructions))
        .routes(routes!(api::profile))
        .routes(routes!(api::put_alarm, api::get_alarm))
        .routes(routes!(api::cancel_alarm))
        .routes(routes!(api::get_timeline))
        .routes(routes!(api::put_message))
        .routes(routes!(api::put_checkin, api::get_checkin))
        .routes(routes!(api::checkout))
        .routes(routes!(releases::update))
        .routes(routes!(releases::bundle))
        .routes(routes!(api::put_report, api::get_report))
        .routes(routes!(api::put_attachment))
        .routes(routes!(api::get_upload, api::patch_upload))
}

/// The routes anyone may call: health, this document, enrollment, the dashboard's page
/// and login.
fn anonymous_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(health))
        .routes(routes!(openapi))
        .routes(routes!(api::enroll))
        .merge(dashboard::anonymous_routes())
}

/// Every route with its description: the router's and the document's one source.
pub(crate) fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(contract::base())
        .merge(device_routes())
        .merge(anonymous_routes())
        .merge(dashboard::officer_routes())
}

/// The whole HTTP service. Every route belongs to one of three gates (see [`admission`]):
/// device routes, officer routes and anonymous ones, each with its own capacity.
pub fn router(state: AppState) -> Router {
    let device = Router::from(device_routes())
        // The gate reads every device body whole, within the one limit `device_body` gives
        // it; axum's own limit is lifted here so that no second place decides it.
        .route_layer(DefaultBodyLimit::disable())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admission::device_gate,
        ));
    let anonymous = Router::from(anonymous_routes()).route_layer(middleware::from_fn_with_state(
        state.clone(),
        admission::anonymous_gate,
    ));
    // The dashboard's page and its files are constant and cost nothing to send: outside the
    // gate, so that nobody holding the gate's places keeps an officer from the page.
    let page = dashboard::page_routes();
    let officer = Router::from(dashboard::officer_routes()).route_layer(
        middleware::from_fn_with_state(state.clone(), admission::officer_gate),
    );
    Router::new()
        .merge(device)
        .merge(anonymous)
        .merge(page)
        .merge(officer)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            log_and_harden,
        ))
        // First of all: who the client is, for every per-address count after it.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            front::identify,
        ))
        .with_state(state)
}

/// The server and its database answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    status: HealthStatus,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum HealthStatus {
    Ok,
}

#[utoipa::path(
    get,
    path = "/health",
    summary = "Liveness and database check",
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 503, response = ProblemAnswer),
    )
)]
async fn health(State(state): State<AppState>) -> Response {
    // A read proves the database answers.
    match state.store().ping().await {
        Ok(_) => axum::Json(Health {
            status: HealthStatus::Ok,
        })
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    summary = "This document",
    responses((status = 200, description = "OpenAPI document", body = inline(JsonObject)))
)]
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        contract::document(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> Response {
    ApiError::method_not_allowed("this method is not allowed here; see Allow and /openapi.json")
        .into_response()
}

/// Logs each request (method, route template, status, time; never bodies, tokens or names),
/// bounds the time until its answer starts, and adds security headers to every response
/// (HSTS when serving TLS).
async fn log_and_harden(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let limit = state.limits().request_timeout;
    let mut res = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::unavailable(format!(
            "the request took longer than {} s; send it again",
            limit.as_secs()
        ))
        .into_response(),
    };
    let status = res.status().as_u16();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, %route, status, ms, "request");
    } else if method != Method::GET || status >= 400 {
        tracing::info!(%method, %route, status, ms, "request");
    } else {
        tracing::debug!(%method, %route, status, ms, "request");
    }
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if state.secure_cookies() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}
