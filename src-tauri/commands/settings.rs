//! Commands for the person's settings that reach beyond the window: where they are now, the
//! number the region may ring back, the alarm shortcut, how discreet an alarm is, and the
//! instructions the region sees with every alarm.

use super::Result;
use crate::error::CommandError;
use crate::error::ErrorKind;
use crate::link::enroll;
use crate::state::AppState;
use tauri::AppHandle;
use tauri::Runtime;
use tauri::State;
use varn_core::wire::check_text;
use varn_core::wire::MAX_SHORT_CHARS;

/// Where the person is now (sent with an alarm for the next 12 hours).
#[tauri::command]
pub fn set_current_place(state: State<'_, AppState>, place: String) -> Result<()> {
    let place = place.trim();
    check_text("place", place, MAX_SHORT_CHARS)
        .map_err(|e| CommandError::invalid("place", e.to_string()))?;
    state.db()?.set_settings(&[
        ("current_place", place),
        ("current_place_at", &crate::storage::now()),
    ])?;
    Ok(())
}

/// The number the region may call the person back on (optional, kept here): the alarm
/// screen offers *Ring mig* only with it, and sends it with the answer.
#[tauri::command]
pub fn set_callback_number(state: State<'_, AppState>, number: String) -> Result<String> {
    let number = varn_core::alarm::callback_number(&number)
        .map_err(|e| CommandError::invalid("number", e.to_string()))?;
    state.db()?.set_setting(CALLBACK_NUMBER, &number)?;
    Ok(number)
}

/// The setting the callback number is kept under.
pub const CALLBACK_NUMBER: &str = "callback_number";

/// Changes the global keyboard shortcut for the alarm.
#[tauri::command]
pub fn set_alarm_shortcut<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    shortcut: String,
) -> Result<String> {
    let shortcut = shortcut.trim().to_string();
    crate::window::shortcut::replace(&app, &state, &shortcut)?;
    state.db()?.set_setting("alarm_shortcut", &shortcut)?;
    Ok(shortcut)
}

/// How discreet an alarm is: a tone, and notifications that say what happened (both off
/// unless the person turns them on).
#[tauri::command]
pub fn set_alarm_discretion(
    state: State<'_, AppState>,
    sound: bool,
    text: bool,
) -> Result<crate::window::notices::Discretion> {
    let d = crate::window::notices::Discretion { sound, text };
    d.save(state.db()?)?;
    Ok(d)
}

/// The setting: what the person wants responders to know, as last sent to the region.
pub const INSTRUCTIONS: &str = "instructions";

/// Tells the region what responders should know (e.g. "ring inte tillbaka", a code word,
/// medical needs); officers see it with every alarm of this person. Needs the region to
/// answer; kept here only once it has.
#[tauri::command]
pub async fn set_instructions(state: State<'_, AppState>, text: String) -> Result<String> {
    let text = text.trim().to_string();
    check_text("text", &text, varn_core::wire::MAX_MESSAGE_CHARS)
        .map_err(|e| CommandError::invalid("text", e.to_string()))?;
    let db = state.db()?.clone();
    let client =
        enroll::client_for(&db, state.secrets.as_ref(), &state.token_key).map_err(|b| {
            CommandError {
                kind: ErrorKind::ServerUnreachable,
                message: b.as_str().to_string(),
            }
        })?;
    let stored = client
        .put_instructions(&varn_core::wire::Instructions { text })
        .await
        .map_err(|e| CommandError {
            kind: if e.is_retryable() {
                ErrorKind::ServerUnreachable
            } else {
                ErrorKind::InvalidInput
            },
            message: e.to_string(),
        })?;
    db.set_setting(INSTRUCTIONS, &stored.text)?;
    Ok(stored.text)
}
