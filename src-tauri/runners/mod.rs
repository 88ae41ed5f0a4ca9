//! The runners: what keeps working while the window does something else — the alarm, the
//! check-in, sync and the reminders, each an item driven by the one driver loop
//! ([`drivers`]) until the server has all of it. They talk to the region through
//! [`crate::link`] and tell the window through [`crate::events`]; nothing here imports the
//! window or the commands.

pub mod alarm;
pub mod checkin;
pub mod drivers;
pub mod reminders;
pub mod sync;
