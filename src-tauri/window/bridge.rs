//! The window's side of the panic path: alarm and connection changes become events for the UI
//! and desktop notifications (notify-rust, so a missing notification daemon is logged rather
//! than swallowed).

use tauri::{AppHandle, Emitter, Manager, Runtime};
use varn_core::alarm::{Blocked, Phase};

use crate::events::{Event, Observer};
use crate::i18n::Strings;
use crate::runners::alarm::AlarmView;
use crate::runners::checkin::CheckinView;
use crate::state::AppState;
use crate::window::notices::Notice;
use varn_core::appearance::{Appearance, Reminder};
use varn_core::checkin::CheckinPhase;

/// Sends events to the UI and notifications to the desktop.
pub struct WindowObserver<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> WindowObserver<R> {
    /// An observer for this app.
    pub fn new(app: AppHandle<R>) -> Self {
        WindowObserver { app }
    }
}

/// Whether an alarm's notification is withdrawn: it was cancelled, or it was a drill and is
/// acknowledged (a real alarm that an officer took keeps saying so).
pub fn alarm_ended(view: &AlarmView) -> bool {
    view.phase == Phase::Cancelled || (view.drill && view.phase == Phase::Acknowledged)
}

/// The notification for a phase, in the person's language; `None` for no notification.
pub fn notification_text(
    strings: &Strings,
    lang: crate::i18n::Lang,
    view: &AlarmView,
) -> Option<String> {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
    };
    let key = match view.phase {
        Phase::Sending => "notify.sending",
        Phase::Unconfirmed => "notify.unconfirmed",
        Phase::Received => "notify.received",
        Phase::Acknowledged => "notify.acknowledged",
        Phase::Cancelling => return None,
        Phase::Cancelled => "notify.cancelled",
        Phase::Blocked => match view.blocked {
            Some(Blocked::TokenRefused) => "notify.refused",
            Some(Blocked::KeychainUnavailable) => "notify.keychain",
            _ => "notify.not_enrolled",
        },
    };
    Some(
        strings
            .get(lang, key)
            .replace("{time}", &time(view.received_at))
            .replace("{ack_time}", &time(view.acknowledged_at))
            .replace("{who}", view.acknowledged_by.as_deref().unwrap_or("")),
    )
}

impl<R: Runtime> Observer for WindowObserver<R> {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Alarm {
                view,
                phase_changed,
            } => self.alarm_changed(view, phase_changed),
            Event::AlarmMessage { text, .. } => self.alarm_message(text),
            Event::Connection(state) => {
                let _ = self.app.emit("connection", state);
            }
            Event::Checkin {
                view,
                phase_changed,
            } => self.checkin_changed(view, phase_changed),
            Event::Sync(view) => {
                let _ = self.app.emit("sync", view);
            }
            Event::ReportsDelivered(n) => self.reports_delivered(n),
            Event::FollowedUp { id, followup } => self.report_followed_up(id, followup),
            Event::ProfileChanged => {
                let _ = self.app.emit("profile", ());
            }
            Event::Reminder { appearance, why } => self.reminder(appearance, why),
        }
    }
}

impl<R: Runtime> WindowObserver<R> {
    fn alarm_changed(&self, view: &AlarmView, phase_changed: bool) {
        let _ = self.app.emit("alarm", view);
        if !phase_changed {
            return;
        }
        let state = self.app.state::<AppState>();
        // One notification per alarm: replaced at every change, withdrawn when it ends.
        let key = format!("alarm:{}", view.id);
        if alarm_ended(view) {
            crate::window::notices::notices().withdraw(key);
            return;
        }
        let Some(body) = notification_text(&state.strings, state.lang(), view) else {
            return;
        };
        let discretion = discretion(&state);
        let lang = state.lang();
        // A drill is no secret; a real alarm's news is, unless the person chose otherwise.
        let (title, body) = if view.drill {
            (
                state.strings.get(lang, "notify.title_drill").to_string(),
                body,
            )
        } else if discretion.text {
            (state.strings.get(lang, "notify.title").to_string(), body)
        } else {
            discreet(&state)
        };
        let urgent = !view.drill && matches!(view.phase, Phase::Unconfirmed | Phase::Blocked);
        crate::window::notices::notices().show(
            Some(key),
            Notice {
                title,
                body,
                urgent,
                silent: !discretion.sound,
            },
        );
    }

    fn reports_delivered(&self, reports: u32) {
        let state = self.app.state::<AppState>();
        let lang = state.lang();
        let key = if reports == 1 {
            "notify.delivered_one"
        } else {
            "notify.delivered_many"
        };
        let body = state
            .strings
            .get(lang, key)
            .replace("{n}", &reports.to_string());
        let title = state.strings.get(lang, "notify.sync_title").to_string();
        show_notification(title, body, false);
    }

    fn alarm_message(&self, text: &str) {
        // The person may be hiding, or watched: by default no sound and not the officer's
        // words, only that there is news. The alarm screen shows the words.
        let state = self.app.state::<AppState>();
        let discretion = discretion(&state);
        let (title, body) = if discretion.text {
            (
                state
                    .strings
                    .get(state.lang(), "notify.alarm_message_title")
                    .to_string(),
                text.to_string(),
            )
        } else {
            discreet(&state)
        };
        crate::window::notices::notices().show(
            None,
            Notice {
                title,
                body,
                urgent: false,
                silent: !discretion.sound,
            },
        );
    }

    fn report_followed_up(&self, id: uuid::Uuid, followup: &varn_core::wire::Followup) {
        let _ = self.app.emit("report-followup", id);
        let state = self.app.state::<AppState>();
        let lang = state.lang();
        let key = format!("notify.followup_{}", followup.state.as_str());
        let mut body = state.strings.get(lang, &key).to_string();
        if !followup.message.is_empty() {
            body = format!("{body}\n{}", followup.message);
        }
        let title = state.strings.get(lang, "notify.followup_title").to_string();
        show_notification(title, body, false);
    }

    fn checkin_changed(&self, view: &CheckinView, phase_changed: bool) {
        let _ = self.app.emit("checkin", view);
        if !phase_changed {
            return;
        }
        let notice_key = format!("checkin:{}", view.id);
        let key = match view.phase {
            CheckinPhase::Due => "notify.checkin_due",
            CheckinPhase::Overdue => "notify.checkin_overdue",
            CheckinPhase::Unconfirmed => "notify.checkin_unconfirmed",
            // Checked out, extended or over: what it said no longer holds.
            _ => {
                crate::window::notices::notices().withdraw(notice_key);
                return;
            }
        };
        let state = self.app.state::<AppState>();
        let lang = state.lang();
        let deadline = view
            .deadline
            .with_timezone(&chrono::Local)
            .format("%H:%M")
            .to_string();
        let body = state.strings.get(lang, key).replace("{time}", &deadline);
        let title = state.strings.get(lang, "notify.checkin_title").to_string();
        crate::window::notices::notices().show(
            Some(notice_key),
            Notice {
                title,
                body,
                urgent: view.phase != CheckinPhase::Due,
                silent: false,
            },
        );
    }

    fn reminder(&self, appearance: &Appearance, why: Reminder) {
        let _ = self.app.emit("reminder", appearance.id);
        let state = self.app.state::<AppState>();
        let lang = state.lang();
        let key = match why {
            Reminder::NoInventory => "notify.reminder_missing",
            Reminder::Incomplete => "notify.reminder_incomplete",
            Reminder::AdvisesMeasures => "notify.reminder_advises",
        };
        let time = appearance.starts_at.get(11..16).unwrap_or("");
        let body = state
            .strings
            .get(lang, key)
            .replace("{title}", &appearance.title)
            .replace("{time}", time);
        let title = state.strings.get(lang, "notify.reminder_title").to_string();
        show_notification(title, body, false);
    }
}

/// The person's choice of how discreet an alarm is (the discreet default while locked).
fn discretion(state: &AppState) -> crate::window::notices::Discretion {
    state
        .db()
        .map(|db| crate::window::notices::Discretion::load(db))
        .unwrap_or_default()
}

/// A notification that says only that there is news in Värn.
fn discreet(state: &AppState) -> (String, String) {
    let lang = state.lang();
    (
        state.strings.get(lang, "notify.discreet_title").to_string(),
        state.strings.get(lang, "notify.discreet").to_string(),
    )
}

/// Tells the person that the app's link to a region changed (linked, relinked or unlinked):
/// someone with a minute at the laptop cannot quietly point the alarm elsewhere.
pub fn notify_link_changed(state: &AppState, link: Option<&crate::link::client::Link>) {
    let lang = state.lang();
    let body = match link {
        Some(l) => {
            let host = reqwest::Url::parse(&l.server_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| l.server_url.clone());
            // The region by its name when the profile in use is its own.
            let region = state.with_profile(|a| {
                (a.profile.region.id == l.region_id).then(|| a.profile.region.name.clone())
            });
            state
                .strings
                .get(lang, "notify.linked")
                .replace("{host}", &host)
                .replace("{region}", region.as_deref().unwrap_or(&l.region_id))
        }
        None => state.strings.get(lang, "notify.unlinked").to_string(),
    };
    let title = state.strings.get(lang, "notify.link_title").to_string();
    show_notification(title, body, link.is_none());
}

/// Shows a notice once (the daemon answers over D-Bus on the notices thread).
fn show_notification(title: String, body: String, urgent: bool) {
    crate::window::notices::notices().show(
        None,
        Notice {
            title,
            body,
            urgent,
            silent: false,
        },
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every event the shell emits to the window has a listener in the UI (`api.on('…')`):
    /// an event nobody hears is a state change the person never sees.
    #[test]
    fn every_event_the_shell_emits_is_listened_to() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let mut emitted = std::collections::BTreeSet::new();
        // Every file of the shell: an emit moved to another file is still seen.
        let mut shell = Vec::new();
        let mut dirs = vec![root.join("src-tauri")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    shell.push(path);
                }
            }
        }
        for file in shell {
            let text = read(&file);
            for part in text.split("emit(\"").skip(1) {
                if let Some(name) = part.split('"').next() {
                    emitted.insert(name.to_string());
                }
            }
        }
        assert!(emitted.len() >= 8, "{emitted:?}");
        let mut ui = String::new();
        for dir in ["ui", "ui/views"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                if entry.path().extension().is_some_and(|e| e == "js") {
                    ui.push_str(&read(&entry.path()));
                }
            }
        }
        let unheard: Vec<_> = emitted
            .iter()
            .filter(|name| !ui.contains(&format!("api.on('{name}'")))
            .collect();
        assert!(
            unheard.is_empty(),
            "emitted but never listened to: {unheard:?}"
        );
    }
}
