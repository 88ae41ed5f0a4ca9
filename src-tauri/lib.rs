//! Värn's desktop app: the Tauri shell around `varn-core`. It parses the command line, opens
//! the data directory and the database, chooses the region profile and opens the window.

#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod datadir;
pub mod error;
pub mod i18n;
pub mod profiles;
pub mod state;
pub mod storage;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use tauri::webview::PageLoadEvent;
use tauri::{Builder, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use crate::i18n::{Lang, Strings};
use crate::state::AppState;
use crate::storage::Db;

/// How long `--smoke` waits for the UI before it gives up.
pub const SMOKE_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the app; returns the process exit code.
pub fn run() -> i32 {
    let started = Instant::now();
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
    state.mark("state opened");
    let app = match build(tauri::Builder::default(), state).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("varn: fönstret kunde inte startas / the window could not start: {e}");
            return 1;
        }
    };
    app.run_return(|_, _| {})
}

/// Prepares the data directory, opens the database and chooses the profile.
pub fn open_state(
    data_dir: Option<PathBuf>,
    smoke: bool,
    started: Instant,
) -> Result<AppState, String> {
    let dir = data_dir.or_else(datadir::default_dir).ok_or_else(|| {
        "ingen app-datamapp hittades; ange --data-dir / no app-data directory; pass --data-dir"
            .to_string()
    })?;
    let dir = datadir::prepare(&dir).map_err(|e| e.to_string())?;
    let db_path = dir.join("varn.db");
    let db = Db::open(&db_path).map_err(|e| {
        format!(
            "databasen kunde inte öppnas / the database could not be opened: {e}\n\
             Inget har ändrats i filen / nothing in the file was changed."
        )
    })?;
    let embedded = varn_core::profile::Profile::embedded_default()
        .map_err(|e| format!("den inbyggda regionprofilen är trasig / embedded profile: {e}"))?;
    let profile = profiles::load(&db, &dir, embedded);
    let lang = db
        .setting("lang")
        .ok()
        .flatten()
        .and_then(|l| Lang::parse(&l))
        .unwrap_or_default();
    Ok(AppState {
        db,
        data_dir: dir,
        profile: RwLock::new(profile),
        strings: Strings::embedded(),
        lang: RwLock::new(lang),
        smoke,
        started,
        ui_ready: Default::default(),
        page_loaded: Default::default(),
        trace: (std::env::var("VARN_STARTUP_TRACE").as_deref() == Ok("1"))
            .then(|| std::sync::Mutex::new(Vec::new())),
        started_wall: std::time::SystemTime::now()
            .checked_sub(started.elapsed())
            .unwrap_or(std::time::UNIX_EPOCH),
    })
}

/// Wires state, commands and the window onto a builder (the real one, or a mock in tests).
pub fn build<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::boot,
            commands::ui_ready,
            commands::set_language,
            commands::search_plan,
            commands::checklist_ticks,
            commands::checklist_tick,
            commands::checklist_reset,
            commands::inventories,
            commands::inventory,
            commands::save_inventory,
            commands::delete_inventory,
        ])
        .setup(|app| {
            let state = app.state::<AppState>();
            state.mark("setup");
            let webview_dir = state.data_dir.join("webview");
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title("Värn")
                .inner_size(420.0, 860.0)
                .min_inner_size(340.0, 560.0)
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
            if state.smoke {
                watch_smoke(app.handle().clone());
            }
            Ok(())
        })
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
