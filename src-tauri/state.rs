//! The state every command shares, managed by Tauri.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::RwLock;
use std::time::Instant;

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
}

impl AppState {
    /// The language in use.
    pub fn lang(&self) -> Lang {
        *self.lang.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the profile in use.
    pub fn with_profile<T>(&self, f: impl FnOnce(&ActiveProfile) -> T) -> T {
        f(&self.profile.read().unwrap_or_else(|p| p.into_inner()))
    }
}
