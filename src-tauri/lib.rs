//! Värn's desktop app: the Tauri shell around `varn-core`. It parses the command line, opens
//! the data directory and the database, chooses the region profile and opens the window.

#![forbid(unsafe_code)]

pub mod alarm;
pub mod checkin;
pub mod cli;
pub mod commands;
pub mod datadir;
pub mod dialer;
pub mod drivers;
pub mod error;
pub mod events;
pub mod export;
pub mod i18n;
pub mod link;
pub mod notices;
pub mod pin;
pub mod profiles;
pub mod region;
pub mod reminders;
pub mod rendering;
pub mod secrets;
pub mod shortcut;
pub mod state;
pub mod storage;
pub mod sync;
pub mod ui_bridge;
pub mod updates;
pub mod vault;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tauri::menu::{MenuBuilder, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Builder, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_global_shortcut::ShortcutState;

use crate::dialer::SystemDialer;
use crate::secrets::Keychain;
use crate::state::AppState;
use crate::ui_bridge::{ObserverSlot, WindowObserver};

/// How long `--smoke` waits for the UI before it gives up.
pub const SMOKE_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the app; returns the process exit code.
pub fn run() -> i32 {
    let started = Instant::now();
    rendering::choose();
    let filter = tracing_subscriber::EnvFilter::try_from_env("VARN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,varn_app=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let cmd = cli::parse(
        std::env::args_os().skip(1),
        std::env::var_os(cli::DATA_DIR_ENV),
    );
    let opts = match cmd {
        Ok(cli::Command::Run(opts)) => opts,
        Ok(cli::Command::Help) => {
            println!("{}", cli::USAGE);
            return 0;
        }
        Ok(cli::Command::Version) => {
            println!("varn {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(e) => {
            eprintln!("varn: {e}\n\n{}", cli::USAGE);
            return 2;
        }
    };
    let state = match open_state(opts.data_dir, opts.smoke, started) {
        Ok(state) => state,
        Err(message) => {
            eprintln!("varn: {message}");
            return 1;
        }
    };
    state.0.mark("state opened");
    tracing::debug!("rendering: {}", rendering::chosen());
    if let Err(why) = display_available() {
        eprintln!("varn: {why}");
        return 1;
    }
    let observer = state.1.clone();
    // GTK panics when it cannot reach the display; turn that into a clear message and exit 1.
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build(tauri::Builder::default(), state.0, observer).build(tauri::generate_context!())
    }));
    let app = match built {
        Ok(Ok(app)) => app,
        Ok(Err(e)) => {
            eprintln!("varn: fönstret kunde inte startas / the window could not start: {e}");
            return 1;
        }
        Err(_) => {
            eprintln!(
                "varn: skärmen kunde inte användas / the display could not be used (DISPLAY={:?})",
                std::env::var("DISPLAY").ok()
            );
            return 1;
        }
    };
    app.run_return(|_, _| {})
}

/// On Linux a window needs X11 or Wayland; say so instead of letting GTK panic.
fn display_available() -> Result<(), &'static str> {
    #[cfg(target_os = "linux")]
    {
        let set = |v| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Err("ingen skärm: DISPLAY och WAYLAND_DISPLAY saknas / no display: DISPLAY and WAYLAND_DISPLAY are unset");
        }
    }
    Ok(())
}

/// Prepares the data directory and tries to open the encrypted database with the keychain's
/// key. Without a usable key the state starts locked: the UI then asks for a passphrase or
/// says why the database cannot be opened, while the plan and 112 keep working.
pub fn open_state(
    data_dir: Option<PathBuf>,
    smoke: bool,
    started: Instant,
) -> Result<(AppState, Arc<ObserverSlot>), String> {
    let dir = data_dir.or_else(datadir::default_dir).ok_or_else(|| {
        "ingen app-datamapp hittades; ange --data-dir / no app-data directory; pass --data-dir"
            .to_string()
    })?;
    let dir = datadir::prepare(&dir).map_err(|e| e.to_string())?;
    let embedded = varn_core::profile::Profile::embedded_default()
        .map_err(|e| format!("den inbyggda regionprofilen är trasig / embedded profile: {e}"))?;
    let observer = Arc::new(ObserverSlot::default());
    let state = AppState::new(state::Parts {
        data_dir: dir.clone(),
        profile: profiles::ActiveProfile {
            profile: embedded,
            source: "embedded".into(),
            notes: Vec::new(),
        },
        secrets: Arc::new(Keychain),
        dialer: Arc::new(SystemDialer::new(|uri| {
            tauri_plugin_opener::open_url(uri, None::<&str>).map_err(|e| e.to_string())
        })),
        observer: observer.clone(),
        runtime: tauri::async_runtime::handle().inner().clone(),
        smoke,
        started,
    });
    try_unlock(&state);
    Ok((state, observer))
}

/// Opens the database with the keychain's key if it can; otherwise records why it is locked.
pub fn try_unlock(state: &AppState) {
    let mut lock = state.lock.lock().unwrap_or_else(|p| p.into_inner());
    match vault::open(&state.data_dir, state.secrets.as_ref()) {
        Ok(vault::Opening::Open(db)) => {
            drop(lock);
            if let Err(e) = state.unlock_with(db) {
                tracing::error!("the database opened but could not be read: {e}");
            }
        }
        Ok(vault::Opening::NeedPassphrase { first_time, reason }) => {
            lock.first_time = first_time;
            lock.reason = reason;
            lock.fatal = false;
        }
        Err(e) => {
            let db = state.data_dir.join(vault::DB_FILE);
            eprintln!(
                "varn: databasen {} kan inte öppnas / the database cannot be opened: {e}",
                db.display()
            );
            lock.reason = e.to_string();
            lock.fatal = true;
        }
    }
}

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

fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Quitting was asked for (the tray's *Avsluta*, the window's close button): behind the lock
/// screen the window asks for the PIN first (`quit_app`); otherwise the app quits.
fn quit_requested<R: Runtime>(app: &AppHandle<R>) {
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

fn build_tray<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> tauri::Result<()> {
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

/// Wires state, plugins, commands and the window onto a builder.
pub fn build<R: Runtime>(
    builder: Builder<R>,
    state: AppState,
    observer: Arc<ObserverSlot>,
) -> Builder<R> {
    builder
        // One instance only: a second start brings the first to the front.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_window(app)
        }))
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|app, _shortcut, event| {
                    if event.state == ShortcutState::Pressed {
                        raise_from_outside(app);
                    }
                })
                .build(),
        )
        // The file dialogs are used from Rust only; no capability lets the UI call them.
        .plugin(tauri_plugin_dialog::init())
        // Checked and installed from Rust only (crate::updates); no capability lets the UI
        // call the plugin.
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(state)
        .manage(updates::Pending::default())
        .manage(commands::reports::Dropped::default())
        // Files dropped on the window: kept here; the UI gets a token and the names.
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
                let (token, names) = window
                    .state::<commands::reports::Dropped>()
                    .put(paths.clone());
                let _ = window.emit(
                    "files-dropped",
                    serde_json::json!({ "token": token, "names": names }),
                );
            }
            // Behind the lock screen, closing the window needs the PIN like quitting does.
            tauri::WindowEvent::CloseRequested { api, .. }
                if window.state::<AppState>().screen_is_locked() =>
            {
                api.prevent_close();
                quit_requested(window.app_handle());
            }
            _ => {}
        })
        .invoke_handler(invoke_handler())
        .setup(move |app| {
            let state = app.state::<AppState>();
            state.mark("setup");
            let webview_dir = state.data_dir.join("webview");
            // A phone-shaped window that fits the screen it opens on (a 1366×768 laptop too).
            let work = app.primary_monitor().ok().flatten().map(|m| {
                let scale = m.scale_factor().max(0.1);
                let area = m.work_area();
                (
                    f64::from(area.size.width) / scale,
                    f64::from(area.size.height) / scale,
                )
            });
            let size = window_size(work);
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title("Värn")
                .inner_size(size.width, size.height)
                .min_inner_size(MIN_WIDTH, size.min_height)
                .data_directory(webview_dir)
                .on_page_load(|window, payload| {
                    let state = window.state::<AppState>();
                    if payload.event() == PageLoadEvent::Finished {
                        state.mark("page load finished");
                        state.page_loaded.store(true, Ordering::SeqCst);
                    } else {
                        state.mark("page load started");
                    }
                })
                .build()?;
            state.mark("window built");
            observer.set(Box::new(WindowObserver::new(app.handle().clone())));
            // The global shortcut and the tray come once the shell is painted (they would
            // delay its first paint), and after at most 3 s whatever the window does.
            let handle = app.handle().clone();
            std::thread::spawn(move || {
                std::thread::sleep(EXTRAS_AT_THE_LATEST);
                start_desktop_extras(&handle);
            });
            if state.smoke {
                watch_smoke(app.handle().clone());
            }
            Ok(())
        })
}

/// The latest the global shortcut and the tray are set up after start.
const EXTRAS_AT_THE_LATEST: Duration = Duration::from_secs(3);

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

/// The narrowest the window gets: every view is usable from here.
pub const MIN_WIDTH: f64 = 340.0;

/// The window's first size and its least height, in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSize {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The least height it may be made.
    pub min_height: f64,
}

/// The size the window opens at: phone-shaped (420 × 860), but never more than 90 % of the
/// work area of the screen (`work`: its logical width and height, when known).
pub fn window_size(work: Option<(f64, f64)>) -> WindowSize {
    const WIDTH: f64 = 420.0;
    const HEIGHT: f64 = 860.0;
    const MIN_HEIGHT: f64 = 560.0;
    let Some((w, h)) = work.filter(|(w, h)| *w > 0.0 && *h > 0.0) else {
        return WindowSize {
            width: WIDTH,
            height: HEIGHT,
            min_height: MIN_HEIGHT,
        };
    };
    let height = HEIGHT.min((h * 0.9).floor());
    WindowSize {
        width: WIDTH.min((w * 0.9).floor()).max(MIN_WIDTH.min(w)),
        height,
        min_height: MIN_HEIGHT.min(height),
    }
}

/// The commands the window may call, behind the lock: while the lock screen is up every
/// command not marked `locked` in `commands/table.rs` is refused here, before it runs — guarded by
/// default, so a command added later is locked unless someone decides otherwise.
pub fn invoke_handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    // The bound gives the generated closure its argument's type.
    fn typed<R: Runtime, F: Fn(tauri::ipc::Invoke<R>) -> bool>(f: F) -> F {
        f
    }
    use commands::table::{command_table, handlers};
    let handler = typed::<R, _>(command_table!(handlers));
    move |invoke| {
        let refused = {
            let webview = invoke.message.webview();
            let state = webview.state::<AppState>();
            commands::refused_while_locked(&state, invoke.message.command())
        };
        match refused {
            Some(e) => {
                invoke.resolver.reject(e);
                true
            }
            None => handler(invoke),
        }
    }
}

/// Under `--smoke`, fails the run if the UI has not reported ready in time, saying why.
fn watch_smoke<R: Runtime>(app: tauri::AppHandle<R>) {
    std::thread::spawn(move || {
        std::thread::sleep(SMOKE_TIMEOUT);
        let state = app.state::<AppState>();
        if state.ui_ready.load(Ordering::SeqCst) {
            return;
        }
        let why = if state.page_loaded.load(Ordering::SeqCst) {
            "sidan laddades men gränssnittet rapporterade aldrig att första vyn visades \
             (JavaScript-fel?) / the page loaded but the UI never reported its first view"
        } else {
            "sidan laddades aldrig i webbvyn / the page never loaded in the webview"
        };
        eprintln!(
            "varn --smoke: inte klar efter {} s: {why}",
            SMOKE_TIMEOUT.as_secs()
        );
        app.exit(1);
        // If the event loop is stuck, exit anyway.
        std::thread::sleep(Duration::from_secs(3));
        std::process::exit(1);
    });
}

#[cfg(test)]
mod window_tests {
    use super::*;

    /// A 1366×768 laptop (a 40 px panel): the window fits, at most 90 % of the work area.
    #[test]
    fn the_window_fits_the_screen_it_opens_on() {
        let laptop = window_size(Some((1366.0, 728.0)));
        assert_eq!((laptop.width, laptop.height), (420.0, 655.0));
        assert!(laptop.height <= 728.0 * 0.9);
        assert_eq!(laptop.min_height, 560.0);
        let big = window_size(Some((2560.0, 1400.0)));
        assert_eq!((big.width, big.height), (420.0, 860.0));
        let tiny = window_size(Some((360.0, 500.0)));
        assert_eq!(
            (tiny.width, tiny.height, tiny.min_height),
            (340.0, 450.0, 450.0)
        );
        assert_eq!(window_size(None).height, 860.0);
    }
}
