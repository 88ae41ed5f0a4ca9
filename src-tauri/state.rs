//! The state every command shares, managed by Tauri. The database (and what needs it) exists
//! only once a key has opened it; until then the app is *locked*: the plan and 112 still work.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Instant, SystemTime};

use crate::events::ObserverSlot;
use crate::i18n::{Lang, Strings};
use crate::link::LinkStatus;
use crate::link::{Connection, LinkService};
use crate::os::dialer::Dialer;
use crate::os::secrets::SecretStore;
use crate::profiles::ActiveProfile;
use crate::runners::alarm::AlarmService;
use crate::runners::sync::SyncService;
use crate::storage::{Db, StorageError};
use crate::vault;

/// A call script's line as the window shows it: filled in, and whether it is Värn's own
/// help rather than the plan's words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptLineView {
    /// The line.
    pub text: String,
    /// Värn's own help, shown as such.
    pub own: bool,
}

/// What exists once the database is open.
pub struct Unlocked {
    /// The app's database.
    pub db: Arc<Db>,
    /// The link to the region server: its client and the connection state.
    pub link: Arc<LinkService>,
    /// The panic path.
    pub alarms: Arc<AlarmService>,
    /// Reports to the region.
    pub sync: Arc<SyncService>,
    /// The check-in timer (the region's dead man's switch).
    pub checkins: Arc<crate::runners::checkin::CheckinService>,
}

/// Why the database is not open yet, for the unlock screen.
#[derive(Default)]
pub struct LockState {
    /// No database yet: the person chooses a passphrase.
    pub first_time: bool,
    /// Why a passphrase is asked for (e.g. no keychain), or why nothing can be done now.
    pub reason: String,
    /// A passphrase cannot help (the keychain holds the key but is unreachable).
    pub fatal: bool,
    /// Delays after wrong passphrases.
    pub attempts: crate::vault::Attempts,
}

/// Everything the commands need.
pub struct AppState {
    vault: OnceLock<Unlocked>,
    /// The unlock screen's state while locked.
    pub lock: Mutex<LockState>,
    /// Where the panic path reports changes (connected to the window at setup).
    pub observer: Arc<ObserverSlot>,
    /// The async runtime the panic path runs on.
    pub runtime: tokio::runtime::Handle,
    /// The data directory in use.
    pub data_dir: PathBuf,
    /// The region profile in use (sync replaces it with a newer one from the server).
    pub profile: Arc<RwLock<ActiveProfile>>,
    /// The UI strings.
    pub strings: Strings,
    /// The chosen UI language.
    pub lang: RwLock<Lang>,
    /// The keychain.
    pub secrets: Arc<dyn SecretStore>,
    /// The keychain entry of this data directory's device token.
    pub token_key: String,
    /// The system's dialer.
    pub dialer: Arc<dyn Dialer>,
    /// `--smoke`: exit once the UI has rendered.
    pub smoke: bool,
    /// When the process started, for `ready in N ms`.
    pub started: Instant,
    /// Set when the UI reports its first view rendered.
    pub ui_ready: AtomicBool,
    /// Set when the UI reports index.html's shell (112, LARM) painted.
    pub shell_ready: AtomicBool,
    /// The global shortcut and the tray have been set up (or are being).
    pub extras_started: AtomicBool,
    /// Set when the webview finished loading the page.
    pub page_loaded: AtomicBool,
    /// Start-up marks, kept when `VARN_STARTUP_TRACE=1` (printed under `--smoke`).
    pub trace: Option<Mutex<Vec<(String, f64)>>>,
    /// Wall-clock time of the start, to place the UI's own marks on the same line.
    pub started_wall: SystemTime,
    /// The lock screen is up (a PIN is set and the app started, idled or was hidden with
    /// "Dölj"): every command but those on [`crate::commands::WHILE_LOCKED`] is refused until
    /// the PIN is entered; the alarm and 112 still work.
    pub screen_locked: AtomicBool,
}

/// What the state is built from.
pub struct Parts {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The profile to show while locked (the embedded one).
    pub profile: ActiveProfile,
    /// The keychain.
    pub secrets: Arc<dyn SecretStore>,
    /// The dialer.
    pub dialer: Arc<dyn Dialer>,
    /// The window's observer slot.
    pub observer: Arc<ObserverSlot>,
    /// The runtime for the panic path.
    pub runtime: tokio::runtime::Handle,
    /// `--smoke`.
    pub smoke: bool,
    /// Process start.
    pub started: Instant,
}

impl AppState {
    /// Opens the database with the keychain's key if it can; otherwise records why it is locked.
    pub fn try_unlock(&self) {
        let state = self;
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

    /// Builds the state, locked; [`AppState::unlock_with`] opens it.
    pub fn new(p: Parts) -> AppState {
        AppState {
            vault: OnceLock::new(),
            lock: Mutex::new(LockState::default()),
            observer: p.observer,
            runtime: p.runtime,
            token_key: crate::os::secrets::device_token_key(&p.data_dir),
            data_dir: p.data_dir,
            profile: Arc::new(RwLock::new(p.profile)),
            strings: Strings::embedded(),
            lang: RwLock::new(Lang::default()),
            secrets: p.secrets,
            dialer: p.dialer,
            smoke: p.smoke,
            started: p.started,
            ui_ready: Default::default(),
            shell_ready: Default::default(),
            extras_started: Default::default(),
            page_loaded: Default::default(),
            trace: (std::env::var("VARN_STARTUP_TRACE").as_deref() == Ok("1"))
                .then(|| Mutex::new(Vec::new())),
            screen_locked: AtomicBool::new(false),
            started_wall: SystemTime::now()
                .checked_sub(p.started.elapsed())
                .unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }

    /// The database, or [`StorageError::Locked`].
    pub fn db(&self) -> Result<&Arc<Db>, StorageError> {
        self.vault.get().map(|u| &u.db).ok_or(StorageError::Locked)
    }

    /// [`StorageError::ScreenLocked`] while the lock screen is up. The invoke handler
    /// refuses every command not on [`crate::commands::WHILE_LOCKED`] with it; a command on
    /// that list that still guards part of what it does (the person's own contacts in
    /// `call`) asks here.
    pub fn screen_open(&self) -> Result<(), StorageError> {
        if self.screen_is_locked() {
            return Err(StorageError::ScreenLocked);
        }
        Ok(())
    }

    /// Whether the lock screen is up.
    pub fn screen_is_locked(&self) -> bool {
        self.screen_locked.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The duress PIN was entered: a silent duress alarm (see
    /// [`AlarmService::silent_duress`]) with the meeting and place an alarm would carry now.
    pub fn duress(&self) -> Result<(), crate::runners::alarm::AlarmError> {
        let (meeting, place) = self.alarm_context().unwrap_or_default();
        self.alarms()?.silent_duress(meeting, place)
    }

    /// The panic path, or [`StorageError::Locked`].
    pub fn alarms(&self) -> Result<&Arc<AlarmService>, StorageError> {
        self.vault
            .get()
            .map(|u| &u.alarms)
            .ok_or(StorageError::Locked)
    }

    /// The link to the region server, or [`StorageError::Locked`].
    pub fn link(&self) -> Result<&Arc<LinkService>, StorageError> {
        self.vault
            .get()
            .map(|u| &u.link)
            .ok_or(StorageError::Locked)
    }

    /// The check-in timer, or [`StorageError::Locked`].
    pub fn checkins(&self) -> Result<&Arc<crate::runners::checkin::CheckinService>, StorageError> {
        self.vault
            .get()
            .map(|u| &u.checkins)
            .ok_or(StorageError::Locked)
    }

    /// Sync, or [`StorageError::Locked`].
    pub fn sync(&self) -> Result<&Arc<SyncService>, StorageError> {
        self.vault
            .get()
            .map(|u| &u.sync)
            .ok_or(StorageError::Locked)
    }

    /// Whether the database is still locked.
    pub fn is_locked(&self) -> bool {
        self.vault.get().is_none()
    }

    /// Takes the opened database: reads the profile and language from it and starts the
    /// panic path (resuming unfinished alarms).
    pub fn unlock_with(&self, db: Db) -> Result<(), StorageError> {
        if self.vault.get().is_some() {
            return Ok(());
        }
        let db = Arc::new(db);
        if let Ok(embedded) = varn_core::profile::Profile::embedded_default() {
            let active = crate::profiles::load(&db, &self.data_dir, embedded);
            *self.profile.write().unwrap_or_else(|p| p.into_inner()) = active;
        }
        // A report opened and left without a word (the app closed on it) is not kept.
        if let Err(e) = db.discard_untouched_drafts(None) {
            tracing::warn!("untouched drafts were not removed: {e}");
        }
        if let Some(lang) = db.setting("lang")?.and_then(|l| Lang::parse(&l)) {
            *self.lang.write().unwrap_or_else(|p| p.into_inner()) = lang;
        }
        // With a PIN set, the app starts behind the lock screen: a restart never opens it.
        if crate::pin::status(&db)?.pin_set {
            self.screen_locked
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let link = LinkService::new(
            db.clone(),
            self.secrets.clone(),
            self.token_key.clone(),
            self.observer.clone(),
        );
        let alarms = AlarmService::new(
            db.clone(),
            link.clone(),
            self.observer.clone(),
            self.runtime.clone(),
        );
        let sync = SyncService::new(
            db.clone(),
            link.clone(),
            self.observer.clone(),
            Some(self.profile.clone()),
            crate::runners::sync::config_from_env(),
        );
        let checkins = crate::runners::checkin::CheckinService::new(
            db.clone(),
            link.clone(),
            self.observer.clone(),
            self.runtime.clone(),
        );
        if self
            .vault
            .set(Unlocked {
                db,
                link: link.clone(),
                alarms: alarms.clone(),
                sync: sync.clone(),
                checkins: checkins.clone(),
            })
            .is_ok()
        {
            link.start(&self.runtime);
            alarms.start()?;
            checkins.start()?;
            sync.start(&self.runtime);
            let observer = self.observer.clone();
            self.runtime.spawn(crate::runners::reminders::run(
                self.db()?.clone(),
                self.profile.clone(),
                move |appearance, why| {
                    crate::events::Observer::event(
                        observer.as_ref(),
                        crate::events::Event::Reminder { appearance, why },
                    )
                },
            ));
        }
        Ok(())
    }

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

    /// The link and the connection state (not linked while locked).
    pub fn link_status(&self) -> Result<LinkStatus, StorageError> {
        let (Ok(db), Ok(service)) = (self.db(), self.link()) else {
            return Ok(LinkStatus {
                link: None,
                connection: Connection::NotEnrolled,
                region_told: None,
                profile_key: None,
            });
        };
        // After an unlink with the duress PIN the window sees what a real unlink leaves.
        let link = crate::link::client::load_link(db)?.filter(|_| !service.is_concealed());
        let connection = if link.is_none() {
            Connection::NotEnrolled
        } else {
            service.connection()
        };
        Ok(LinkStatus {
            link,
            connection,
            region_told: None,
            profile_key: crate::profiles::key_status(db)?,
        })
    }

    /// The last drill that went the whole way, and whether the region's interval has passed.
    pub fn drill_status(&self) -> Result<varn_core::alarm::DrillStatus, StorageError> {
        let interval_days = self.profile_rules().drill_interval_days;
        let last = self.db()?.last_good_drill()?;
        Ok(varn_core::alarm::DrillStatus::new(
            last.as_ref(),
            interval_days,
            chrono::Utc::now(),
        ))
    }

    /// How well Värn can protect the person now ([`varn_core::alarm::Protection::of`]).
    pub fn protection(&self) -> Result<varn_core::alarm::Protection, StorageError> {
        let status = self.link_status()?;
        use varn_core::alarm::Link;
        let link = match (&status.link, status.connection) {
            (None, _) => Link::None,
            (Some(_), Connection::Refused) => Link::Refused,
            (Some(_), c) => Link::Linked {
                answering: c == Connection::Online,
            },
        };
        Ok(varn_core::alarm::Protection::of(
            link,
            &self.drill_status()?,
        ))
    }

    /// The region's alarm and drill rules from the profile in use.
    pub fn profile_rules(&self) -> varn_core::profile::AlarmRules {
        self.profile
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .profile
            .alarm
            .clone()
    }

    /// A call script in the UI's language with the person's name, the region, and the
    /// meeting and place now filled in (a typed place only while it is fresh enough to read
    /// out, [`varn_core::place::FOR_SCRIPT`]). Works while the database is locked too (then
    /// with what is known: the region).
    pub fn call_script(&self, lines: &[varn_core::profile::ScriptLine]) -> Vec<ScriptLineView> {
        let (meeting, place) = self.where_now().unwrap_or_default();
        let name = self
            .db()
            .ok()
            .and_then(|db| crate::link::client::load_link(db).ok().flatten())
            .map(|l| l.name)
            .unwrap_or_default();
        let region = self.with_profile(|a| a.profile.region.name.clone());
        let lang = self.lang();
        let fill = varn_core::profile::ScriptFill {
            name: &name,
            region: &region,
            meeting: &meeting,
            place: &place,
        };
        lines
            .iter()
            .map(|l| ScriptLineView {
                text: varn_core::profile::fill_script(
                    match lang {
                        Lang::Sv => &l.sv,
                        Lang::En => &l.en,
                    },
                    &fill,
                ),
                own: l.own,
            })
            .collect()
    }

    /// The meeting and place an alarm carries now: a place the person typed in the last
    /// [`varn_core::place::FOR_ALARM`], else the appearance happening now (within 12 hours).
    pub fn alarm_context(&self) -> Result<(String, String), StorageError> {
        self.context(varn_core::place::FOR_ALARM)
    }

    /// Where the person is now, as a call script reads it out: a place typed less than
    /// [`varn_core::place::FOR_SCRIPT`] ago, else the appearance under way (from its start to
    /// its end), else nothing. Never the appearance of tonight or tomorrow.
    fn where_now(&self) -> Result<(String, String), StorageError> {
        let now = chrono::Local::now().naive_local();
        let db = self.db()?;
        let appearances =
            db.appearances(&now.format(varn_core::incident::LOCAL_TIME).to_string())?;
        let current = varn_core::appearance::under_way(&appearances, now);
        let (typed, typed_at) = typed_place(db)?;
        let place = varn_core::place::current(
            typed.as_deref().zip(typed_at),
            current.map(|a| a.place.as_str()),
            chrono::Utc::now(),
            varn_core::place::FOR_SCRIPT,
        );
        Ok((current.map(|a| a.title.clone()).unwrap_or_default(), place))
    }

    /// The meeting happening now and the place now, with a typed place taken while younger
    /// than `fresh_for`.
    fn context(&self, fresh_for: chrono::Duration) -> Result<(String, String), StorageError> {
        let now = chrono::Local::now().naive_local();
        let db = self.db()?;
        let inventories = db.list_inventories()?;
        let current = varn_core::risk::current_appearance(
            inventories.iter().map(|s| &s.inventory),
            now,
            chrono::Duration::hours(12),
        );
        let meeting = current.map(|i| i.what.clone()).unwrap_or_default();
        let (typed, typed_at) = typed_place(db)?;
        let place = varn_core::place::current(
            typed.as_deref().zip(typed_at),
            current.map(|i| i.place.as_str()),
            chrono::Utc::now(),
            fresh_for,
        );
        Ok((meeting, place))
    }
}

/// The place the person typed under *Var är du nu?*, with when they typed it.
fn typed_place(
    db: &crate::storage::Db,
) -> Result<(Option<String>, Option<chrono::DateTime<chrono::Utc>>), StorageError> {
    let at = db
        .setting("current_place_at")?
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    Ok((db.setting("current_place")?, at))
}
