//! Signing in with the region's identity provider (`oidc/`): the button's start, the
//! provider's answer, and the renewal that keeps a session only while the provider still
//! signs the person in.

use super::*;
use crate::oidc::{Flow, Identity, OidcError, Provider};
use crate::problem::ApiQuery;
use crate::store::{NewSession, Officer, OfficerRole, Session, SignedInBy};
use serde::Serialize;
use varn_core::wire::Problem;

/// Name of the cookie that carries a sign-in under way (sealed), on plain HTTP.
pub const FLOW_COOKIE: &str = "varn_oidc";
/// Its name over TLS (`__Host-`: this host only, Secure).
pub const SECURE_FLOW_COOKIE: &str = "__Host-varn_oidc";
/// What the flow cookie is sealed for.
const FLOW_SEAL: &str = "oidc-flow";
/// What a refresh token is sealed for.
const REFRESH_SEAL: &str = "oidc-refresh";
/// A renewal the provider did not answer is tried again after this long (the session lives
/// on until the provider's token ends).
const RETRY_SECONDS: i64 = 30;

/// What the login page offers: a button for each region that signs in with its provider,
/// and whether the password form (and the code field) is of use.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInOptions {
    /// The regions whose officers sign in with the region's identity provider.
    providers: Vec<ProviderOption>,
    /// Whether some officer may still log in with a password here.
    passwords: bool,
    /// Whether a break-glass account (password and a TOTP code) may be used here.
    code: bool,
}

/// One region's sign-in button.
#[derive(Serialize, utoipa::ToSchema)]
struct ProviderOption {
    /// The region's id.
    region: String,
    /// The region's name.
    region_name: String,
    /// Where the button goes.
    start: String,
}

/// The sign-in options.
#[utoipa::path(get, path = "/dashboard/api/sign-in",
    summary = "What the dashboard's login page offers: a button for each region that signs in with its identity provider (OpenID Connect), and whether local passwords and the break-glass code are of use",
    responses((status = 200, description = "The options", body = SignInOptions)))]
pub(super) async fn sign_in_options(State(state): State<AppState>) -> Json<SignInOptions> {
    let providers: Vec<ProviderOption> = state
        .providers()
        .regions()
        .into_iter()
        .map(|cfg| ProviderOption {
            region_name: state
                .profile(&cfg.region)
                .map_or_else(|| cfg.region.clone(), |p| p.profile.region.name.clone()),
            start: format!("/dashboard/oidc/start?region={}", cfg.region),
            region: cfg.region.clone(),
        })
        .collect();
    let policies: Vec<_> = state
        .regions()
        .iter()
        .map(|r| local_policy(&state, r))
        .collect();
    use crate::breakglass::{local_login, LocalLogin};
    use crate::oidc::LocalPasswords;
    Json(SignInOptions {
        passwords: policies
            .iter()
            .any(|p| local_login(*p, true) != LocalLogin::Refused),
        // The code field where a region keeps only its break-glass account.
        code: policies.contains(&Some(LocalPasswords::BreakGlass)),
        providers,
    })
}

/// The region's rule for local passwords; `None` for a region without a provider.
pub(super) fn local_policy(state: &AppState, region: &str) -> Option<crate::oidc::LocalPasswords> {
    state
        .providers()
        .get(region)
        .map(|p| p.config().local_passwords)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Start {
    /// The region whose provider to sign in with.
    region: String,
}

/// The address the provider sends the browser back to: the public one behind the proxy,
/// else this server as the browser asked for it.
fn redirect_uri(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = state.public_url() {
        return format!("{}/dashboard/oidc/callback", public.origin());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/dashboard/oidc/callback")
}

/// Back to the login page, with what went wrong in words it shows (`?fel=`).
fn back_with(e: &OidcError, region: &str) -> Response {
    let mut to = format!("/dashboard?fel={}", e.code());
    if !region.is_empty() {
        to.push_str("&region=");
        to.extend(url::form_urlencoded::byte_serialize(region.as_bytes()));
    }
    Redirect::to(&to).into_response()
}

fn flow_cookie(state: &AppState, value: Option<&str>) -> String {
    let max_age = if value.is_some() {
        crate::oidc::FLOW_SECONDS
    } else {
        0
    };
    let value = value.unwrap_or("");
    // Lax, not Strict: the provider's answer is a navigation from its site back to ours.
    if state.secure_cookies() {
        format!("{SECURE_FLOW_COOKIE}={value}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={max_age}")
    } else {
        format!("{FLOW_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}")
    }
}

/// `GET /dashboard/oidc/start?region=…`: to the provider, the flow sealed in a cookie.
#[utoipa::path(get, path = "/dashboard/oidc/start", params(Start),
    summary = "Sign in with the region's identity provider: the browser is sent to it (authorization code flow with PKCE, state and nonce, kept sealed in a cookie for ten minutes)",
    responses(
        (status = 303, description = "To the region's identity provider, or back to the login page with `fel` (`region`: no provider for it; `leverantor`: the provider could not be reached)"),
        (status = 400, description = "No region given.", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<Start>,
) -> Response {
    let Some(provider) = state.providers().get(&q.region).cloned() else {
        return back_with(&OidcError::NoProvider(q.region.clone()), &q.region);
    };
    let redirect = redirect_uri(&state, &headers);
    match provider.begin(&redirect, state.now()).await {
        Ok((url, flow)) => {
            let sealed = state
                .secret()
                .seal(FLOW_SEAL, &serde_json::to_vec(&flow).unwrap_or_default());
            let mut res = Redirect::to(url.as_str()).into_response();
            if let Ok(v) = HeaderValue::from_str(&flow_cookie(&state, Some(&sealed))) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            tracing::warn!(region = %q.region, "sign-in with the identity provider not started: {e}");
            back_with(&e, &q.region)
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Answer {
    /// The authorization code.
    code: Option<String>,
    /// The state sent.
    state: Option<String>,
    /// The issuer (RFC 9207), when the provider names it.
    iss: Option<String>,
    /// The provider's error, instead of a code.
    error: Option<String>,
}

/// `GET /dashboard/oidc/callback`: the provider's answer. Every refusal is logged with its
/// reason and none signs anyone in.
#[utoipa::path(get, path = "/dashboard/oidc/callback", params(Answer),
    summary = "The identity provider's answer: the code exchanged, the ID token checked (signature against the provider's keys, iss, aud, exp, iat, nonce, the required acr/amr, the role's groups)",
    responses(
        (status = 303, description = "Signed in (a session cookie) and on to `/dashboard`, or back to the login page with `fel`: `nekad` (refused: a forged, replayed, expired or wrong-audience token, an unknown key, a state or nonce mismatch), `grupp` (in no group of the region's), `niva` (a weaker sign-in than required), `tid` (too late, or started in another browser), `leverantor` (the provider did not answer usably)"),
    ))]
pub(super) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(a): ApiQuery<Answer>,
) -> Response {
    let flow = auth::cookie_value(
        &headers,
        if state.secure_cookies() {
            SECURE_FLOW_COOKIE
        } else {
            FLOW_COOKIE
        },
    )
    .and_then(|sealed| state.secret().open(FLOW_SEAL, &sealed))
    .and_then(|plain| serde_json::from_slice::<Flow>(&plain).ok());
    let region = flow.as_ref().map(|f| f.region.clone()).unwrap_or_default();
    let outcome = match flow {
        None => Err(OidcError::Expired),
        Some(flow) => finish(&state, &flow, &a).await,
    };
    let mut res = match outcome {
        Ok(res) => res,
        Err(e) => {
            tracing::warn!(region = %region, "sign-in with the identity provider refused: {e}");
            back_with(&e, &region)
        }
    };
    // The flow is used once, whatever came of it.
    if let Ok(v) = HeaderValue::from_str(&flow_cookie(&state, None)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn finish(
    state: &AppState,
    flow: &Flow,
    a: &Answer,
) -> std::result::Result<Response, OidcError> {
    let provider = state
        .providers()
        .get(&flow.region)
        .cloned()
        .ok_or_else(|| OidcError::NoProvider(flow.region.clone()))?;
    if let Some(error) = &a.error {
        return Err(OidcError::Refused(format!("the provider answered {error}")));
    }
    let same_state = a
        .state
        .as_deref()
        .is_some_and(|s| auth::ct_eq(s.as_bytes(), flow.state.as_bytes()));
    if !same_state {
        return Err(OidcError::Refused("state mismatch".into()));
    }
    if let Some(iss) = &a.iss {
        if iss != provider.config().issuer.as_str() {
            return Err(OidcError::Refused(format!("the answer names issuer {iss}")));
        }
    }
    let code = a
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or_else(|| OidcError::Refused("no code".into()))?;
    let now = state.now();
    let identity = provider.finish(flow, code, now).await?;
    let officer = state
        .store()
        .provider_officer(&flow.region, &identity.subject, &identity.name, now)
        .await
        .map_err(|e| OidcError::Provider(format!("storing the officer: {e}")))?;
    if officer.disabled_at.is_some() {
        return Err(OidcError::Refused(format!(
            "officer {} is disabled in Värn",
            officer.username
        )));
    }
    let (renew_at, until) = renewal_times(&provider, &identity, now, now);
    let refresh = sealed_refresh(state, &identity);
    let signed_in = Officer {
        role: identity.role,
        ..officer
    };
    let session = NewSession {
        officer_id: signed_in.id,
        role: identity.role,
        by: SignedInBy::Provider,
        expires_at: until,
        renew_at: Some(renew_at),
        refresh,
    };
    let token = open_session(state, &signed_in, &session)
        .await
        .map_err(|e| OidcError::Provider(format!("storing the session: {e}")))?;
    tracing::info!(officer = %signed_in.id, region = %flow.region, role = identity.role.as_str(), "officer signed in with the region's identity provider");
    // The cookie lasts as long as a session can (renewals move the session's end); the
    // server decides when it is over.
    let max_age = SESSION_HOURS * 3600;
    let mut res = Redirect::to("/dashboard").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(
        state.secure_cookies(),
        Some(&token),
        max_age,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The provider's refresh token as the session keeps it: sealed under the server's secret.
fn sealed_refresh(state: &AppState, identity: &Identity) -> Option<String> {
    identity
        .refresh
        .as_ref()
        .map(|r| state.secret().seal(REFRESH_SEAL, r.as_bytes()))
}

/// When a session must be renewed and when it ends: renewed every `renew_minutes` and a
/// minute before the provider's token ends; it ends with the token, and in any case
/// [`SESSION_HOURS`] after it was signed in (`started`), as a password session does.
fn renewal_times(
    provider: &Provider,
    identity: &Identity,
    now: chrono::DateTime<chrono::Utc>,
    started: chrono::DateTime<chrono::Utc>,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let until = identity
        .until
        .min(started + chrono::Duration::hours(SESSION_HOURS));
    let renew = (now + provider.config().renew_every)
        .min(until - chrono::Duration::seconds(60))
        .max(now + chrono::Duration::seconds(1));
    (renew, until)
}

/// The session's officer, renewed through the provider first when it is due; `None` when
/// the provider no longer signs the person in (the session is then ended and audited). A
/// provider that does not answer leaves the session until its token ends, and is asked
/// again every [`RETRY_SECONDS`].
pub(crate) async fn renewed(
    state: &AppState,
    token_hash: &str,
    session: Session,
) -> std::result::Result<Option<Officer>, crate::store::StoreError> {
    let now = state.now();
    if session.by != SignedInBy::Provider || session.renew_at.is_some_and(|t| now < t) {
        return Ok(Some(session.officer));
    }
    // One renewal at a time on every instance (a refresh token is good once): the request
    // that claims it renews; any other goes on with the session as it is until then.
    let hold = (now + chrono::Duration::seconds(RETRY_SECONDS)).min(session.expires_at);
    if !state.store().claim_renewal(token_hash, now, hold).await? {
        return Ok(Some(session.officer));
    }
    let officer = session.officer.clone();
    let (region, subject) = (
        officer.region_id.clone(),
        officer.subject.clone().unwrap_or_default(),
    );
    let refresh = session
        .refresh
        .as_deref()
        .and_then(|r| state.secret().open(REFRESH_SEAL, r))
        .and_then(|r| String::from_utf8(r).ok());
    let provider: Option<Arc<Provider>> = state.providers().get(&region).cloned();
    let result = match (provider, refresh) {
        (None, _) => Err(OidcError::NoProvider(region.clone())),
        (Some(_), None) => Err(OidcError::Ended("no refresh token to renew with".into())),
        (Some(p), Some(refresh)) => renew_with(p, refresh, subject, now).await,
    };
    match result {
        Ok((provider, identity)) => {
            let (renew_at, until) = renewal_times(&provider, &identity, now, session.created_at);
            let sealed = sealed_refresh(state, &identity);
            let kept = state
                .store()
                .renew_session(
                    token_hash,
                    identity.role,
                    renew_at,
                    sealed.as_deref(),
                    until,
                )
                .await?;
            if identity.role != officer.role {
                tracing::info!(officer = %officer.id, role = identity.role.as_str(), "the identity provider changed the officer's role");
            }
            Ok(kept.then_some(Officer {
                role: identity.role,
                ..officer
            }))
        }
        Err(OidcError::Provider(why)) => {
            // The claim holds the next try RETRY_SECONDS away; the session lasts until its
            // token ends.
            tracing::warn!(officer = %officer.id, region = %region, "the identity provider did not answer the renewal (the session lasts until its token ends): {why}");
            Ok(Some(officer))
        }
        Err(e) => {
            tracing::info!(officer = %officer.id, region = %region, "the session ended at its renewal: {e}");
            state.store().delete_session(token_hash).await?;
            let entry = crate::store::AuditEntry::new(
                &officer,
                AuditAction::SessionEnded,
                "session",
                e.code(),
                now,
            );
            state.store().audit(&entry).await?;
            Ok(None)
        }
    }
}

async fn renew_with(
    provider: Arc<Provider>,
    refresh: String,
    subject: String,
    now: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<(Arc<Provider>, Identity), OidcError> {
    let identity = provider.renew(&refresh, &subject, now).await?;
    Ok((provider, identity))
}

/// The officer may change things (acknowledge, write, follow up, export): handläggare. A
/// läsare is refused with 403, in words.
pub struct MayAct(pub Officer);

impl axum::extract::FromRequestParts<AppState> for MayAct {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> std::result::Result<Self, Self::Rejection> {
        let OfficerAuth(o) = OfficerAuth::from_request_parts(parts, state).await?;
        if o.role.may_act() {
            Ok(MayAct(o))
        } else {
            Err(ApiError::forbidden(format!(
                "your role ({}) reads alarms, reports and statistics; acknowledging, writing, \
                 following up and exporting is for a {}",
                o.role.as_str(),
                OfficerRole::Handler.as_str()
            )))
        }
    }
}
