//! The one driver loop for everything sent to the region step by step (an alarm, a check-in):
//! at most one driver task per id, each turn reading the item from the local database, doing
//! its next step against the server, and on a failure waiting by the one backoff rule. What
//! differs between an alarm and a check-in (its steps, what an answer changes, how it shows a
//! block) is the [`Driven`] implementation; the loop, the connection state it reports, the
//! refused token and the retries are written once here.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use uuid::Uuid;
use varn_core::alarm::{Backoff, Blocked};

use crate::link::client::{ClientError, RegionClient};
use crate::link::{Connection, LinkService};
use crate::storage::StorageError;

/// How long a driver waits after its database could not be read.
const AFTER_STORAGE_ERROR: Duration = Duration::from_secs(1);
/// How long a driver waits to look again while there is no client (not linked, no keychain).
const WITHOUT_CLIENT: Duration = Duration::from_secs(5);
/// How long a driver waits after the server refused the device's token: only a new link
/// helps, but it looks again now and then anyway.
const AFTER_REFUSED_TOKEN: Duration = Duration::from_secs(30);

/// The ids with a driver running.
#[derive(Default)]
struct Drivers(Arc<Mutex<HashSet<Uuid>>>);

impl Drivers {
    /// Spawns the task `start` makes for `id` on `runtime`, unless one for `id` runs.
    fn ensure<F>(&self, runtime: &tokio::runtime::Handle, id: Uuid, start: impl FnOnce() -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if !self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(id) {
            return;
        }
        let running = self.0.clone();
        let task = start();
        runtime.spawn(async move {
            task.await;
            running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
        });
    }
}

/// What a service that drives items keeps besides its database: the drivers running, a poke
/// that wakes them all, and the phase each item last told the window (so that it is told of
/// a change once).
pub struct Runners<P> {
    runtime: tokio::runtime::Handle,
    poke: watch::Sender<u64>,
    driving: Drivers,
    phases: Mutex<HashMap<Uuid, P>>,
}

impl<P: Copy + PartialEq> Runners<P> {
    /// Runners on `runtime`.
    pub fn new(runtime: tokio::runtime::Handle) -> Runners<P> {
        Runners {
            runtime,
            poke: watch::channel(0).0,
            driving: Drivers::default(),
            phases: Mutex::new(HashMap::new()),
        }
    }

    /// The runtime the drivers run on.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Wakes every driver from its wait: look again now (a cancel, a message, a new link).
    pub fn poke(&self) {
        self.poke.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Records `phase` as item `id`'s; whether it differs from the one before.
    pub fn phase_changed(&self, id: Uuid, phase: P) -> bool {
        self.phases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, phase)
            != Some(phase)
    }

    /// Drives item `id` with `d` (see [`drive`]), unless a driver for it runs.
    pub fn ensure<D: Driven>(&self, d: Arc<D>, id: Uuid, backoff: Backoff) {
        let poke = self.poke.subscribe();
        self.driving
            .ensure(&self.runtime, id, move || drive(d, id, poke, backoff));
    }
}

pub use crate::link::pause;

/// What one step against the server came to.
pub enum Turn<R> {
    /// The server answered.
    Answer(R),
    /// Look again at once (poked while waiting, or a part refused for good and set aside).
    Again,
    /// The request failed.
    Failed(ClientError),
}

/// Something a driver sends to the region step by step.
pub trait Driven: Send + Sync + 'static {
    /// The item as the local database holds it.
    type Item: Send;
    /// One step against the server.
    type Step: Copy + Debug + Send;
    /// The server's answer to a step.
    type Receipt: Send;
    /// What it is called in the log.
    const WHAT: &'static str;

    /// The link to the region.
    fn link(&self) -> &LinkService;
    /// The item, or `None` when it is gone.
    fn load(&self, id: Uuid) -> Result<Option<Self::Item>, StorageError>;
    /// Tells the window where it stands, if that changed.
    fn publish(&self, item: &Self::Item);
    /// The next step, or `None` when nothing is left to do.
    fn step(&self, item: &Self::Item) -> Option<Self::Step>;
    /// How long to wait before `step` is due (a check-in waits for its deadline); `None` when
    /// it is due now.
    fn not_yet(&self, _step: Self::Step) -> Option<Duration> {
        None
    }
    /// There is no client: the item shows why, if it has a way to.
    fn blocked(&self, _item: &mut Self::Item, _why: Blocked) {}
    /// The server refused the device's token: the item shows it, if it has a way to.
    fn refused(&self, _item: &mut Self::Item) {}
    /// Does `step`.
    fn turn(
        &self,
        item: &mut Self::Item,
        step: Self::Step,
        client: &RegionClient,
        poke: &mut watch::Receiver<u64>,
    ) -> impl Future<Output = Turn<Self::Receipt>> + Send;
    /// Takes the server's answer; returns how long to wait before the next look, if at all.
    fn answered(
        &self,
        item: &mut Self::Item,
        step: Self::Step,
        receipt: Self::Receipt,
    ) -> Option<Duration>;
}

/// Drives item `id` until nothing is left to do or it is gone; `poke` cuts every wait short.
pub async fn drive<D: Driven>(
    d: Arc<D>,
    id: Uuid,
    mut poke: watch::Receiver<u64>,
    mut backoff: Backoff,
) {
    loop {
        poke.borrow_and_update();
        let mut item = match d.load(id) {
            Ok(Some(item)) => item,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(%id, "reading the {} failed: {e}", D::WHAT);
                pause(&mut poke, AFTER_STORAGE_ERROR).await;
                continue;
            }
        };
        d.publish(&item);
        let Some(step) = d.step(&item) else {
            return;
        };
        if let Some(wait) = d.not_yet(step) {
            pause(&mut poke, wait).await;
            continue;
        }
        let client = match d.link().client() {
            Ok(c) => c,
            Err(why) => {
                d.blocked(&mut item, why);
                if why == Blocked::NotEnrolled {
                    d.link().set_connection(Connection::NotEnrolled);
                }
                pause(&mut poke, WITHOUT_CLIENT).await;
                continue;
            }
        };
        match d.turn(&mut item, step, &client, &mut poke).await {
            Turn::Again => {}
            Turn::Answer(receipt) => {
                tracing::debug!(%id, "the server answered {step:?}");
                backoff.reset();
                d.link().set_connection(Connection::Online);
                if let Some(wait) = d.answered(&mut item, step, receipt) {
                    pause(&mut poke, wait).await;
                }
            }
            Turn::Failed(e) if e.is_auth() => {
                tracing::warn!(%id, "the server refused the device token");
                d.refused(&mut item);
                if e.is_refusal() {
                    // Revoked or unknown: the link goes quiet until it is linked again.
                    d.link().token_refused();
                } else {
                    d.link().set_connection(Connection::Offline);
                }
                pause(&mut poke, AFTER_REFUSED_TOKEN).await;
            }
            Turn::Failed(e) => {
                if e.is_retryable() {
                    d.link().set_connection(Connection::Offline);
                    // What the screen shows changes at once with a link known to be down.
                    d.publish(&item);
                } else {
                    // Should not happen for a valid item; never give up on it silently.
                    tracing::error!(%id, "the server refused the {}: {e}", D::WHAT);
                }
                let delay = backoff.next_delay(rand::rng().random());
                tracing::info!(%id, "sending the {} failed, next try in {delay:?}: {e}", D::WHAT);
                pause(&mut poke, delay).await;
            }
        }
    }
}
