//! Check-ins from a device: start or extend, read, check out.

use super::*;

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
    let (k, _) = state
        .store()
        .checkout_checkin(&device, id, &req, state.now())
        .await?;
    Ok(Json(k.receipt()).into_response())
}
