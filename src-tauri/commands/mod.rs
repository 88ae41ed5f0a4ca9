//! The commands the UI calls. Each one parses its input, calls plain Rust and maps the error;
//! none holds logic of its own. [`table`] lists them once: the handler list, the permission
//! manifest and [`COMMANDS`] come from it, and a test holds the capability file and
//! `ui/api.js` to it. Behind the lock screen only the commands it marks `locked` run (see
//! `crate::invoke_handler`).

pub mod alarm;
pub mod checkin;
pub mod contacts;
pub mod link;
pub mod lock;
pub mod plan;
pub mod reports;
pub mod settings;
pub mod table;
pub mod updates;

use crate::error::CommandError;
use table::entries;

/// Every command and whether it runs behind the lock screen, from [`table`].
pub const TABLE: &[(&str, bool)] = table::command_table!(entries);

/// Names of all commands, for the tests.
pub const COMMANDS: [&str; TABLE.len()] = {
    let mut names = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        names[i] = TABLE[i].0;
        i += 1;
    }
    names
};

/// Whether `command` runs behind the lock screen (marked `locked` in [`table`]): what it
/// takes to draw it and to get help. Everything else is refused with `screen_locked`.
pub fn runs_while_locked(command: &str) -> bool {
    TABLE
        .iter()
        .any(|(name, locked)| *locked && *name == command)
}

/// The refusal of `command` while the lock screen is up, or `None` when it may run.
pub fn refused_while_locked(state: &crate::state::AppState, command: &str) -> Option<CommandError> {
    if state.screen_is_locked() && !runs_while_locked(command) {
        return Some(crate::storage::StorageError::ScreenLocked.into());
    }
    None
}

/// What every command returns.
pub type Result<T> = std::result::Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::COMMANDS;
    use std::collections::BTreeSet;
    use std::path::Path;
    use tauri::Manager;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn quoted_after(src: &str, prefix: &str) -> BTreeSet<String> {
        src.match_indices(prefix)
            .filter_map(|(i, _)| {
                let rest = &src[i + prefix.len()..];
                rest.find(['"', '\'']).map(|end| rest[..end].to_string())
            })
            .collect()
    }

    /// The capability file and the UI's api.js name the table's commands (the handler list
    /// and the permission manifest are made from it): nothing callable that the UI does not
    /// use, nothing the UI calls that is not allowed.
    #[test]
    fn ipc_surface_is_the_same_everywhere() {
        let ours: BTreeSet<String> = COMMANDS.iter().map(|s| s.to_string()).collect();

        let cap: serde_json::Value =
            serde_json::from_str(&read("src-tauri/capabilities/main.json")).unwrap();
        let perms: Vec<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let allowed: BTreeSet<String> = perms
            .iter()
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        assert_eq!(allowed, ours, "capabilities/main.json");
        for p in &perms {
            assert!(
                p.starts_with("allow-") || p.starts_with("core:event:allow-"),
                "unexpected permission {p}: only Värn's commands and event listening"
            );
        }

        let api = read("ui/api.js");
        let called = quoted_after(&api, "call('");
        assert_eq!(called, ours, "ui/api.js calls");
    }

    /// Only ui/api.js may talk to Tauri.
    #[test]
    fn only_api_js_talks_to_tauri() {
        let mut stack = vec![root().join("ui")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "js" || e == "html")
                    && path.file_name().is_some_and(|n| n != "api.js")
                {
                    let src = std::fs::read_to_string(&path).unwrap();
                    for needle in [
                        "__TAURI__",
                        "__TAURI_INTERNALS__",
                        "invoke(",
                        "ipc.localhost",
                    ] {
                        assert!(!src.contains(needle), "{} uses {needle}", path.display());
                    }
                    assert!(
                        !src.contains("innerHTML"),
                        "{} uses innerHTML",
                        path.display()
                    );
                }
            }
        }
    }

    /// The app on `dir` with the database opened by `secrets` (one keychain across
    /// "restarts" in one test).
    fn open_app(
        dir: &Path,
        secrets: std::sync::Arc<crate::os::secrets::MemorySecrets>,
    ) -> crate::state::AppState {
        use std::sync::Arc;
        let state = crate::state::AppState::new(crate::state::Parts {
            data_dir: dir.to_path_buf(),
            profile: crate::profiles::ActiveProfile {
                profile: varn_core::profile::Profile::embedded_default().unwrap(),
                source: "embedded".into(),
                notes: Vec::new(),
            },
            secrets: secrets.clone(),
            dialer: Arc::new(crate::os::dialer::SystemDialer::new(|_| Ok(()))),
            observer: Arc::new(crate::events::ObserverSlot::default()),
            runtime: tauri::async_runtime::handle().inner().clone(),
            smoke: false,
            started: std::time::Instant::now(),
        });
        match crate::vault::open(dir, secrets.as_ref()).unwrap() {
            crate::vault::Opening::Open(db) => state.unlock_with(db).unwrap(),
            _ => panic!("the memory keychain opens the database"),
        }
        state
    }

    /// An unlocked app on a fresh data directory with a PIN set, as the window would see it.
    fn app_with_pin(dir: &Path) -> crate::state::AppState {
        let state = open_app(dir, Default::default());
        crate::pin::set(
            state.db().unwrap(),
            None,
            "1234".into(),
            Some("4321".into()),
            chrono::Utc::now(),
        )
        .unwrap();
        state
    }

    /// The app's invoke handler and capability file on Tauri's mock runtime, with `state`,
    /// and its main window.
    fn mock_window(
        state: crate::state::AppState,
    ) -> (
        tauri::App<tauri::test::MockRuntime>,
        tauri::WebviewWindow<tauri::test::MockRuntime>,
    ) {
        let app = tauri::test::mock_builder()
            .manage(state)
            .manage(super::reports::Dropped::default())
            .invoke_handler(crate::invoke_handler())
            .build(tauri::generate_context!(test = true))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(
            &app,
            "main",
            tauri::WebviewUrl::App("index.html".into()),
        )
        .build()
        .unwrap();
        (app, webview)
    }

    /// Calls a command as the window would; its answer or its error as JSON.
    fn invoke(
        webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        cmd: &str,
        args: serde_json::Value,
    ) -> std::result::Result<serde_json::Value, serde_json::Value> {
        use tauri::ipc::{CallbackFn, InvokeBody};
        tauri::test::get_ipc_response(
            webview,
            tauri::webview::InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<serde_json::Value>().unwrap())
    }

    /// Every registered command, called through the real invoke handler while the lock
    /// screen is up, is refused with `screen_locked` unless the table marks it `locked`;
    /// those are not refused for the lock, and they are exactly the named few.
    #[test]
    fn every_command_but_the_named_few_is_refused_behind_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let state = app_with_pin(dir.path());
        state
            .screen_locked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let (_app, webview) = mock_window(state);
        let mut refused = BTreeSet::new();
        for cmd in COMMANDS {
            if let Err(e) = invoke(&webview, cmd, serde_json::json!({})) {
                assert!(
                    !e.to_string().contains("not allowed"),
                    "{cmd}: the capability file must allow it: {e}"
                );
                if e.get("kind").and_then(|k| k.as_str()) == Some("screen_locked") {
                    refused.insert(cmd.to_string());
                }
            }
        }
        let expected: BTreeSet<String> = COMMANDS
            .iter()
            .filter(|c| !super::runs_while_locked(c))
            .map(|c| c.to_string())
            .collect();
        assert_eq!(refused, expected, "refused behind the lock");
        let locked: BTreeSet<&str> = super::TABLE
            .iter()
            .filter(|(_, locked)| *locked)
            .map(|(name, _)| *name)
            .collect();
        // A security decision: a command marked `locked` later fails here until it is named.
        let named = [
            "boot",
            "ui_ready",
            "unlock_screen",
            "unlock",
            "retry_unlock",
            "raise_alarm",
            "alarm",
            "active_alarm",
            "cancel_alarm",
            "call",
            "lock_screen",
            "quit_app",
            // The window's title and tooltip while "Dölj" covers it: no data either way.
            "set_hidden",
        ];
        assert_eq!(locked, BTreeSet::from(named), "what runs behind the lock");
        // The person's own contacts are private even through `call`, which is on the list.
        let contact = crate::storage::UserContact {
            id: uuid::Uuid::now_v7(),
            name: "Mamma".into(),
            number: "0701234567".into(),
        };
        let state = webview.state::<crate::state::AppState>();
        state.db().unwrap().save_user_contact(&contact).unwrap();
        let own = serde_json::json!({ "target": { "kind": "user", "id": contact.id } });
        assert_eq!(
            invoke(&webview, "call", own).unwrap_err()["kind"],
            "screen_locked"
        );
        let sos = serde_json::json!({ "target": { "kind": "profile", "id": "sos" } });
        assert!(
            invoke(&webview, "call", sos).is_ok(),
            "112 works behind the lock"
        );
    }

    /// With a PIN set, the app starts behind the lock: a restart never opens it.
    #[test]
    fn the_lock_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = std::sync::Arc::new(crate::os::secrets::MemorySecrets::default());
        let first = open_app(dir.path(), keychain.clone());
        assert!(!first.screen_is_locked(), "no PIN yet: open");
        crate::pin::set(
            first.db().unwrap(),
            None,
            "1234".into(),
            None,
            chrono::Utc::now(),
        )
        .unwrap();
        assert!(!first.screen_is_locked(), "set in this session: still open");
        let again = open_app(dir.path(), keychain);
        assert!(
            again.screen_is_locked(),
            "the next start is behind the lock"
        );
    }

    /// The duress PIN typed where the PIN is asked for — the PIN form, the lock screen —
    /// looks like the PIN: the form says saved, the lock opens. Nothing changes, and the
    /// region gets an alarm marked under duress each time, which this device never shows.
    #[test]
    fn the_duress_pin_changes_nothing_and_the_region_gets_a_silent_duress_alarm() {
        use tauri::async_runtime::block_on;
        let server = block_on(varn_server::testkit::TestServer::start());
        let dir = tempfile::tempdir().unwrap();
        let state = app_with_pin(dir.path());
        let code = block_on(server.enrollment_code("Anna Andersson"));
        block_on(crate::link::enroll::enroll(
            state.db().unwrap(),
            state.secrets.as_ref(),
            &state.token_key,
            &server.url(),
            &code,
        ))
        .unwrap();
        state.alarms().unwrap().link_changed();
        let stored = |s: &crate::state::AppState| {
            let db = s.db().unwrap();
            (
                db.setting("pin.app").unwrap(),
                db.setting("pin.duress").unwrap(),
                crate::pin::status(db).unwrap(),
            )
        };
        let before = stored(&state);
        let (_app, webview) = mock_window(state);
        let duress_alarms = || {
            let alarms = block_on(server.store.alarms("sormland", 50)).unwrap();
            alarms.iter().filter(|a| a.duress_at.is_some()).count()
        };
        let wait_for = |n: usize| {
            let start = std::time::Instant::now();
            while duress_alarms() < n {
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(15),
                    "the region holds {} duress alarms, not {n}",
                    duress_alarms()
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        };

        // The PIN form with the duress PIN as the current PIN: "saved".
        let shown = invoke(
            &webview,
            "set_pin",
            serde_json::json!({ "current": "4321", "pin": "5555", "duress": null }),
        )
        .expect("looks like success");
        assert_eq!(shown["pin_set"], true);
        assert!(
            shown.get("duress_set").is_none(),
            "never sent to the window"
        );
        let state = webview.state::<crate::state::AppState>();
        assert_eq!(stored(&state), before, "nothing changed");
        wait_for(1);
        // Nothing on this device shows it.
        assert_eq!(
            invoke(&webview, "active_alarm", serde_json::json!({})).unwrap(),
            serde_json::Value::Null
        );

        // Turning the idle lock off with it: "saved", and nothing changes.
        let shown = invoke(
            &webview,
            "set_idle_lock",
            serde_json::json!({ "minutes": 0, "pin": "4321" }),
        )
        .expect("looks like success");
        assert_eq!(shown["idle_lock_minutes"], 0);
        assert_eq!(stored(&state), before);
        wait_for(2);

        // The lock screen opens with it like with the PIN.
        state
            .screen_locked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        invoke(
            &webview,
            "unlock_screen",
            serde_json::json!({ "pin": "4321" }),
        )
        .expect("opens");
        assert!(!state.screen_is_locked());
        wait_for(3);
        // The region's dashboard shows them as under duress and open; the device's own view
        // of the region's timeline would end with a plain cancel.
        let alarms = block_on(server.store.alarms("sormland", 50)).unwrap();
        assert!(alarms
            .iter()
            .filter(|a| a.duress_at.is_some())
            .all(|a| a.status == varn_core::wire::AlarmStatus::Open));
        // And the PIN still is the PIN.
        assert_eq!(
            crate::pin::verify(state.db().unwrap(), "1234", chrono::Utc::now()).unwrap(),
            crate::pin::Entered::Pin
        );
    }
}
