//! The link itself: linking with an enrollment code (the device token goes to the keychain, the
//! rest of the link to the database), unlinking, and a client for the linked servers.

use reqwest::Url;

use super::client::{parse_server_url, parse_server_urls, ClientError, RegionClient};
use crate::os::secrets::SecretStore;
use crate::storage::{load_link, Db, Link, StorageError, LINK_KEYS, LINK_SERVERS_KEY};

/// A client for the linked server with the token from the keychain, or why there is none.
pub fn client_for(
    db: &Db,
    secrets: &dyn SecretStore,
    token_key: &str,
) -> Result<RegionClient, varn_core::alarm::Blocked> {
    let (bases, token) = linked_servers(db, secrets, token_key)?;
    RegionClient::with_servers(bases, token).map_err(|_| varn_core::alarm::Blocked::NotEnrolled)
}

/// Every instance of the linked server, in order, and the device's token from the keychain;
/// or why there are none.
pub fn linked_servers(
    db: &Db,
    secrets: &dyn SecretStore,
    token_key: &str,
) -> Result<(Vec<Url>, String), varn_core::alarm::Blocked> {
    use varn_core::alarm::Blocked;
    let link = load_link(db).ok().flatten().ok_or(Blocked::NotEnrolled)?;
    let token = match secrets.get(token_key) {
        Ok(Some(t)) => t,
        Ok(None) => return Err(Blocked::NotEnrolled),
        Err(e) => {
            tracing::warn!("keychain: {e}");
            return Err(Blocked::KeychainUnavailable);
        }
    };
    let bases = link
        .servers
        .iter()
        .map(|u| parse_server_url(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Blocked::NotEnrolled)?;
    Ok((bases, token))
}

/// Why enrollment failed, for the person.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LinkError {
    /// The address is not usable.
    #[error("{0}")]
    BadUrl(String),
    /// The server said no or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The keychain failed; nothing was stored.
    #[error("{0}")]
    Keychain(String),
    /// The database failed.
    #[error("{0}")]
    Storage(String),
}

impl From<StorageError> for LinkError {
    fn from(e: StorageError) -> Self {
        LinkError::Storage(e.to_string())
    }
}

/// Enrolls: exchanges the code at the first instance that answers, stores the token in the
/// keychain and the link (every instance, in order) in the database. If the keychain fails,
/// nothing is stored and the person is told so.
pub async fn enroll(
    db: &Db,
    secrets: &dyn SecretStore,
    token_key: &str,
    server_url: &str,
    code: &str,
) -> Result<Link, LinkError> {
    let bases = parse_server_urls(server_url).map_err(LinkError::BadUrl)?;
    let mut answered = None;
    for (i, base) in bases.iter().enumerate() {
        match RegionClient::enroll(base, code).await {
            Err(ClientError::Network(e)) if i + 1 < bases.len() => {
                tracing::info!(server = %base, "enroll: no answer ({e}); trying the next instance");
            }
            other => {
                answered = Some(other?);
                break;
            }
        }
    }
    let Some(e) = answered else {
        return Err(LinkError::BadUrl("no server address".into()));
    };
    secrets
        .set(token_key, &e.token)
        .map_err(|err| LinkError::Keychain(err.0))?;
    let servers: Vec<String> = bases
        .iter()
        .map(|b| b.as_str().trim_end_matches('/').to_string())
        .collect();
    let link = Link {
        server_url: servers[0].clone(),
        servers: servers.clone(),
        device_id: e.device_id,
        name: e.name,
        region_id: e.region_id,
    };
    let all = servers.join(" ");
    db.set_settings(&[
        (LINK_KEYS[0], link.server_url.as_str()),
        (LINK_KEYS[1], &link.device_id.to_string()),
        (LINK_KEYS[2], link.name.as_str()),
        (LINK_KEYS[3], link.region_id.as_str()),
        (LINK_SERVERS_KEY, all.as_str()),
    ])?;
    crate::profiles::learn_linking_key(db, &link.region_id, e.profile_key.as_deref())?;
    Ok(link)
}

/// Forgets the link: the token leaves the keychain, the link the database.
pub fn unlink(db: &Db, secrets: &dyn SecretStore, token_key: &str) -> Result<(), LinkError> {
    secrets
        .delete(token_key)
        .map_err(|e| LinkError::Keychain(e.0))?;
    if let Some(link) = load_link(db)? {
        // A key the region's server gave is trusted for that link only.
        crate::profiles::forget_link(db, &link.region_id)?;
    }
    db.delete_settings(&LINK_KEYS)?;
    db.delete_settings(&[LINK_SERVERS_KEY])?;
    Ok(())
}
