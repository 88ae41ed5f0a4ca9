//! The app's link to its region as the database keeps it (the address, the device's id, the
//! person's name, the region; the token is in the keychain). Read here, below everything that
//! needs it; linking and unlinking are `crate::link::client`'s.

use serde::Serialize;
use uuid::Uuid;

use super::{Db, StorageError};

/// The app's link to its region: stored in the database (address, who) and the keychain
/// (token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The server's address (the first of `servers`).
    pub server_url: String,
    /// Every instance of the region's server, in the order they are tried.
    pub servers: Vec<String>,
    /// The device's id on the server.
    pub device_id: Uuid,
    /// The person's name as enrolled.
    pub name: String,
    /// The region.
    pub region_id: String,
}

/// Every instance's address, space-separated (only when there is more than one).
pub const LINK_SERVERS_KEY: &str = "link.servers";

/// The settings a link is kept under: address, device id, name, region.
pub const LINK_KEYS: [&str; 4] = [
    "link.server_url",
    "link.device_id",
    "link.name",
    "link.region_id",
];

/// The stored link, if the app is enrolled.
pub fn load_link(db: &Db) -> Result<Option<Link>, StorageError> {
    let mut values = Vec::new();
    for key in LINK_KEYS {
        match db.setting(key)? {
            Some(v) => values.push(v),
            None => return Ok(None),
        }
    }
    let Ok(device_id) = Uuid::parse_str(&values[1]) else {
        return Ok(None);
    };
    let servers = db
        .setting(LINK_SERVERS_KEY)?
        .map(|s| s.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec![values[0].clone()]);
    Ok(Some(Link {
        servers,
        server_url: values[0].clone(),
        device_id,
        name: values[2].clone(),
        region_id: values[3].clone(),
    }))
}
