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
    /// Asks the notification daemon not to play a sound.
    pub silent: bool,
}

/// How discreet Värn is during an alarm: the person may be hiding from someone, or be
/// watched by whoever forces them. By default nothing sounds (not the alarm button, not a
/// notification) and a notification says only that there is news, never what; each can be
/// turned on in Inställningar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Discretion {
    /// A tone when the alarm is raised, and notifications that may sound.
    pub sound: bool,
    /// Notifications during an alarm say what happened (received, acknowledged, the
    /// officer's words) instead of only that there is news.
    pub text: bool,
}

const SOUND_KEY: &str = "alarm.sound";
const TEXT_KEY: &str = "alarm.notification_text";

impl Discretion {
    /// The person's choice, or the discreet default.
    pub fn load(db: &crate::storage::Db) -> Discretion {
        let on = |key| db.setting(key).ok().flatten().as_deref() == Some("on");
        Discretion {
            sound: on(SOUND_KEY),
            text: on(TEXT_KEY),
        }
    }

    /// Stores the person's choice (one transaction).
    pub fn save(self, db: &crate::storage::Db) -> Result<(), crate::storage::StorageError> {
        let word = |b: bool| if b { "on" } else { "off" };
        db.set_settings(&[(SOUND_KEY, word(self.sound)), (TEXT_KEY, word(self.text))])
    }
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
    if notice.silent {
        n.hint(notify_rust::Hint::SuppressSound(true));
    }
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
