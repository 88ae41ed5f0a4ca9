//! Updates in Inställningar: look for a newer version at the region, and install it (with the
//! PIN when one is set), which restarts the app. The rules are in [`crate::updates`].

use tauri::{AppHandle, Runtime, State};

use super::lock::check_pin;
use crate::error::CommandError;
use crate::pin::Entered;
use crate::state::AppState;
use crate::updates::{self, Pending, UpdateView};

type Result<T> = std::result::Result<T, CommandError>;

/// Asks the region whether a newer version is published; says what would hold it.
#[tauri::command]
pub async fn update_check<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    pending: State<'_, Pending>,
) -> Result<UpdateView> {
    updates::check(&app, &state, &pending).await
}

/// Installs `version` (the one the last check offered) and restarts into it. Refused while an
/// alarm or a check-in is open or a report has not reached the region; a bundle whose
/// signature is not the update key's is never installed and the running version stays.
#[tauri::command]
pub async fn update_install<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    pending: State<'_, Pending>,
    version: String,
    pin: Option<String>,
) -> Result<()> {
    if check_pin(&state, pin).await? == Entered::Duress {
        return Err(super::link::duress_refusal(&state));
    }
    updates::install(&app, &state, &pending, &version).await?;
    app.restart()
}
