//! Värn's desktop app: the Tauri shell around `varn-core`. It parses the command line, opens
//! the data directory and the database, chooses the region profile and opens the window.

#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod error;
pub mod events;
pub mod export;
pub mod i18n;
pub mod link;
pub mod os;
pub mod pin;
pub mod profiles;
pub mod runners;
pub mod state;
pub mod storage;
pub mod updates;
pub mod vault;
pub mod window;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tauri::webview::PageLoadEvent;
use tauri::{Builder, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_global_shortcut::ShortcutState;

use crate::events::ObserverSlot;
use crate::os::dialer::SystemDialer;
use crate::os::secrets::Keychain;
use crate::os::{datadir, rendering};
use crate::state::AppState;
use crate::window::bridge::WindowObserver;

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
    state.try_unlock();
    Ok((state, observer))
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
            window::desktop::show_window(app)
        }))
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|app, _shortcut, event| {
                    if event.state == ShortcutState::Pressed {
                        window::desktop::raise_from_outside(app);
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
                window::desktop::quit_requested(window.app_handle());
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
                std::thread::sleep(window::desktop::EXTRAS_AT_THE_LATEST);
                window::desktop::start_desktop_extras(&handle);
            });
            if state.smoke {
                watch_smoke(app.handle().clone());
            }
            Ok(())
        })
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
