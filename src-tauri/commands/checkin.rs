//! Commands for the check-in timer: check in, extend, check out, and the one running now.

use super::Result;
use crate::error::CommandError;
use crate::runners::checkin::CheckinView;
use crate::state::AppState;
use tauri::State;
use uuid::Uuid;
use varn_core::wire::CheckoutOutcome;

/// "Jag är på plats": checks in for `minutes`, for a planned appearance or with the meeting
/// and place an alarm would carry now. Durable when this returns; the region gets it in the
/// background.
#[tauri::command]
pub fn check_in(
    state: State<'_, AppState>,
    minutes: u32,
    appearance_id: Option<Uuid>,
) -> Result<CheckinView> {
    let (meeting, place) = match appearance_id {
        Some(id) => {
            let a = state
                .db()?
                .appearance(id)?
                .ok_or_else(|| CommandError::not_found(format!("appearance {id}")))?;
            (a.title, a.place)
        }
        None => state.alarm_context()?,
    };
    Ok(state.checkins()?.check_in(meeting, place, minutes)?)
}

/// One tap: `minutes` more.
#[tauri::command]
pub fn extend_checkin(state: State<'_, AppState>, id: Uuid, minutes: u32) -> Result<CheckinView> {
    Ok(state.checkins()?.extend(id, minutes)?)
}

/// Checks out: "allt lugnt" (`calm`) or "något hände" (`incident`).
#[tauri::command]
pub fn check_out(
    state: State<'_, AppState>,
    id: Uuid,
    outcome: CheckoutOutcome,
) -> Result<CheckinView> {
    Ok(state.checkins()?.check_out(id, outcome)?)
}

/// The check-in still running (or missed and not checked out), if any.
#[tauri::command]
pub fn active_checkin(state: State<'_, AppState>) -> Result<Option<CheckinView>> {
    Ok(state.checkins()?.active()?)
}
