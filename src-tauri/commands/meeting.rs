//! Commands for planned appearances and the check-in timer: plan, check in, extend, check
//! out, and the one running now.

use serde::{Deserialize, Serialize};
use tauri::State;
use uuid::Uuid;
use varn_core::appearance::{Appearance, DEFAULT_REMIND_MINUTES};
use varn_core::wire::CheckoutOutcome;

use super::Result;
use crate::checkin::{CheckinError, CheckinView};
use crate::error::{CommandError, ErrorKind};
use crate::state::AppState;

impl From<CheckinError> for CommandError {
    fn from(e: CheckinError) -> Self {
        match e {
            CheckinError::Storage(s) => s.into(),
            CheckinError::NotFound(id) => CommandError::not_found(format!("check-in {id}")),
            CheckinError::Minutes => CommandError::invalid("minutes", e.to_string()),
            CheckinError::Finished => CommandError {
                kind: ErrorKind::Finished,
                message: e.to_string(),
            },
        }
    }
}

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

/// A planned appearance with what its risk inventory says.
#[derive(Serialize)]
pub struct AppearanceView {
    /// The appearance.
    pub appearance: Appearance,
    /// Where its risk inventory stands.
    pub inventory: varn_core::risk::InventoryState,
    /// Minutes until its expected end (the check-in's length), if it has not ended.
    pub minutes_left: Option<u32>,
}

/// An appearance as the form sends it; a missing id makes a new one.
#[derive(Deserialize)]
pub struct AppearanceInput {
    id: Option<Uuid>,
    title: String,
    place: String,
    starts_at: String,
    ends_at: String,
    remind_minutes: Option<u32>,
}

fn appearance_view(state: &AppState, a: Appearance) -> Result<AppearanceView> {
    let now = chrono::Local::now().naive_local();
    let risk = state.with_profile(|p| p.profile.risk.clone());
    let inventory = crate::reminders::inventory_state(state.db()?, &risk, &a)?;
    Ok(AppearanceView {
        minutes_left: a.minutes_left(now),
        appearance: a,
        inventory,
    })
}

/// Planned appearances that have not ended, soonest first.
#[tauri::command]
pub fn appearances(state: State<'_, AppState>) -> Result<Vec<AppearanceView>> {
    let since = chrono::Local::now()
        .naive_local()
        .format(varn_core::incident::LOCAL_TIME)
        .to_string();
    state
        .db()?
        .appearances(&since)?
        .into_iter()
        .map(|a| appearance_view(&state, a))
        .collect()
}

/// Validates and saves an appearance durably (its inventory link is kept).
#[tauri::command]
pub fn save_appearance(
    state: State<'_, AppState>,
    input: AppearanceInput,
) -> Result<AppearanceView> {
    let db = state.db()?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    let inventory_id = db.appearance(id)?.and_then(|a| a.inventory_id);
    let a = Appearance {
        id,
        title: input.title.trim().to_string(),
        place: input.place.trim().to_string(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        remind_minutes: input.remind_minutes.unwrap_or(DEFAULT_REMIND_MINUTES),
        inventory_id,
    };
    a.validate()
        .map_err(|e| CommandError::invalid("appearance", e.to_string()))?;
    db.save_appearance(&a)?;
    appearance_view(&state, a)
}

/// Deletes a planned appearance (its inventory stays).
#[tauri::command]
pub fn delete_appearance(state: State<'_, AppState>, id: Uuid) -> Result<()> {
    if state.db()?.delete_appearance(id)? {
        Ok(())
    } else {
        Err(CommandError::not_found(format!("appearance {id}")))
    }
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
