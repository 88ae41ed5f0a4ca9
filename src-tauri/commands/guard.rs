//! Commands for the PIN and the duress PIN, the lock screen ("Dölj" and the idle lock),
//! quitting behind the lock, a cancel that needs the PIN, and the alarm's timeline from the
//! region. Wherever a PIN is asked for, the duress PIN is taken as if it were right: it
//! changes nothing, shows what the change would have shown, and raises a silent duress alarm.

use std::sync::atomic::Ordering;

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;
use varn_core::wire::TimelineEntry;

use super::Result;
use crate::alarm::AlarmView;
use crate::error::{CommandError, ErrorKind};
use crate::pin::{self, DuressNote, Entered, Guarded, PinChanged, PinError, PinStatus};
use crate::state::AppState;

impl From<PinError> for CommandError {
    fn from(e: PinError) -> Self {
        // For waits the message is the number of seconds; the UI words it.
        let (kind, message) = match &e {
            PinError::NotSet => (ErrorKind::PinNotSet, e.to_string()),
            PinError::Wrong(wait) => (ErrorKind::WrongPin, wait.to_string()),
            PinError::Wait(wait) => (ErrorKind::PinWait, wait.to_string()),
            PinError::Format(f) => return CommandError::invalid("pin", f.to_string()),
            PinError::Storage(s) => (s.kind(), s.to_string()),
            PinError::Hash(_) => (ErrorKind::Storage, e.to_string()),
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
            kind: ErrorKind::Storage,
            message: e.to_string(),
        })?
        .map_err(CommandError::from)
}

/// Whether PINs are set, and the idle lock.
#[tauri::command]
pub fn pin_status(state: State<'_, AppState>) -> Result<PinStatus> {
    Ok(pin::status(state.db()?)?)
}

/// What to show after a PIN-guarded change; the duress PIN raises the silent alarm first
/// (a failure to store it is logged, never shown: the screen must look the same).
pub(crate) fn settle<T>(state: &AppState, g: Guarded<T>) -> T {
    if let Guarded::Duress(_) = &g {
        if let Err(e) = state.duress() {
            tracing::error!("the silent alarm could not be stored: {e}");
        }
    }
    g.shown()
}

/// Checks the PIN (when one is set) for an action that needs it: `Ok(Entered::Duress)` for
/// the duress PIN, which the caller must treat as if it were right.
pub(crate) async fn check_pin(state: &AppState, entered: Option<String>) -> Result<Entered> {
    let db = state.db()?.clone();
    blocking(move || pin::guard(&db, entered.as_deref(), chrono::Utc::now())).await
}

/// Sets (or changes, with the current PIN) the PIN and the optional duress PIN (left empty,
/// the duress PIN that is set stays), and says what became of the duress PIN.
#[tauri::command]
pub async fn set_pin(
    state: State<'_, AppState>,
    current: Option<String>,
    pin: String,
    duress: Option<String>,
) -> Result<PinChanged> {
    let db = state.db()?.clone();
    let duress = duress.filter(|d| !d.is_empty());
    let g = blocking(move || pin::set(&db, current.as_deref(), pin, duress, chrono::Utc::now()))
        .await?;
    Ok(settle(&state, g))
}

/// Removes the duress PIN alone (needs the person's own PIN).
#[tauri::command]
pub async fn remove_duress_pin(state: State<'_, AppState>, current: String) -> Result<DuressNote> {
    let db = state.db()?.clone();
    let g = blocking(move || pin::remove_duress(&db, &current, chrono::Utc::now())).await?;
    Ok(settle(&state, g))
}

/// Removes both PINs and the idle lock (needs the PIN).
#[tauri::command]
pub async fn clear_pin(state: State<'_, AppState>, current: String) -> Result<PinStatus> {
    let db = state.db()?.clone();
    let g = blocking(move || pin::clear(&db, &current, chrono::Utc::now())).await?;
    Ok(settle(&state, g))
}

/// Sets the idle lock in minutes (0 = off); needs a PIN set, and the PIN itself to turn the
/// lock off or lengthen it.
#[tauri::command]
pub async fn set_idle_lock(
    state: State<'_, AppState>,
    minutes: u32,
    pin: Option<String>,
) -> Result<PinStatus> {
    let db = state.db()?.clone();
    let g = blocking(move || pin::set_idle_lock(&db, minutes, pin.as_deref(), chrono::Utc::now()))
        .await?;
    Ok(settle(&state, g))
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
/// the person to open the app sees no difference) and raises a silent duress alarm.
#[tauri::command]
pub async fn unlock_screen(state: State<'_, AppState>, pin: String) -> Result<()> {
    if !state.screen_is_locked() {
        return Ok(());
    }
    let db = state.db()?.clone();
    let entered = blocking(move || pin::verify(&db, &pin, chrono::Utc::now())).await?;
    if entered == Entered::Duress {
        settle(&state, Guarded::Duress(()));
    }
    state.screen_locked.store(false, Ordering::SeqCst);
    Ok(())
}

/// How long a quit with the duress PIN keeps the (hidden) app running for its silent alarm
/// to reach the region.
const DURESS_QUIT_GRACE: std::time::Duration = std::time::Duration::from_secs(120);

/// Quits the app. Behind the lock screen this needs the PIN (the tray's *Avsluta* and the
/// window's close button ask for it). The duress PIN looks like a quit — the window and the
/// tray icon go away — while the app stays until its silent alarm has reached the region.
#[tauri::command]
pub async fn quit_app<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    pin: Option<String>,
) -> Result<()> {
    if !state.screen_is_locked() {
        app.exit(0);
        return Ok(());
    }
    match check_pin(&state, pin).await? {
        Entered::Pin => app.exit(0),
        Entered::Duress => {
            settle(&state, Guarded::Duress(()));
            crate::hide_everything(&app);
            let alarms = state.alarms()?.clone();
            tauri::async_runtime::spawn(async move {
                alarms.wait_until_settled(DURESS_QUIT_GRACE).await;
                app.exit(0);
            });
        }
    }
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
        kind: ErrorKind::Export,
        message: format!("{}: {e}", path.display()),
    })?;
    Ok(Some(path.display().to_string()))
}
