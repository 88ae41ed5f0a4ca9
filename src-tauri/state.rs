//! The state every command shares, managed by Tauri.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, RwLock};
use std::time::{Instant, SystemTime};

use crate::i18n::{Lang, Strings};
use crate::profiles::ActiveProfile;
use crate::storage::Db;

/// Everything the commands need.
pub struct AppState {
    /// The app's database.
    pub db: Db,
    /// The data directory in use.
    pub data_dir: PathBuf,
    /// The region profile in use.
    pub profile: RwLock<ActiveProfile>,
    /// The UI strings.
    pub strings: Strings,
    /// The chosen UI language.
    pub lang: RwLock<Lang>,
    /// `--smoke`: exit once the UI has rendered.
    pub smoke: bool,
    /// When the process started, for `ready in N ms`.
    pub started: Instant,
    /// Set when the UI reports its first view rendered.
    pub ui_ready: AtomicBool,
    /// Set when the webview finished loading the page.
    pub page_loaded: AtomicBool,
    /// Start-up marks, kept when `VARN_STARTUP_TRACE=1` (printed under `--smoke`).
    pub trace: Option<Mutex<Vec<(String, f64)>>>,
    /// Wall-clock time of the start, to place the UI's own marks on the same line.
    pub started_wall: SystemTime,
}

impl AppState {
    /// The language in use.
    pub fn lang(&self) -> Lang {
        *self.lang.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a start-up mark (ms since the process started) when tracing is on.
    pub fn mark(&self, label: &str) {
        if let Some(trace) = &self.trace {
            let ms = self.started.elapsed().as_secs_f64() * 1000.0;
            trace
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((label.to_string(), ms));
        }
    }

    /// Records a mark the UI took at a wall-clock time (ms since the Unix epoch).
    pub fn mark_wall(&self, label: &str, epoch_ms: f64) {
        if let Some(trace) = &self.trace {
            let start = self
                .started_wall
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0);
            trace
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((format!("ui: {label}"), epoch_ms - start));
        }
    }

    /// Runs `f` with the profile in use.
    pub fn with_profile<T>(&self, f: impl FnOnce(&ActiveProfile) -> T) -> T {
        f(&self.profile.read().unwrap_or_else(|p| p.into_inner()))
    }
}
