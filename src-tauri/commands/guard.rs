//! Commands for the PIN and the duress PIN, the lock screen ("Dölj" and the idle lock), a
//! cancel that needs the PIN, and the alarm's timeline from the region.

use std::sync::atomic::Ordering;

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;
use varn_core::wire::TimelineEntry;

use super::Result;
use crate::alarm::AlarmView;
use crate::error::CommandError;
use crate::pin::{self, Entered, PinError, PinStatus};
use crate::state::AppState;

impl From<PinError> for CommandError {
    fn from(e: PinError) -> Self {
        // For waits the message is the number of seconds; the UI words it.
        let (kind, message) = match &e {
            PinError::NotSet => ("pin_not_set", e.to_string()),
            PinError::Wrong(wait) => ("wrong_pin", wait.to_string()),
            PinError::Wait(wait) => ("pin_wait", wait.to_string()),
            PinError::Format(f) => return CommandError::invalid("pin", f.to_string()),
            PinError::Storage(s) => (s.kind(), s.to_string()),
            PinError::Hash(_) => ("storage", e.to_string()),
        };
        CommandError { kind, message }
    }
}

/// Runs PIN work (Argon2id, on purpose slow) off the UI thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, PinError> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| CommandError {
            kind: "storage",
            message: e.to_string(),
        })?
        .map_err(CommandError::from)
}

/// Whether PINs are set, and the idle lock.
#[tauri::command]
pub fn pin_status(state: State<'_, AppState>) -> Result<PinStatus> {
    Ok(pin::status(state.db()?)?)
}

/// Sets (or changes, with the current PIN) the PIN and the optional duress PIN.
#[tauri::command]
pub async fn set_pin(
    state: State<'_, AppState>,
    current: Option<String>,
    pin: String,
    duress: Option<String>,
) -> Result<PinStatus> {
    state.screen_open()?;
    let db = state.db()?.clone();
    let duress = duress.filter(|d| !d.is_empty());
    blocking(move || pin::set(&db, current.as_deref(), pin, duress, chrono::Utc::now())).await
}

/// Removes both PINs and the idle lock (needs the PIN).
#[tauri::command]
pub async fn clear_pin(state: State<'_, AppState>, current: String) -> Result<PinStatus> {
    state.screen_open()?;
    let db = state.db()?.clone();
    blocking(move || pin::clear(&db, &current, chrono::Utc::now())).await
}

/// Sets the idle lock in minutes (0 = off); needs a PIN.
#[tauri::command]
pub fn set_idle_lock(state: State<'_, AppState>, minutes: u32) -> Result<PinStatus> {
    state.screen_open()?;
    Ok(pin::set_idle_lock(state.db()?, minutes)?)
}

/// Puts up the lock screen ("Dölj" or idle). Without a PIN there is nothing to lock with;
/// returns whether it locked.
#[tauri::command]
pub fn lock_screen(state: State<'_, AppState>) -> Result<bool> {
    let locked = pin::status(state.db()?)?.pin_set;
    if locked {
        state.screen_locked.store(true, Ordering::SeqCst);
    }
    Ok(locked)
}

/// Opens the lock screen with the PIN. The duress PIN opens it the same way (whoever forces
/// the person to open the app sees no difference).
#[tauri::command]
pub async fn unlock_screen(state: State<'_, AppState>, pin: String) -> Result<()> {
    if !state.screen_locked.load(Ordering::SeqCst) {
        return Ok(());
    }
    let db = state.db()?.clone();
    blocking(move || pin::verify(&db, &pin, chrono::Utc::now())).await?;
    state.screen_locked.store(false, Ordering::SeqCst);
    Ok(())
}

/// Cancels an alarm as a false alarm. Once a PIN is set the cancel needs it; the duress PIN
/// shows the same cancel on screen while the region keeps the alarm open, marked as under
/// duress.
#[tauri::command]
pub async fn cancel_alarm(
    state: State<'_, AppState>,
    id: Uuid,
    pin: Option<String>,
) -> Result<AlarmView> {
    let db = state.db()?.clone();
    let entered = blocking(move || {
        if !pin::status(&db)?.pin_set {
            return Ok(Entered::Pin);
        }
        pin::verify(&db, pin.as_deref().unwrap_or(""), chrono::Utc::now())
    })
    .await?;
    Ok(state.alarms()?.cancel(id, entered == Entered::Duress)?)
}

/// The alarm's timeline from the region server.
#[tauri::command]
pub async fn alarm_timeline(state: State<'_, AppState>, id: Uuid) -> Result<Vec<TimelineEntry>> {
    state.screen_open()?;
    Ok(state.alarms()?.timeline(id).await?)
}

/// Saves the alarm's timeline as text for a police report, where the person chooses.
/// Returns the path, or nothing if the person cancelled the dialog.
#[tauri::command]
pub async fn export_alarm_timeline<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<Option<String>> {
    state.screen_open()?;
    let alarms = state.alarms()?;
    let view = alarms.view(id)?;
    let entries = alarms.timeline(id).await?;
    let who = crate::region::load_link(state.db()?)?
        .map(|l| l.name)
        .unwrap_or_default();
    let id_text = id.to_string();
    let text = varn_core::timeline::to_text(
        &varn_core::timeline::Header {
            id: &id_text,
            who: &who,
            meeting: &view.meeting,
            place: &view.place,
            drill: view.drill,
        },
        &entries,
        &chrono::Local,
        chrono::Utc::now(),
    );
    let day = view
        .triggered_at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d");
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Spara tidslinje – Värn")
        .set_file_name(format!("larm-tidslinje-{day}.txt"))
        .add_filter("Text", &["txt"])
        .save_file(move |p| {
            let _ = tx.send(p);
        });
    let Some(path) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    std::fs::write(&path, text.as_bytes()).map_err(|e| CommandError {
        kind: "export",
        message: format!("{}: {e}", path.display()),
    })?;
    Ok(Some(path.display().to_string()))
}
