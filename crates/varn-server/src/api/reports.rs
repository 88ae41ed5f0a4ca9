//! Reports from a device: put a revision, read the receipt and the follow-up.

use super::*;

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
