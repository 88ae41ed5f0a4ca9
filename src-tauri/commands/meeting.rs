//! Commands for the check-in timer: check in, extend, check out, and the one running now.

use tauri::State;
use uuid::Uuid;
use varn_core::wire::CheckoutOutcome;

use super::Result;
use crate::checkin::{CheckinError, CheckinView};
use crate::error::CommandError;
use crate::state::AppState;

impl From<CheckinError> for CommandError {
    fn from(e: CheckinError) -> Self {
        match e {
            CheckinError::Storage(s) => s.into(),
            CheckinError::NotFound(id) => CommandError::not_found(format!("check-in {id}")),
            CheckinError::Minutes => CommandError::invalid("minutes", e.to_string()),
            CheckinError::Finished => CommandError {
                kind: "finished",
                message: e.to_string(),
            },
        }
    }
}

/// "Jag är på plats": checks in for `minutes`, with the meeting and place an alarm would
/// carry now. Durable when this returns; the region gets it in the background.
#[tauri::command]
pub fn check_in(state: State<'_, AppState>, minutes: u32) -> Result<CheckinView> {
    let (meeting, place) = state.alarm_context()?;
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
