//! The one table of the commands the window may call. The handler list (`crate::invoke_handler`),
//! [`super::COMMANDS`], [`super::runs_while_locked`] and the permission manifest (`build.rs`,
//! which reads this file) all come from it; the capability file and `ui/api.js` are checked
//! against it by a test. Adding a command is: its function in its feature's file (alarm,
//! link, lock, contacts, checkin, plan, reports, settings, updates), a line here under that
//! feature, its permission in `capabilities/main.json`, its call in `ui/api.js`.
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
            // The plan, the checklist, risk inventories, appearances, own notes, the UI's life cycle.
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
            plan::finish_welcome: open,
            plan::own_notes: open,
            plan::save_own_notes: open,
            plan::appearances: open,
            plan::save_appearance: open,
            plan::delete_appearance: open,
            // The alarm.
            alarm::raise_alarm: locked,
            alarm::raise_drill: open,
            alarm::drill_status: open,
            alarm::protection: open,
            alarm::cancel_alarm: locked,
            alarm::alarm: locked,
            alarm::active_alarm: locked,
            alarm::send_alarm_message: open,
            alarm::alarm_timeline: open,
            alarm::export_alarm_timeline: open,
            // Calls and contacts.
            contacts::call: locked,
            contacts::user_contacts: open,
            contacts::save_user_contact: open,
            contacts::delete_user_contact: open,
            contacts::order_user_contacts: open,
            // The check-in.
            checkin::check_in: open,
            checkin::extend_checkin: open,
            checkin::check_out: open,
            checkin::active_checkin: open,
            // The link to the region.
            link::link_status: open,
            link::enroll: open,
            link::unlink: open,
            link::confirm_profile_key: open,
            // The passphrase, the PIN and the lock.
            lock::set_hidden: locked,
            lock::unlock: locked,
            lock::retry_unlock: locked,
            lock::pin_status: open,
            lock::set_pin: open,
            lock::remove_duress_pin: open,
            lock::clear_pin: open,
            lock::set_idle_lock: open,
            lock::lock_screen: locked,
            lock::unlock_screen: locked,
            lock::quit_app: locked,
            // Settings.
            settings::set_current_place: open,
            settings::set_alarm_shortcut: open,
            settings::set_alarm_discretion: open,
            settings::set_instructions: open,
            settings::set_callback_number: open,
            // Reports and sync.
            reports::discard_draft: open,
            reports::set_closed_reports_days: open,
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
            // Updates.
            updates::update_check: open,
            updates::update_install: open,
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
