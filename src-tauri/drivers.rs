//! What the alarm and check-in runners share: at most one driver task per id, and a pause
//! that a poke cuts short.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

/// The ids with a driver running.
#[derive(Default)]
pub struct Drivers(Arc<Mutex<HashSet<Uuid>>>);

impl Drivers {
    /// Spawns the task `start` makes for `id` on `runtime`, unless one for `id` runs.
    pub fn ensure<F>(&self, runtime: &tokio::runtime::Handle, id: Uuid, start: impl FnOnce() -> F)
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

/// Sleeps up to `d`, waking early when poked.
pub async fn pause(poke: &mut watch::Receiver<u64>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = poke.changed() => {}
    }
}
