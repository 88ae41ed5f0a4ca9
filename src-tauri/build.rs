//! Runs tauri-build with the capabilities kept under `src-tauri/capabilities/` and a permission
//! for each app command, so only the commands a capability lists can be called.

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(&[
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
            "confirm_profile_key",
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
            "quit_app",
        ]));
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=ui");
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
}
