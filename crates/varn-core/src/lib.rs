//! Värn's core: everything that is not the window. The region profile (the plan as data), the
//! risk rule, plan search, and the wire types that the app and the region server share.
//! Nothing here knows about Tauri, so unit tests call it directly.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alarm;
pub mod appearance;
pub mod backoff;
pub mod checkin;
pub mod incident;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod paths;
pub mod pin;
pub mod place;
pub mod profile;
pub mod ptu;
pub mod risk;
pub mod search;
pub mod signing;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod stats;
pub mod sync;
pub mod timeline;
pub mod update;
pub mod wire;
