//! The one table of the commands the window may call. The handler list (`crate::invoke_handler`),
//! [`super::COMMANDS`], [`super::runs_while_locked`] and the permission manifest (`build.rs`,
//! which reads this file) all come from it; the capability file and `ui/api.js` are checked
//! against it by a test. Adding a command is: its function, a line here, its permission in
//! `capabilities/main.json`, its call in `ui/api.js`.
//!
//! `locked` marks the few commands that also run behind the lock screen: what it takes to draw
//! it and to get help. Every `open` command is refused with `screen_locked` while it is up:
//!
//! - drawing the lock screen (no private data: see `plan::boot`) and reporting it drawn;
//! - opening it: the PIN, and the database passphrase when there is no keychain;
//! - the alarm: raise it, see its screen, cancel it (with the PIN);
//! - 112 and the region's numbers with their scripts (not the person's own contacts);
//! - locking again, quitting (with the PIN), and the window's neutral title under "Dölj".

/// Calls `$then!` with every command as `module::name: locked|open`.
macro_rules! command_table {
    ($then:ident) => {
        $then! {
            plan::boot: locked,
            plan::ui_ready: locked,
            plan::set_language: open,
            plan::search_plan: open,
            plan::checklist_ticks: open,
            plan::checklist_tick: open,
            plan::checklist_reset: open,
            plan::inventories: open,
            plan::inventory: open,
            plan::save_inventory: open,
            plan::delete_inventory: open,
            safety::link_status: open,
            safety::enroll: open,
            safety::unlink: open,
            safety::confirm_profile_key: open,
            safety::raise_alarm: locked,
            safety::raise_drill: open,
            safety::drill_status: open,
            safety::protection: open,
            reports::discard_draft: open,
            plan::finish_welcome: open,
            guard::cancel_alarm: locked,
            safety::alarm: locked,
            safety::active_alarm: locked,
            safety::call: locked,
            safety::user_contacts: open,
            safety::save_user_contact: open,
            safety::delete_user_contact: open,
            safety::order_user_contacts: open,
            safety::set_current_place: open,
            safety::set_alarm_shortcut: open,
            safety::set_alarm_discretion: open,
            safety::set_hidden: locked,
            reports::set_closed_reports_days: open,
            safety::send_alarm_message: open,
            safety::set_instructions: open,
            safety::set_callback_number: open,
            plan::own_notes: open,
            plan::save_own_notes: open,
            safety::unlock: locked,
            safety::retry_unlock: locked,
            reports::incidents: open,
            reports::incident: open,
            reports::new_incident: open,
            reports::save_incident: open,
            reports::mark_incident_ready: open,
            reports::delete_incident: open,
            reports::pick_attachments: open,
            reports::attach_dropped: open,
            reports::delete_attachment: open,
            reports::export_incident: open,
            reports::sync_status: open,
            reports::sync_now: open,
            guard::pin_status: open,
            guard::set_pin: open,
            guard::remove_duress_pin: open,
            guard::clear_pin: open,
            guard::set_idle_lock: open,
            guard::lock_screen: locked,
            guard::unlock_screen: locked,
            guard::alarm_timeline: open,
            guard::export_alarm_timeline: open,
            meeting::check_in: open,
            meeting::extend_checkin: open,
            meeting::check_out: open,
            meeting::active_checkin: open,
            meeting::appearances: open,
            meeting::save_appearance: open,
            meeting::delete_appearance: open,
            updates::update_check: open,
            updates::update_install: open,
            guard::quit_app: locked,
        }
    };
}
pub(crate) use command_table;

/// Whether a table entry runs behind the lock screen (anything but the two words is an error).
macro_rules! runs_locked {
    (locked) => {
        true
    };
    (open) => {
        false
    };
}
pub(crate) use runs_locked;

/// The commands' names and whether each runs behind the lock, from the table.
macro_rules! entries {
    ($($module:ident::$name:ident: $lock:ident),* $(,)?) => {
        &[$((stringify!($name), $crate::commands::table::runs_locked!($lock))),*]
    };
}
pub(crate) use entries;

/// The handler list for `tauri::generate_handler!`, from the table.
macro_rules! handlers {
    ($($module:ident::$name:ident: $lock:ident),* $(,)?) => {
        tauri::generate_handler![$($crate::commands::$module::$name),*]
    };
}
pub(crate) use handlers;
