//! The window's side of the shell: the bridge that turns the runners' events into window
//! events and desktop notifications ([`bridge`]), the notifications themselves
//! ([`notices`]) and the global shortcut that raises the alarm ([`shortcut`]).

pub mod bridge;
pub mod desktop;
pub mod notices;
pub mod shortcut;
