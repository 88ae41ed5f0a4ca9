//! Commands for what guards the app: the database passphrase, the PIN and the duress PIN,
//! the lock screen ("Dölj" and the idle lock), and quitting behind the lock. Wherever a PIN
//! is asked for, the duress PIN is taken as if it were right: it changes nothing, shows what
//! the change would have shown, and raises a silent duress alarm.

use super::Result;
use crate::error::CommandError;
use crate::error::ErrorKind;
use crate::pin;
use crate::pin::DuressNote;
use crate::pin::Entered;
use crate::pin::Guarded;
use crate::pin::PinChanged;
use crate::pin::PinError;
use crate::pin::PinStatus;
use crate::state::AppState;
use std::sync::atomic::Ordering;
use tauri::AppHandle;
use tauri::Manager;
use tauri::Runtime;
use tauri::State;

/// Unlocks (or, the first time, creates) the database with a passphrase. Wrong passphrases
/// make the next try wait longer.
#[tauri::command]
pub async fn unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<()> {
    if !state.is_locked() {
        return Ok(());
    }
    let first_time = {
        let lock = state.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(wait) = lock.attempts.check() {
            return Err(CommandError {
                kind: ErrorKind::Wait,
                message: wait.to_string(),
            });
        }
        lock.first_time
    };
    let dir = state.data_dir.clone();
    // Argon2id takes a moment on purpose; keep it off the UI thread.
    let opened = tauri::async_runtime::spawn_blocking(move || {
        let r = crate::vault::open_with_passphrase(&dir, &passphrase, first_time);
        crate::vault::forget(passphrase);
        r
    })
    .await
    .map_err(|e| CommandError {
        kind: ErrorKind::Storage,
        message: e.to_string(),
    })?;
    match opened {
        Ok(db) => {
            state.unlock_with(db)?;
            crate::window::shortcut::reregister(&app, &state);
            Ok(())
        }
        Err(crate::vault::VaultError::Passphrase(_)) if !first_time => {
            let wait = state
                .lock
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .attempts
                .failed();
            // The message is the wait in seconds; the UI words it.
            Err(CommandError {
                kind: ErrorKind::WrongPassphrase,
                message: wait.to_string(),
            })
        }
        Err(crate::vault::VaultError::Passphrase(m)) => Err(CommandError::invalid("passphrase", m)),
        Err(e) => Err(CommandError {
            kind: ErrorKind::Storage,
            message: e.to_string(),
        }),
    }
}

/// Tries the keychain again (after the person unlocked it).
#[tauri::command]
pub fn retry_unlock<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Result<bool> {
    if !state.is_locked() {
        return Ok(true);
    }
    state.try_unlock();
    if !state.is_locked() {
        crate::window::shortcut::reregister(&app, &state);
    }
    Ok(!state.is_locked())
}

/// Runs PIN work (Argon2id, on purpose slow) off the UI thread.
pub(super) async fn blocking<T: Send + 'static>(
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
            crate::window::desktop::hide_everything(&app);
            let alarms = state.alarms()?.clone();
            tauri::async_runtime::spawn(async move {
                alarms.wait_until_settled(DURESS_QUIT_GRACE).await;
                app.exit(0);
            });
        }
    }
    Ok(())
}

/// "Dölj": while the neutral screen is up, the window's title and the tray icon's tooltip
/// say nothing of Värn; back to them when it goes.
#[tauri::command]
pub fn set_hidden<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    hidden: bool,
) -> Result<()> {
    let title = if hidden {
        state.strings.get(state.lang(), "hide.window_title")
    } else {
        "Värn"
    };
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_title(title);
    }
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_tooltip(Some(title));
    }
    Ok(())
}
