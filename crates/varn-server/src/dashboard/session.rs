//! The officer's session: the login (with the known-browser cookie and the limiter), the logout, who is logged in.

use super::*;
use crate::store::{NewSession, SignedInBy};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Login {
    username: String,
    password: String,
    /// The break-glass account's TOTP code.
    #[serde(default)]
    code: Option<String>,
}

/// A hash to verify against when the user does not exist, so both cases take as long.
pub(super) fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("not a real password").unwrap_or_default())
}

/// `POST /dashboard/api/login`. A failure slot ([`crate::ratelimit::LoginLimiter`]) is
/// taken before the password is checked, and the check runs in the bounded pool: a burst of
/// wrong logins neither runs more checks than the limits allow nor piles up memory. A
/// browser the officer has signed in from before (its known-device cookie) is counted on
/// its own and checked first, so others' wrong passwords never keep the officer out.
pub(super) async fn login(
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
    let now = state.now();
    use crate::breakglass::{local_login, LocalLogin};
    let by = match local_login(
        provider::local_policy(&state, &officer.region_id),
        officer.totp.is_some(),
    ) {
        LocalLogin::Refused => {
            slot.not_counted();
            return Err(ApiError::forbidden(
                "this region signs in with its identity provider: use \"Logga in med regionens konto\"",
            ));
        }
        LocalLogin::Password => SignedInBy::Password,
        LocalLogin::PasswordAndCode => {
            let step = req.code.as_deref().and_then(|code| {
                let secret = state
                    .secret()
                    .open(crate::breakglass::SEAL_PURPOSE, officer.totp.as_deref()?)?;
                crate::breakglass::step_of(&secret, code, now.timestamp())
            });
            let fresh = match step {
                Some(step) => state.store().use_totp_step(officer.id, step).await?,
                None => false,
            };
            if !fresh {
                drop(slot);
                return Err(ApiError::unauthorized(
                    ProblemType::BadLogin,
                    "this account also needs its code from the authenticator app, unused and \
                     current",
                ));
            }
            SignedInBy::BreakGlass
        }
    };
    slot.succeeded();
    let session = NewSession {
        officer_id: officer.id,
        role: officer.role,
        by,
        expires_at: now + chrono::Duration::hours(SESSION_HOURS),
        renew_at: None,
        refresh: None,
    };
    let token = open_session(&state, &officer, &session).await?;
    if by == SignedInBy::BreakGlass {
        tracing::warn!(officer = %officer.id, username = %officer.username, region = %officer.region_id, "the break-glass account signed in to the dashboard");
    } else {
        tracing::info!(officer = %officer.id, "officer logged in");
    }
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

/// Stores a new session for `officer` (whose role is the session's) and writes the sign-in
/// to the audit log (`sign_in`, or `break_glass`); returns the cookie's token. Both ways of
/// signing in end here.
pub(super) async fn open_session(
    state: &AppState,
    officer: &crate::store::Officer,
    session: &NewSession,
) -> std::result::Result<String, crate::store::StoreError> {
    let token = auth::new_token();
    let now = state.now();
    state
        .store()
        .create_session(&auth::hash_secret(&token), session, now)
        .await?;
    let (action, how) = match session.by {
        SignedInBy::BreakGlass => (AuditAction::BreakGlass, "break_glass"),
        SignedInBy::Provider => (AuditAction::SignIn, "oidc"),
        SignedInBy::Password => (AuditAction::SignIn, "password"),
    };
    let entry = crate::store::AuditEntry::new(officer, action, "session", how, now);
    state.store().audit(&entry).await?;
    Ok(token)
}

pub(super) async fn logout(
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

pub(super) async fn me(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Json<serde_json::Value> {
    // The region by its name, as people call it (its id only when no profile names it).
    let region_name = state
        .profile(&o.region_id)
        .map_or_else(|| o.region_id.clone(), |p| p.profile.region.name.clone());
    Json(serde_json::json!({
        "display_name": o.display_name,
        "region_id": o.region_id,
        "region_name": region_name,
        "username": o.username,
        "role": o.role.as_str(),
        "may_act": o.role.may_act(),
    }))
}
