//! The commands the UI calls. Each one parses its input, calls plain Rust and maps the error;
//! none holds logic of its own. [`COMMANDS`], `build.rs`, the capability file, the handler list
//! in `lib.rs` and `ui/api.js` must name the same commands (a test checks).

pub mod guard;
pub mod meeting;
pub mod plan;
pub mod reports;
pub mod safety;

use crate::error::CommandError;

/// Names of all commands, for the permission manifest in `build.rs` and the tests.
pub const COMMANDS: &[&str] = &[
    "boot",
    "ui_ready",
    "set_language",
    "search_plan",
    "checklist_ticks",
    "checklist_tick",
    "checklist_reset",
    "inventories",
    "inventory",
    "save_inventory",
    "delete_inventory",
    "link_status",
    "enroll",
    "unlink",
    "raise_alarm",
    "raise_drill",
    "drill_status",
    "cancel_alarm",
    "alarm",
    "active_alarm",
    "call",
    "user_contacts",
    "save_user_contact",
    "delete_user_contact",
    "order_user_contacts",
    "set_current_place",
    "set_alarm_shortcut",
    "unlock",
    "retry_unlock",
    "incidents",
    "incident",
    "new_incident",
    "save_incident",
    "mark_incident_ready",
    "delete_incident",
    "pick_attachments",
    "attach_dropped",
    "delete_attachment",
    "export_incident",
    "sync_status",
    "sync_now",
    "pin_status",
    "set_pin",
    "clear_pin",
    "set_idle_lock",
    "lock_screen",
    "unlock_screen",
    "alarm_timeline",
    "export_alarm_timeline",
    "check_in",
    "extend_checkin",
    "check_out",
    "active_checkin",
    "appearances",
    "save_appearance",
    "delete_appearance",
];

/// What every command returns.
pub type Result<T> = std::result::Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::COMMANDS;
    use std::collections::BTreeSet;
    use std::path::Path;

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

    /// The permission manifest in build.rs, the capability file, the handler and the UI's
    /// api.js must all name the same commands: nothing callable that the UI does not use.
    #[test]
    fn ipc_surface_is_the_same_everywhere() {
        let ours: BTreeSet<String> = COMMANDS.iter().map(|s| s.to_string()).collect();

        let build = read("src-tauri/build.rs");
        let start = build
            .find(".commands(&[")
            .expect("commands list in build.rs");
        let end = build[start..].find("])").expect("end of list") + start;
        let in_build: BTreeSet<String> = build[start..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        assert_eq!(in_build, ours, "build.rs permission manifest");

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

        let lib = read("src-tauri/lib.rs");
        let start = lib
            .find("generate_handler![")
            .expect("generate_handler! in lib.rs");
        let end = lib[start..].find("])").expect("end of the handler list") + start;
        let handled: BTreeSet<String> = lib[start + "generate_handler![".len()..end]
            .split(',')
            .filter_map(|s| s.trim().rsplit("::").next())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        assert_eq!(handled, ours, "generate_handler! in lib.rs");

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
}
