//! Secrets and who is calling: device tokens, enrollment codes, officer passwords and sessions.
//!
//! Tokens and codes are random; the server stores only their SHA-256 (they are high-entropy,
//! so a fast hash is enough). Officer passwords are low-entropy and stored as Argon2id hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::store::{Device, Officer};
use crate::AppState;

/// Letters for enrollment codes: no 0/O, 1/I/L or U, so they can be read aloud and typed.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in an enrollment code (30^8 ≈ 6.6·10^11 codes).
pub const CODE_LEN: usize = 8;
/// Name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "varn_session";

/// SHA-256 of a secret, hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new device or session token: 256 random bits, base64url.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new enrollment code, formatted for reading: `K7QM-2XHD`.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let raw: String = (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &raw[..4], &raw[4..])
}

/// Hashes an officer password with Argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against its stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The calling device, from its `Authorization: Bearer` token. Revoked devices are refused.
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "no-token",
                    "send the device token as Authorization: Bearer <token>",
                )
            })?;
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "no-token",
                    "the Authorization header must be: Bearer <token>",
                )
            })?;
        let device = state
            .store()
            .device_by_token(&hash_secret(token))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "bad-token",
                    "the device token is not valid; enroll the app again",
                )
            })?;
        if device.revoked_at.is_some() {
            return Err(ApiError::unauthorized(
                "revoked",
                "this device has been revoked by the region; enroll the app again with a new code",
            ));
        }
        Ok(DeviceAuth(device))
    }
}

/// The logged-in officer, from the session cookie.
pub struct OfficerAuth(pub Officer);

/// The session token in the request's cookies, if any.
pub fn session_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for OfficerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(parts)
            .ok_or_else(|| ApiError::unauthorized("no-session", "log in to the dashboard"))?;
        let officer = state
            .store()
            .session(&hash_secret(&token), state.now())
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("no-session", "the session has ended; log in again")
            })?;
        Ok(OfficerAuth(officer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typeable_and_random() {
        let a = new_code();
        let b = new_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), CODE_LEN + 1);
        assert!(a
            .chars()
            .filter(|c| *c != '-')
            .all(|c| CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(
            varn_core::wire::normalize_code(&a.to_lowercase()).len(),
            CODE_LEN
        );
    }

    #[test]
    fn tokens_have_256_bits() {
        let t = new_token();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&t)
            .unwrap();
        assert_eq!(bytes.len(), 32);
        assert_ne!(t, new_token());
        assert_eq!(hash_secret(&t).len(), 64);
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("korrekt häst batteri").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("korrekt häst batteri", &h));
        assert!(!verify_password("fel", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
