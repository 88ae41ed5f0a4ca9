//! The edge of the operating system, each behind a small seam: the keychain ([`secrets`]),
//! the system's dialer ([`dialer`]), where the data lives ([`datadir`]) and how the window
//! renders ([`rendering`]). The bottom floor: it imports nothing of the app's own.

pub mod datadir;
pub mod dialer;
pub mod rendering;
pub mod secrets;
