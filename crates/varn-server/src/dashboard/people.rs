//! The region's people on the dashboard: active check-ins and the devices.

use super::*;

/// Active check-ins with their deadlines, and missed ones not yet checked out, with the
/// server's time (the page counts minutes left from it, not from the officer's clock).
pub(super) async fn checkins(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Result<Response> {
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

/// The region's devices: who is enrolled, and whose access was revoked by the region or
/// unlinked by the person.
pub(super) async fn devices(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Result<Response> {
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
