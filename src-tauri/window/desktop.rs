//! The app on the desktop outside its web view: raising the alarm from the global shortcut or
//! the tray, the tray itself, showing and hiding the window (a quit with the duress PIN makes
//! the app look gone), and setting the shortcut and the tray up once the shell is painted.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tauri::menu::{MenuBuilder, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::runners::alarm;
use crate::state::AppState;
use crate::window::shortcut;

/// Raises the alarm from outside the window (the global shortcut, the tray): shows the window
/// and tells the UI to open the alarm screen.
pub fn raise_from_outside<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let result = state
        .alarm_context()
        .map_err(alarm::AlarmError::from)
        .and_then(|(meeting, place)| state.alarms()?.raise(meeting, place));
    show_window(app);
    match result {
        Ok(view) => {
            let _ = app.emit("alarm-raised", view);
        }
        Err(e) => tracing::error!("the alarm could not be stored: {e}"),
    }
}

pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Quitting was asked for (the tray's *Avsluta*, the window's close button): behind the lock
/// screen the window asks for the PIN first (`quit_app`); otherwise the app quits.
pub fn quit_requested<R: Runtime>(app: &AppHandle<R>) {
    if app.state::<AppState>().screen_is_locked() {
        show_window(app);
        let _ = app.emit("quit-requested", ());
    } else {
        app.exit(0);
    }
}

/// Makes the app look gone (a quit with the duress PIN): no window, no tray icon.
pub fn hide_everything<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.hide();
    }
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_visible(false);
    }
}

pub fn build_tray<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> tauri::Result<()> {
    let t = |key| state.strings.get(state.lang(), key).to_string();
    let menu = MenuBuilder::new(app)
        .item(&MenuItemBuilder::with_id("alarm", t("tray.alarm")).build(app)?)
        .separator()
        .item(&MenuItemBuilder::with_id("show", t("tray.show")).build(app)?)
        .item(&MenuItemBuilder::with_id("quit", t("tray.quit")).build(app)?)
        .build()?;
    let mut tray = TrayIconBuilder::with_id("main")
        .tooltip("Värn")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "alarm" => raise_from_outside(app),
            "show" => show_window(app),
            "quit" => quit_requested(app),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// The latest the global shortcut and the tray are set up after start.
pub const EXTRAS_AT_THE_LATEST: Duration = Duration::from_secs(3);

/// Registers the global alarm shortcut and builds the tray icon, once: when the shell has
/// painted (`ui_ready`), or [`EXTRAS_AT_THE_LATEST`] after start if the window never says so.
pub fn start_desktop_extras<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if state.extras_started.swap(true, Ordering::SeqCst) {
        return;
    }
    let handle = app.clone();
    let run = app.run_on_main_thread(move || {
        let state = handle.state::<AppState>();
        shortcut::register(&handle, &state);
        state.mark("shortcut registered");
        if let Err(e) = build_tray(&handle, &state) {
            // No tray host (a bare X server, some desktops): the button and shortcut remain.
            tracing::warn!("no tray icon: {e}");
        }
        state.mark("tray built");
    });
    if let Err(e) = run {
        tracing::warn!("the shortcut and the tray were not set up: {e}");
    }
}
