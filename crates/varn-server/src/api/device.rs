//! The device's own requests: enrolling with a code, leaving (unlink), who it is, its region's profile, the instructions responders see.

use super::*;

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
