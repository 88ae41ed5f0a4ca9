//! The state every command shares, managed by Tauri.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use crate::alarm::{AlarmService, Connection};
use crate::commands::safety::LinkStatus;
use crate::dialer::Dialer;
use crate::i18n::{Lang, Strings};
use crate::profiles::ActiveProfile;
use crate::secrets::SecretStore;
use crate::storage::{Db, StorageError};

/// How long a typed "where I am now" is sent with alarms.
pub const PLACE_FRESH_HOURS: i64 = 12;

/// Everything the commands need.
pub struct AppState {
    /// The app's database.
    pub db: Arc<Db>,
    /// The data directory in use.
    pub data_dir: PathBuf,
    /// The region profile in use.
    pub profile: RwLock<ActiveProfile>,
    /// The UI strings.
    pub strings: Strings,
    /// The chosen UI language.
    pub lang: RwLock<Lang>,
    /// The keychain.
    pub secrets: Arc<dyn SecretStore>,
    /// The keychain entry of this data directory's device token.
    pub token_key: String,
    /// The panic path.
    pub alarms: Arc<AlarmService>,
    /// The system's dialer.
    pub dialer: Arc<dyn Dialer>,
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

    /// The dialer.
    pub fn dialer(&self) -> &dyn Dialer {
        self.dialer.as_ref()
    }

    /// The link and the connection state.
    pub fn link_status(&self) -> Result<LinkStatus, StorageError> {
        let link = crate::region::load_link(&self.db)?;
        let connection = if link.is_none() {
            Connection::NotEnrolled
        } else {
            self.alarms.connection()
        };
        Ok(LinkStatus { link, connection })
    }

    /// The meeting and place an alarm carries now: a place the person typed in the last
    /// [`PLACE_FRESH_HOURS`] hours, else the appearance happening now (within 12 hours).
    pub fn alarm_context(&self) -> Result<(String, String), StorageError> {
        let now = chrono::Local::now().naive_local();
        let inventories = self.db.list_inventories()?;
        let current = varn_core::risk::current_appearance(
            inventories.iter().map(|s| &s.inventory),
            now,
            chrono::Duration::hours(12),
        );
        let meeting = current.map(|i| i.what.clone()).unwrap_or_default();
        let typed = self.db.setting("current_place")?.filter(|p| !p.is_empty());
        let typed_at = self
            .db
            .setting("current_place_at")?
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok());
        let fresh = typed_at.is_some_and(|t| {
            chrono::Utc::now() - t.with_timezone(&chrono::Utc)
                < chrono::Duration::hours(PLACE_FRESH_HOURS)
        });
        let place = match typed {
            Some(p) if fresh => p,
            _ => current.map(|i| i.place.clone()).unwrap_or_default(),
        };
        Ok((meeting, place))
    }
}
