//! The link to the region server, owned once: the client for the linked servers (kept until
//! the link or the keychain changes), the connection state the top bar shows and the others
//! watch, the health loop that keeps it fresh, and the count of urgent requests (an alarm, a
//! cancel, the person's words) on the way, which sync waits for. Alarms, check-ins and sync
//! are peers that use it; none of them owns it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use varn_core::alarm::Blocked;

use crate::drivers::pause;
use crate::events::{Event, Observer};
use crate::region::{self, RegionClient};
use crate::secrets::SecretStore;
use crate::storage::Db;

/// How often the connection to the server is checked when nothing else is talking to it.
pub const HEALTH_EVERY: Duration = Duration::from_secs(15);

/// The connection to the region server, as the top bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// The server answers.
    Online,
    /// The server does not answer; everything is kept locally.
    Offline,
    /// The app has no link to a region server.
    NotEnrolled,
}

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
        })
    }

    /// Starts keeping the connection state fresh on `runtime`.
    pub fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        let me = self.clone();
        runtime.spawn(async move { me.health().await });
    }

    /// The client for the linked server, or why there is none.
    pub fn client(&self) -> Result<RegionClient, Blocked> {
        if let Some(c) = self
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(c);
        }
        // Not under the lock: the keychain may take a while to answer.
        let client = region::client_for(&self.db, self.secrets.as_ref(), &self.token_key)?;
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
        Ok(client)
    }

    /// The link or the keychain changed: forget the client and tell whoever waits.
    pub fn relinked(&self) {
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.relinked.send_modify(|n| *n = n.wrapping_add(1));
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
            self.observer.event(Event::Connection(state));
        }
    }

    /// Someone just heard from the server: the top bar follows at once instead of at the next
    /// health check.
    pub fn server_answered(&self) {
        if self.connection() != Connection::Online
            && region::load_link(&self.db).ok().flatten().is_some()
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
        let link = region::load_link(&self.db).ok().flatten()?;
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

    /// Keeps the connection state fresh while nothing else talks to the server.
    async fn health(self: Arc<Self>) {
        let mut relinked = self.watch_relinked();
        loop {
            relinked.borrow_and_update();
            match self.client() {
                Err(Blocked::NotEnrolled) => self.set_connection(Connection::NotEnrolled),
                Err(_) => self.set_connection(Connection::Offline),
                Ok(client) => match client.me().await {
                    Ok(_) => self.set_connection(Connection::Online),
                    Err(e) => {
                        tracing::debug!("health check: {e}");
                        self.set_connection(Connection::Offline);
                    }
                },
            }
            pause(&mut relinked, HEALTH_EVERY).await;
        }
    }
}
