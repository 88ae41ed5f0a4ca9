//! Desktop notifications that follow the state. An alarm (or a check-in) has one
//! notification, replaced at every change and withdrawn when it ends, so an old "not
//! confirmed – call 112" never stays on the desktop after the region has the alarm. Other
//! notices are shown once. One worker thread talks to the notification daemon over D-Bus, in
//! the order things happened; nobody waits for it (a missing daemon is logged, not fatal).

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Critical urgency (stays until dismissed).
    pub urgent: bool,
}

enum Cmd {
    /// Shows `notice`, replacing the one under `key` if there is one.
    Show(Option<String>, Notice),
    /// Withdraws the one under the key.
    Withdraw(String),
}

/// The notifications of this app.
pub struct Notices {
    tx: Mutex<mpsc::Sender<Cmd>>,
}

/// The app's notices (the worker starts with the first).
pub fn notices() -> &'static Notices {
    static NOTICES: OnceLock<Notices> = OnceLock::new();
    NOTICES.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("notices".into())
            .spawn(move || run(rx))
            .expect("a thread for notifications");
        Notices { tx: Mutex::new(tx) }
    })
}

impl Notices {
    /// Shows a notice; with a `key` (e.g. `alarm:<id>`) it replaces the last one under that
    /// key.
    pub fn show(&self, key: Option<String>, notice: Notice) {
        self.send(Cmd::Show(key, notice));
    }

    /// Withdraws the notice under `key`, if it is still up.
    pub fn withdraw(&self, key: String) {
        self.send(Cmd::Withdraw(key));
    }

    fn send(&self, cmd: Cmd) {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        if tx.send(cmd).is_err() {
            tracing::warn!("the notification thread has ended");
        }
    }
}

fn apply(n: &mut notify_rust::Notification, notice: &Notice) {
    n.appname("Värn").summary(&notice.title).body(&notice.body);
    #[cfg(all(unix, not(target_os = "macos")))]
    n.urgency(if notice.urgent {
        notify_rust::Urgency::Critical
    } else {
        notify_rust::Urgency::Normal
    });
}

fn run(rx: mpsc::Receiver<Cmd>) {
    let mut shown: HashMap<String, notify_rust::NotificationHandle> = HashMap::new();
    for cmd in rx {
        match cmd {
            Cmd::Show(key, notice) => {
                if let Some(mut handle) = key.as_ref().and_then(|k| shown.remove(k)) {
                    apply(&mut handle, &notice);
                    match handle.update() {
                        Ok(()) => {
                            if let Some(k) = key {
                                shown.insert(k, handle);
                            }
                            continue;
                        }
                        Err(e) => tracing::warn!("replacing a notification failed: {e}"),
                    }
                }
                let mut n = notify_rust::Notification::new();
                apply(&mut n, &notice);
                match n.show() {
                    Ok(handle) => {
                        if let Some(k) = key {
                            shown.insert(k, handle);
                        }
                    }
                    Err(e) => tracing::warn!(
                        "desktop notification failed (is a notification daemon running?): {e}"
                    ),
                }
            }
            Cmd::Withdraw(key) => {
                if let Some(handle) = shown.remove(&key) {
                    handle.close();
                }
            }
        }
    }
}
