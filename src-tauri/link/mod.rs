//! The link to the region server, owned once: the client for the linked servers (kept until
//! the link or the keychain changes), the connection state the top bar shows and the others
//! watch, the health loop that keeps it fresh, and the count of urgent requests (an alarm, a
//! cancel, the person's words) on the way, which sync waits for. Alarms, check-ins and sync
//! are peers that use it; none of them owns it.
//!
//! When the region refuses the device's token (it was revoked, or unlinked elsewhere), the
//! link goes quiet: no client is handed out, so health checks, sync and alarms stop sending,
//! the top bar says the app is no longer linked, and only a check an hour (and linking again)
//! can bring it back. A revoked laptop left running sends no stream of refused requests.

pub mod client;
pub mod enroll;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use varn_core::alarm::Blocked;

use self::client::RegionClient;
use crate::events::{Event, Observer};
use crate::os::secrets::SecretStore;
use crate::storage::Db;

/// How often the connection to the server is checked when nothing else is talking to it.
pub const HEALTH_EVERY: Duration = Duration::from_secs(15);
/// Set while the app shows itself unlinked after an unlink with the duress PIN (the link
/// itself stays, so the silent alarm and any later one still reach the region).
const CONCEALED_KEY: &str = "link.concealed";

/// How often a link the region refused is checked again (the region may have made a
/// mistake it has since undone).
pub const REFUSED_RECHECK_EVERY: Duration = Duration::from_secs(3600);

pub use crate::events::Connection;

/// The link: see the module.
pub struct LinkService {
    db: Arc<Db>,
    secrets: Arc<dyn SecretStore>,
    token_key: String,
    observer: Arc<dyn Observer>,
    client: Mutex<Option<RegionClient>>,
    connection: Mutex<Option<Connection>>,
    /// The connection state for others to watch (sync starts when it turns online).
    connection_watch: watch::Sender<Connection>,
    /// Bumped when the link changes, so that whoever waits on the server looks again.
    relinked: watch::Sender<u64>,
    /// Urgent requests on the way right now; sync waits while there are any.
    urgent: AtomicUsize,
    /// The region refused the device's token: nothing is sent until it is linked again (or
    /// the hourly check finds it accepted).
    refused: AtomicBool,
    /// Shown as not linked ([`LinkService::conceal`]).
    concealed: AtomicBool,
    /// How often the health loop checks (ms): [`HEALTH_EVERY`], shorter in tests.
    health_every_ms: std::sync::atomic::AtomicU64,
}

/// Counts an urgent request on the way for as long as it lives ([`LinkService::urgent`]).
pub struct Urgent<'a>(&'a AtomicUsize);

impl Drop for Urgent<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LinkService {
    /// The link of the app's database; [`LinkService::start`] runs its health loop.
    pub fn new(
        db: Arc<Db>,
        secrets: Arc<dyn SecretStore>,
        token_key: String,
        observer: Arc<dyn Observer>,
    ) -> Arc<LinkService> {
        let concealed = db.setting(CONCEALED_KEY).ok().flatten().is_some();
        Arc::new(LinkService {
            db,
            secrets,
            token_key,
            observer,
            client: Mutex::new(None),
            connection: Mutex::new(None),
            connection_watch: watch::channel(Connection::Offline).0,
            relinked: watch::channel(0).0,
            urgent: AtomicUsize::new(0),
            refused: AtomicBool::new(false),
            concealed: AtomicBool::new(concealed),
            health_every_ms: std::sync::atomic::AtomicU64::new(HEALTH_EVERY.as_millis() as u64),
        })
    }

    /// Checks the connection this often instead of [`HEALTH_EVERY`] (tests).
    pub fn set_health_every(&self, every: Duration) {
        self.health_every_ms
            .store(every.as_millis() as u64, Ordering::SeqCst);
    }

    /// Starts keeping the connection state fresh on `runtime`.
    pub fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        let me = self.clone();
        runtime.spawn(async move { me.health().await });
    }

    /// The client for the linked server, or why there is none.
    pub fn client(&self) -> Result<RegionClient, Blocked> {
        if self.is_refused() {
            return Err(Blocked::TokenRefused);
        }
        self.linked_client()
    }

    /// The client for the linked server, also while the region refuses it (for the check
    /// that may find it accepted again).
    fn linked_client(&self) -> Result<RegionClient, Blocked> {
        if let Some(c) = self
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(c);
        }
        // Not under the lock: the keychain may take a while to answer.
        let client = enroll::client_for(&self.db, self.secrets.as_ref(), &self.token_key)?;
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
        Ok(client)
    }

    /// The link or the keychain changed: forget the client and tell whoever waits. A link
    /// made or removed by the person ends a concealment.
    pub fn relinked(&self) {
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.refused.store(false, Ordering::SeqCst);
        if self.concealed.swap(false, Ordering::SeqCst) {
            if let Err(e) = self.db.delete_settings(&[CONCEALED_KEY]) {
                tracing::error!("ending the concealed link failed: {e}");
            }
        }
        self.relinked.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// After an unlink with the duress PIN: from now on the window is told the app is not
    /// linked, exactly as after a real unlink, while the link stays and keeps working (the
    /// silent alarm goes out on it). Ends when the person links again or unlinks for real.
    pub fn conceal(&self) -> Result<(), crate::storage::StorageError> {
        self.db.set_setting(CONCEALED_KEY, &crate::storage::now())?;
        self.concealed.store(true, Ordering::SeqCst);
        self.observer
            .event(Event::Connection(Connection::NotEnrolled));
        Ok(())
    }

    /// Whether the app shows itself unlinked after an unlink with the duress PIN.
    pub fn is_concealed(&self) -> bool {
        self.concealed.load(Ordering::SeqCst)
    }

    /// The region refused the device's token: go quiet until it is linked again.
    pub fn token_refused(&self) {
        if !self.refused.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                "the region refuses this device's token: nothing more is sent until it is linked again"
            );
        }
        self.set_connection(Connection::Refused);
    }

    /// Whether the region refuses the device's token.
    pub fn is_refused(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }

    /// Changes each time the link changes ([`LinkService::relinked`]).
    pub fn watch_relinked(&self) -> watch::Receiver<u64> {
        self.relinked.subscribe()
    }

    /// The connection state as last seen.
    pub fn connection(&self) -> Connection {
        self.connection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(Connection::Offline)
    }

    /// Whether the region is known not to answer: the last health check or request failed
    /// (not merely unknown, as before the first one).
    pub fn known_down(&self) -> bool {
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) == Some(Connection::Offline)
    }

    /// Watches the connection state.
    pub fn watch_connection(&self) -> watch::Receiver<Connection> {
        self.connection_watch.subscribe()
    }

    /// Records the connection state; the window hears of a change.
    pub fn set_connection(&self, state: Connection) {
        let mut current = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if *current != Some(state) {
            *current = Some(state);
            drop(current);
            self.connection_watch.send_replace(state);
            let shown = if self.is_concealed() {
                Connection::NotEnrolled
            } else {
                state
            };
            self.observer.event(Event::Connection(shown));
        }
    }

    /// Someone just heard from the server: the top bar follows at once instead of at the next
    /// health check.
    pub fn server_answered(&self) {
        if self.connection() != Connection::Online
            && !self.is_refused()
            && client::load_link(&self.db).ok().flatten().is_some()
        {
            self.set_connection(Connection::Online);
        }
    }

    /// The host of the region server in use (the instance that answered last).
    pub fn host(&self) -> Option<String> {
        if let Some(c) = self
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return c.current_server().host_str().map(str::to_string);
        }
        let link = client::load_link(&self.db).ok().flatten()?;
        reqwest::Url::parse(&link.server_url)
            .ok()?
            .host_str()
            .map(str::to_string)
    }

    /// Marks an urgent request on the way until the guard is dropped.
    pub fn urgent(&self) -> Urgent<'_> {
        self.urgent.fetch_add(1, Ordering::SeqCst);
        Urgent(&self.urgent)
    }

    /// Whether an urgent request is on the way right now (sync holds back meanwhile).
    pub fn is_sending(&self) -> bool {
        self.urgent.load(Ordering::SeqCst) > 0
    }

    /// Keeps the connection state fresh while nothing else talks to the server; once the
    /// region refuses the token, checks only once an hour.
    async fn health(self: Arc<Self>) {
        let mut relinked = self.watch_relinked();
        loop {
            relinked.borrow_and_update();
            match self.linked_client() {
                Err(Blocked::NotEnrolled) => self.set_connection(Connection::NotEnrolled),
                Err(_) => self.set_connection(Connection::Offline),
                Ok(client) => match client.me().await {
                    Ok(_) => {
                        if self.refused.swap(false, Ordering::SeqCst) {
                            tracing::info!("the region accepts this device again");
                        }
                        self.set_connection(Connection::Online);
                    }
                    Err(e) if e.is_refusal() => self.token_refused(),
                    Err(e) => {
                        tracing::debug!("health check: {e}");
                        if !self.is_refused() {
                            self.set_connection(Connection::Offline);
                        }
                    }
                },
            }
            let every = if self.is_refused() {
                REFUSED_RECHECK_EVERY
            } else {
                Duration::from_millis(self.health_every_ms.load(Ordering::SeqCst))
            };
            pause(&mut relinked, every).await;
        }
    }
}

/// The link to the region and the connection state.
#[derive(Serialize)]
pub struct LinkStatus {
    /// The link, if enrolled.
    pub link: Option<client::Link>,
    /// The connection as last seen.
    pub connection: Connection,
    /// After unlinking or relinking: whether the region server heard that this device left
    /// it (it then shows the device as unlinked); `None` otherwise.
    pub region_told: Option<bool>,
    /// Where the linked region's profile key stands (a key from linking waits for the person
    /// to compare its fingerprint with the region's letter).
    pub profile_key: Option<crate::profiles::KeyStatus>,
}

/// Sleeps up to `d`, waking early when poked (the link's health loop and every runner).
pub async fn pause(poke: &mut watch::Receiver<u64>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = poke.changed() => {}
    }
}
