//! Secrets (the device token) live in the OS keychain, never in a file or a log. The keychain
//! is the edge of the operating system, so it sits behind a small trait: [`Keychain`] is the
//! real one; [`MemorySecrets`] stands in for it in tests.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Why a secret could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(pub String);

/// Where secrets are kept.
pub trait SecretStore: Send + Sync + 'static {
    /// Reads a secret; `Ok(None)` when there is none.
    fn get(&self, key: &str) -> Result<Option<String>, SecretError>;
    /// Writes a secret.
    fn set(&self, key: &str, value: &str) -> Result<(), SecretError>;
    /// Removes a secret (no error if there was none).
    fn delete(&self, key: &str) -> Result<(), SecretError>;
}

/// The keychain service name under which Värn's entries are stored.
pub const SERVICE: &str = "se.varn.app";

/// The key of the device token for a data directory: two data directories (two people, or a
/// test beside real use) never share a token.
pub fn device_token_key(data_dir: &Path) -> String {
    let digest = Sha256::digest(data_dir.to_string_lossy().as_bytes());
    format!("device-token:{}", hex::encode(&digest[..12]))
}

/// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
pub struct Keychain;

impl Keychain {
    fn entry(key: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, key)
            .map_err(|e| SecretError(format!("the keychain is not available: {e}")))
    }
}

impl SecretStore for Keychain {
    fn get(&self, key: &str) -> Result<Option<String>, SecretError> {
        match Self::entry(key)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError(format!("the keychain could not be read: {e}"))),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), SecretError> {
        Self::entry(key)?
            .set_password(value)
            .map_err(|e| SecretError(format!("the keychain could not be written: {e}")))
    }

    fn delete(&self, key: &str) -> Result<(), SecretError> {
        match Self::entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError(format!(
                "the keychain entry could not be removed: {e}"
            ))),
        }
    }
}

/// Secrets in memory, for tests that do not run a keychain.
#[derive(Default)]
pub struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn get(&self, key: &str) -> Result<Option<String>, SecretError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }
    fn set(&self, key: &str, value: &str) -> Result<(), SecretError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), value.to_string());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), SecretError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_differ_by_data_dir() {
        let a = device_token_key(Path::new("/home/a/.local/share/se.varn.app"));
        let b = device_token_key(Path::new("/tmp/test"));
        assert_ne!(a, b);
        assert!(a.starts_with("device-token:"));
        assert_eq!(
            a,
            device_token_key(Path::new("/home/a/.local/share/se.varn.app"))
        );
    }

    #[test]
    fn memory_secrets_round_trip() {
        let s = MemorySecrets::default();
        assert_eq!(s.get("k").unwrap(), None);
        s.set("k", "v").unwrap();
        assert_eq!(s.get("k").unwrap().as_deref(), Some("v"));
        s.delete("k").unwrap();
        s.delete("k").unwrap();
        assert_eq!(s.get("k").unwrap(), None);
    }
}
