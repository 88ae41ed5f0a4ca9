//! Secrets and who is calling: device tokens, enrollment codes, officer passwords and sessions.
//!
//! Tokens are random 256-bit values; the server stores only their SHA-256 (high entropy, so a
//! fast hash is enough). Enrollment codes are short enough to be typed, so they are stored as
//! an HMAC under the server's own secret, kept outside the database. Officer passwords are
//! low-entropy and stored as Argon2id hashes, checked in a small bounded pool.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use varn_core::wire::ProblemType;

use crate::problem::ApiError;
use crate::store::{Device, Officer};
use crate::AppState;

/// Letters for enrollment codes: no 0/O, 1/I/L or U, so they can be read aloud and typed.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in an enrollment code (30^8 ≈ 6.6·10^11 codes).
pub const CODE_LEN: usize = 8;
/// Name of the dashboard's session cookie on plain HTTP (loopback, development).
pub const SESSION_COOKIE: &str = "varn_session";
/// Name of the dashboard's session cookie over TLS: the `__Host-` prefix makes browsers
/// refuse it unless it is `Secure`, for this host only and for every path.
pub const SECURE_SESSION_COOKIE: &str = "__Host-varn_session";
/// Name of the known-device cookie on plain HTTP (loopback, development).
pub const KNOWN_DEVICE_COOKIE: &str = "varn_known";
/// Name of the known-device cookie over TLS.
pub const SECURE_KNOWN_DEVICE_COOKIE: &str = "__Host-varn_known";
/// How long a browser stays known after a sign-in (renewed at each).
pub const KNOWN_DEVICE_DAYS: i64 = 180;

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
    verify_in(password, hash, &mut Vec::new())
}

/// The most Argon2 memory a stored hash may ask for (64 MiB of 1 KiB blocks): a hash with a
/// larger cost is refused rather than allocated.
const MAX_ARGON2_BLOCKS: usize = 64 * 1024;

/// Checks a password against its stored Argon2 hash (PHC string), computing in `memory`,
/// which is grown once to the hash's cost and then reused: a worker that checks passwords
/// one after another holds one block of ~19 MiB instead of allocating (and fragmenting) one
/// per check. The comparison is in constant time.
fn verify_in(password: &str, hash: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::Output;
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_ARGON2_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut memory[..blocks],
    );
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// The bearer token of a request, or why there is none.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::unauthorized(
                ProblemType::NoToken,
                "send the device token as Authorization: Bearer <token>",
            )
        })?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                ProblemType::NoToken,
                "the Authorization header must be: Bearer <token>",
            )
        })
}

/// The calling device, checked by the device gate ([`crate::admission::device_gate`]) from
/// its `Authorization: Bearer` token. Revoked devices never get this far.
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Device>()
            .cloned()
            .map(DeviceAuth)
            .ok_or_else(|| {
                ApiError::unauthorized(ProblemType::NoToken, "this route needs a device token")
            })
    }
}

/// The logged-in officer, checked by the officer gate ([`crate::admission::officer_gate`]).
pub struct OfficerAuth(pub Officer);

impl FromRequestParts<AppState> for OfficerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Officer>()
            .cloned()
            .map(OfficerAuth)
            .ok_or_else(|| {
                ApiError::unauthorized(ProblemType::NoSession, "log in to the dashboard")
            })
    }
}

/// The session token in the request's cookies, if any: `__Host-varn_session` over TLS (a
/// cookie no other host or path can set), `varn_session` on plain HTTP to loopback.
pub fn session_token(parts: &Parts, tls: bool) -> Option<String> {
    let wanted = if tls {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    };
    cookie_value(&parts.headers, wanted)
}

/// The value of the cookie `name`, if the request has it.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` value that marks this browser as one `username` has signed in from
/// (OWASP's device cookie): a random id and its HMAC under the server's secret, bound to the
/// username. Logins from it are counted on their own ([`crate::ratelimit::LoginLimiter`]).
pub fn known_device_cookie(tls: bool, secret: &ServerSecret, username: &str) -> String {
    let id = new_token();
    let mac = secret.known_device_mac(username, &id);
    let max_age = KNOWN_DEVICE_DAYS * 24 * 3600;
    if tls {
        format!("{SECURE_KNOWN_DEVICE_COOKIE}={id}.{mac}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age}")
    } else {
        format!("{KNOWN_DEVICE_COOKIE}={id}.{mac}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}")
    }
}

/// The id of the request's known-device cookie when it is genuine and was given for
/// `username`; `None` otherwise.
pub fn known_device(
    headers: &axum::http::HeaderMap,
    tls: bool,
    secret: &ServerSecret,
    username: &str,
) -> Option<String> {
    let name = if tls {
        SECURE_KNOWN_DEVICE_COOKIE
    } else {
        KNOWN_DEVICE_COOKIE
    };
    let value = cookie_value(headers, name)?;
    let (id, mac) = value.split_once('.')?;
    let expected = secret.known_device_mac(username, id);
    ct_eq(mac.as_bytes(), expected.as_bytes()).then(|| id.to_string())
}

/// Comparison in constant time (for MACs, a sign-in's `state`, a TOTP code).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value that starts a session (or, with `None`, ends it).
pub fn session_cookie(tls: bool, token: Option<&str>, max_age_secs: i64) -> String {
    match (tls, token) {
        (true, Some(t)) => format!(
            "{SECURE_SESSION_COOKIE}={t}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_secs}"
        ),
        (false, Some(t)) => {
            format!("{SESSION_COOKIE}={t}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}")
        }
        (true, None) => {
            format!("{SECURE_SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
        }
        (false, None) => format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    }
}

/// The server's own secret: enrollment codes are stored as their HMAC under it, so a copy of
/// the database alone does not let anyone try the ~39-bit codes offline. It lives outside
/// the database (a file only the server reads, or the environment).
#[derive(Clone)]
pub struct ServerSecret([u8; 32]);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(…)")
    }
}

impl ServerSecret {
    /// A new random secret.
    pub fn random() -> Self {
        ServerSecret(rand::rng().random())
    }

    /// The secret from its text form (base64url, 32 bytes), as written by [`ServerSecret::encode`].
    pub fn decode(text: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|e| format!("not base64url: {e}"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("{} bytes; a secret has 32", b.len()))?;
        Ok(ServerSecret(arr))
    }

    /// The text form.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads the secret from `path`, or creates it there (readable by the owner only) when
    /// `create` is set and the file does not exist.
    pub fn load_or_create(path: &std::path::Path, create: bool) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::decode(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let secret = Self::random();
                write_private(path, &secret.encode())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                tracing::info!(path = %path.display(), "created the server secret (keep it with the database's backups, apart from them)");
                Ok(secret)
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The stored form of an enrollment code: HMAC-SHA256 under the secret, hex.
    pub fn code_hash(&self, normalized_code: &str) -> String {
        self.mac(&[b"varn:enrollment-code:", normalized_code.as_bytes()])
    }

    /// The MAC of a known-device cookie's id for a username (case and spaces around it
    /// ignored, as logins ignore them).
    pub fn known_device_mac(&self, username: &str, id: &str) -> String {
        let username = username.trim().to_lowercase();
        self.mac(&[
            b"varn:known-device:",
            username.as_bytes(),
            b":",
            id.as_bytes(),
        ])
    }

    /// `plain` encrypted and authenticated (AES-256-GCM, a random nonce) under a key made from
    /// the secret for `purpose` alone, base64url: what the server keeps for a while but must
    /// not show, in the database or a cookie (a refresh token, a TOTP secret, a sign-in
    /// under way). [`ServerSecret::open`] gives it back only for the same purpose.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        use aes_gcm::aead::{Aead, KeyInit};
        let cipher = aes_gcm::Aes256Gcm::new(&self.seal_key(purpose).into());
        let nonce: [u8; 12] = rand::rng().random();
        let mut out = nonce.to_vec();
        // Encrypting into memory fails only for a text over 64 GiB.
        out.extend(cipher.encrypt(&nonce.into(), plain).unwrap_or_default());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    /// What [`ServerSecret::seal`] sealed for `purpose`; `None` for anything else (another
    /// purpose, another secret, a changed byte).
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        use aes_gcm::aead::{Aead, KeyInit};
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let cipher = aes_gcm::Aes256Gcm::new(&self.seal_key(purpose).into());
        cipher.decrypt(&nonce.into(), body).ok()
    }

    fn seal_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"varn:seal:");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// HMAC-SHA256 under the secret of the parts in order, hex.
    fn mac(&self, parts: &[&[u8]]) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        for p in parts {
            mac.update(p);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// The password checks: a few threads of their own (never the async runtime's blocking
/// pool, whose threads come and go and would each keep a freed ~19 MiB Argon2id block in its
/// own allocator arena), with two short queues; beyond them a refusal, never a queue that
/// grows with the attack. Checks from a browser the officer has signed in from before have
/// a queue of their own and go first, so a flood of strangers' guesses never stands in
/// their way.
pub struct HashPool {
    shared: Arc<HashQueues>,
    queue: usize,
}

type HashJob = (String, String, tokio::sync::oneshot::Sender<bool>);

#[derive(Default)]
struct Lanes {
    known: std::collections::VecDeque<HashJob>,
    other: std::collections::VecDeque<HashJob>,
    closed: bool,
}

struct HashQueues {
    lanes: std::sync::Mutex<Lanes>,
    ready: std::sync::Condvar,
}

/// The pool is full: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy(pub u64);

impl HashPool {
    /// `workers` threads checking one password each at a time, `queue` more checks waiting
    /// in each lane.
    pub fn new(workers: usize, queue: usize) -> Self {
        let shared = Arc::new(HashQueues {
            lanes: std::sync::Mutex::new(Lanes::default()),
            ready: std::sync::Condvar::new(),
        });
        for i in 0..workers.max(1) {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("varn-password-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    while let Some((password, hash, answer)) = shared.next() {
                        let _ = answer.send(verify_in(&password, &hash, &mut memory));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("a password thread could not start: {e}");
            }
        }
        HashPool {
            shared,
            queue: queue.max(1),
        }
    }

    /// Checks `password` against `hash` when a worker is free, or says the pool is busy.
    /// `known`: from a browser the officer has signed in from before (checked first).
    pub async fn verify(&self, password: String, hash: String, known: bool) -> Result<bool, Busy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let mut lanes = self.shared.lanes.lock().unwrap_or_else(|p| p.into_inner());
            let lane = if known {
                &mut lanes.known
            } else {
                &mut lanes.other
            };
            if lane.len() >= self.queue {
                return Err(Busy(2));
            }
            lane.push_back((password, hash, tx));
        }
        self.shared.ready.notify_one();
        rx.await.map_err(|_| Busy(1))
    }
}

impl HashQueues {
    /// The next check for a worker (known browsers first), or `None` when the pool is gone.
    fn next(&self) -> Option<HashJob> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(job) = lanes.known.pop_front().or_else(|| lanes.other.pop_front()) {
                return Some(job);
            }
            if lanes.closed {
                return None;
            }
            lanes = self.ready.wait(lanes).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        self.shared
            .lanes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .closed = true;
        self.shared.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_for_its_purpose_under_its_secret_and_unchanged() {
        let secret = ServerSecret::random();
        let sealed = secret.seal("refresh", b"the provider's token");
        assert_eq!(
            secret.open("refresh", &sealed).as_deref(),
            Some(&b"the provider's token"[..])
        );
        assert_ne!(
            sealed,
            secret.seal("refresh", b"the provider's token"),
            "a random nonce"
        );
        assert!(!sealed.contains("token"));
        assert_eq!(secret.open("totp", &sealed), None, "another purpose");
        assert_eq!(ServerSecret::random().open("refresh", &sealed), None);
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        assert_eq!(secret.open("refresh", &changed), None, "a changed byte");
        assert_eq!(secret.open("refresh", "short"), None);
        assert_eq!(secret.open("refresh", "not base64 !"), None);
    }

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
    fn codes_are_stored_under_the_secret_and_the_secret_round_trips() {
        let a = ServerSecret::random();
        let b = ServerSecret::random();
        assert_ne!(a.code_hash("K7QM2XHD"), b.code_hash("K7QM2XHD"));
        assert_ne!(a.code_hash("K7QM2XHD"), hash_secret("K7QM2XHD"));
        assert_eq!(a.code_hash("K7QM2XHD").len(), 64);
        let again = ServerSecret::decode(&a.encode()).unwrap();
        assert_eq!(again.code_hash("X"), a.code_hash("X"));
        assert!(ServerSecret::decode("short").is_err());
    }

    #[test]
    fn the_secret_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.secret");
        assert!(
            ServerSecret::load_or_create(&path, false).is_err(),
            "not created unless asked"
        );
        let made = ServerSecret::load_or_create(&path, true).unwrap();
        let read = ServerSecret::load_or_create(&path, true).unwrap();
        assert_eq!(made.code_hash("A"), read.code_hash("A"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn session_cookies_carry_the_host_prefix_over_tls() {
        let c = session_cookie(true, Some("t"), 60);
        assert!(
            c.starts_with("__Host-varn_session=t;") && c.contains("Secure") && c.contains("Path=/")
        );
        assert!(!c.contains("Domain"));
        assert!(!session_cookie(false, Some("t"), 60).contains("Secure"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hash_pool_refuses_beyond_its_queue() {
        let h = hash_password("ett långt lösenord").unwrap();
        let pool = Arc::new(HashPool::new(1, 1));
        let runs: Vec<_> = (0..6)
            .map(|_| {
                let (pool, h) = (pool.clone(), h.clone());
                tokio::spawn(async move { pool.verify("fel".into(), h, false).await })
            })
            .collect();
        let mut busy = 0;
        for r in runs {
            match r.await.unwrap() {
                Ok(ok) => assert!(!ok),
                Err(Busy(wait)) => {
                    assert!(wait >= 1);
                    busy += 1
                }
            }
        }
        assert!(
            busy >= 4,
            "one running and one waiting; the rest refused ({busy})"
        );
        assert_eq!(
            pool.verify("ett långt lösenord".into(), h, false).await,
            Ok(true)
        );
    }

    #[test]
    fn a_known_browsers_check_is_taken_before_strangers() {
        let q = HashQueues {
            lanes: std::sync::Mutex::new(Lanes::default()),
            ready: std::sync::Condvar::new(),
        };
        let job = |pw: &str| {
            let (tx, _rx) = tokio::sync::oneshot::channel();
            (pw.to_string(), String::new(), tx)
        };
        {
            let mut lanes = q.lanes.lock().unwrap();
            lanes.other.push_back(job("stranger 1"));
            lanes.other.push_back(job("stranger 2"));
            lanes.known.push_back(job("known"));
        }
        let order: Vec<String> = (0..3).map(|_| q.next().unwrap().0).collect();
        assert_eq!(order, ["known", "stranger 1", "stranger 2"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_known_browsers_check_is_not_refused_when_strangers_fill_their_queue() {
        let h = hash_password("ett långt lösenord").unwrap();
        let pool = Arc::new(HashPool::new(1, 1));
        let strangers: Vec<_> = (0..8)
            .map(|_| {
                let (pool, h) = (pool.clone(), h.clone());
                tokio::spawn(async move { pool.verify("fel".into(), h, false).await })
            })
            .collect();
        let known = pool.verify("ett långt lösenord".into(), h, true).await;
        assert_eq!(known, Ok(true), "never refused for strangers' checks");
        let mut refused = 0;
        for s in strangers {
            if s.await.unwrap().is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 1, "the strangers' own queue was full");
    }

    #[test]
    fn a_known_device_cookie_is_bound_to_its_username_and_the_secret() {
        let secret = ServerSecret::random();
        let set = known_device_cookie(true, &secret, "Hanna");
        assert!(set.starts_with("__Host-varn_known=") && set.contains("Secure"));
        let value = set.split(';').next().unwrap().trim();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::COOKIE, value.parse().unwrap());
        let id = known_device(&headers, true, &secret, " hanna ").expect("genuine");
        assert!(value.contains(&id));
        assert!(known_device(&headers, true, &secret, "olle").is_none());
        assert!(known_device(&headers, true, &ServerSecret::random(), "hanna").is_none());
        assert!(known_device(&headers, false, &secret, "hanna").is_none());
        let forged = format!("{}x", value);
        headers.insert(header::COOKIE, forged.parse().unwrap());
        assert!(known_device(&headers, true, &secret, "hanna").is_none());
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("korrekt häst batteri").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("korrekt häst batteri", &h));
        assert!(!verify_password("fel", &h));
        assert!(!verify_password("x", "not a hash"));
        // The same as the argon2 crate's own verifier decides, with reused memory, for other
        // parameters too; an absurd cost is refused, not allocated.
        let mut memory = Vec::new();
        let small = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(
            b"kort",
            &SaltString::encode_b64(b"0123456789abcdef").unwrap(),
        )
        .unwrap()
        .to_string();
        for (pw, hash, ok) in [
            ("kort", &small, true),
            ("korrekt häst batteri", &h, true),
            ("kort", &h, false),
        ] {
            assert_eq!(verify_in(pw, hash, &mut memory), ok, "{pw}");
            use argon2::PasswordVerifier;
            let theirs = argon2::Argon2::default()
                .verify_password(pw.as_bytes(), &PasswordHash::new(hash).unwrap())
                .is_ok();
            assert_eq!(theirs, ok);
        }
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!verify_in("x", huge, &mut memory));
        assert!(memory.len() < MAX_ARGON2_BLOCKS);
    }
}
