//! Local passwords where the region signs in with its identity provider: none, every one,
//! or only the break-glass account, which also needs a TOTP code (RFC 6238: SHA-1, six
//! digits, 30-second steps, one step either side). A code is good once: the step it
//! matched is kept, and a code of that step or an earlier one is refused.

use crate::oidc::LocalPasswords;

/// The TOTP secret's length in bytes (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// What the sealed TOTP secret is sealed for ([`crate::auth::ServerSecret::seal`]).
pub const SEAL_PURPOSE: &str = "officer-totp";

/// What a local login needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalLogin {
    /// The password.
    Password,
    /// The password and a TOTP code (the break-glass account).
    PasswordAndCode,
    /// Nothing will do: the region signs in with its provider.
    Refused,
}

/// The one rule: `policy` is the region's (`None` without a provider), `has_totp` whether the
/// officer has a TOTP secret. An officer with one always needs the code.
pub fn local_login(policy: Option<LocalPasswords>, has_totp: bool) -> LocalLogin {
    match (policy, has_totp) {
        (Some(LocalPasswords::Off), _) => LocalLogin::Refused,
        (_, true) => LocalLogin::PasswordAndCode,
        (Some(LocalPasswords::BreakGlass), false) => LocalLogin::Refused,
        (None | Some(LocalPasswords::On), false) => LocalLogin::Password,
    }
}

fn totp(secret: &[u8], account: &str) -> Result<totp_rs::TOTP, String> {
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_vec(),
        Some("Värn".into()),
        account.replace(':', "-"),
    )
    .map_err(|e| format!("TOTP: {e}"))
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    use rand::Rng;
    let bytes: [u8; SECRET_BYTES] = rand::rng().random();
    bytes.to_vec()
}

/// The `otpauth://` address an authenticator app reads (as text or a QR code), and the
/// secret in base32 for typing in.
pub fn enrolment(secret: &[u8], account: &str) -> Result<(String, String), String> {
    let t = totp(secret, account)?;
    Ok((t.get_url(), t.get_secret_base32()))
}

/// The time step `code` is right for at `unix` seconds (this step or one either side), or
/// `None`.
pub fn step_of(secret: &[u8], code: &str, unix: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || unix < 30 {
        return None;
    }
    let t = totp(secret, "check").ok()?;
    let now = unix / 30;
    [now - 1, now, now + 1].into_iter().find(|step| {
        let at = u64::try_from(step * 30).unwrap_or(0);
        crate::auth::ct_eq(t.generate(at).as_bytes(), code.as_bytes())
    })
}

/// The code for `unix` seconds (for tests and the benchmark, which play the authenticator).
pub fn code_at(secret: &[u8], unix: i64) -> Result<String, String> {
    Ok(totp(secret, "code")?.generate(u64::try_from(unix).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_needs_what_to_log_in_locally() {
        use LocalPasswords::*;
        assert_eq!(local_login(None, false), LocalLogin::Password);
        assert_eq!(local_login(None, true), LocalLogin::PasswordAndCode);
        assert_eq!(local_login(Some(On), false), LocalLogin::Password);
        assert_eq!(local_login(Some(On), true), LocalLogin::PasswordAndCode);
        assert_eq!(local_login(Some(BreakGlass), false), LocalLogin::Refused);
        assert_eq!(
            local_login(Some(BreakGlass), true),
            LocalLogin::PasswordAndCode
        );
        assert_eq!(local_login(Some(Off), false), LocalLogin::Refused);
        assert_eq!(local_login(Some(Off), true), LocalLogin::Refused);
    }

    #[test]
    fn a_code_matches_its_step_and_the_ones_beside_it_only() {
        // RFC 6238's test secret and its SHA-1 vector at 59 s: 94287082 (eight digits),
        // so six digits: 287082.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59).unwrap(), "287082");
        assert_eq!(step_of(secret, "287082", 59), Some(1));
        assert_eq!(step_of(secret, "287082", 59 + 30), Some(1), "one step late");
        assert_eq!(step_of(secret, "287082", 59 + 60), None, "two steps late");
        let now = 1_800_000_000;
        let code = code_at(secret, now).unwrap();
        assert_eq!(step_of(secret, &code, now), Some(now / 30));
        assert_eq!(step_of(secret, " 12345", now), None);
        assert_eq!(step_of(secret, "abcdef", now), None);
        assert_eq!(step_of(secret, "", now), None);
        assert_ne!(
            step_of(b"another secret of 20b", &code, now),
            Some(now / 30)
        );
    }

    #[test]
    fn the_enrolment_names_varn_and_the_account() {
        let (url, b32) = enrolment(&new_secret(), "nöd:konto").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains("secret="), "{url}");
        assert_eq!(b32.len(), 32);
    }
}
