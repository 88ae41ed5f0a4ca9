//! Region profiles signed by the region. The profile decides what the person reads and whom
//! they call, so whoever controls a server (or a minute at the laptop) must not be able to
//! change it: a region signs its profile offline with its own Ed25519 key, and the app adopts
//! a profile only when the signature verifies with a key it trusts for that region, the region
//! is the one it is linked to and the version is higher — but not absurdly higher (a profile
//! numbered 4294967295 would shut out every later one).
//!
//! A signed profile carries the profile's JSON as the exact text that was signed, so a newer
//! app that reads the profile differently still checks the same bytes. A region replaces its
//! key with a [`Rotation`] statement signed by the old key; the new key is then trusted and
//! the old one retired.

use base64::Engine;
use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::profile::{Profile, ProfileError};

/// The `format` of a signed profile.
pub const FORMAT: &str = "varn-signed-profile-v1";
/// What a profile signature covers, before the profile's bytes.
const PROFILE_CONTEXT: &[u8] = b"varn-profile-v1\0";
/// What a rotation signature covers, before the region and the keys.
const ROTATION_CONTEXT: &[u8] = b"varn-key-rotation-v1\0";
/// The first line of a secret key file.
const SECRET_HEADER: &str = "varn-profile-signing-key-v1";
/// How far one profile's version may jump past the one in use.
pub const MAX_VERSION_STEP: u32 = 1000;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// A region's public key, written `ed25519:<base64url>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Reads the text form.
    pub fn parse(text: &str) -> Result<PublicKey, TrustError> {
        let bad = || TrustError::BadKey(text.chars().take(80).collect());
        let b = text.trim().strip_prefix("ed25519:").ok_or_else(bad)?;
        let bytes: [u8; 32] = b64()
            .decode(b)
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
        Ok(PublicKey(bytes))
    }

    /// The text form.
    pub fn encode(&self) -> String {
        format!("ed25519:{}", b64().encode(self.0))
    }

    /// What a person compares with the region's letter: the first 16 bytes of the key's
    /// SHA-256 in eight groups of four hex digits, e.g. `3F2A 91C0 …`.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0);
        digest[..16]
            .chunks(2)
            .map(|c| format!("{:02X}{:02X}", c[0], c[1]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn verify(&self, context: &[u8], message: &[u8], signature: &str) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let Ok(sig) = b64().decode(signature) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) else {
            return false;
        };
        let mut signed = context.to_vec();
        signed.extend_from_slice(message);
        key.verify_strict(&signed, &sig).is_ok()
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

/// A region's secret signing key. It stays with the region, offline; only [`PublicKey`]s are
/// built into apps or handed out.
pub struct SecretKey(ed25519_dalek::SigningKey);

impl SecretKey {
    /// A key from 32 random bytes.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Its public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// The key file's text (keep it offline, readable by its owner only).
    pub fn to_file_text(&self) -> String {
        format!(
            "{SECRET_HEADER}\n{}\n{}\n",
            b64().encode(self.0.to_bytes()),
            self.public().encode()
        )
    }

    /// Reads a key file written by [`SecretKey::to_file_text`].
    pub fn from_file_text(text: &str) -> Result<SecretKey, TrustError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(SECRET_HEADER) {
            return Err(TrustError::BadKey(format!(
                "not a Värn signing key (the first line must be {SECRET_HEADER})"
            )));
        }
        let seed: [u8; 32] = lines
            .next()
            .and_then(|l| b64().decode(l).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| TrustError::BadKey("the key's second line is not 32 bytes".into()))?;
        Ok(SecretKey::from_seed(seed))
    }

    fn sign(&self, context: &[u8], message: &[u8]) -> String {
        let mut signed = context.to_vec();
        signed.extend_from_slice(message);
        b64().encode(self.0.sign(&signed).to_bytes())
    }
}

/// A region's statement that `to` replaces `from`, signed by `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The region.
    pub region: String,
    /// The key being replaced.
    pub from: String,
    /// The key replacing it.
    pub to: String,
    /// By `from`, over the region and both keys.
    pub signature: String,
}

impl Rotation {
    fn message(region: &str, from: &str, to: &str) -> Vec<u8> {
        format!("{region}\0{from}\0{to}").into_bytes()
    }

    /// `old` hands `region` over to `new`.
    pub fn sign(region: &str, old: &SecretKey, new: &PublicKey) -> Rotation {
        let (from, to) = (old.public().encode(), new.encode());
        let signature = old.sign(ROTATION_CONTEXT, &Self::message(region, &from, &to));
        Rotation {
            region: region.to_string(),
            from,
            to,
            signature,
        }
    }

    /// Whether `from` really signed it.
    fn verified(&self) -> Result<(PublicKey, PublicKey), TrustError> {
        let from = PublicKey::parse(&self.from)?;
        let to = PublicKey::parse(&self.to)?;
        if from.verify(
            ROTATION_CONTEXT,
            &Self::message(&self.region, &self.from, &self.to),
            &self.signature,
        ) {
            Ok((from, to))
        } else {
            Err(TrustError::BadRotation(from.fingerprint()))
        }
    }
}

/// A profile as a region publishes it: the profile's JSON exactly as signed, the key that
/// signed it and the signature; and, when the region changed keys, the rotations leading to
/// that key. An unsigned one (the embedded default a server falls back to) has an empty key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedProfile {
    /// [`FORMAT`].
    pub format: String,
    /// The profile's canonical JSON, as signed.
    pub profile: String,
    /// The key that signed it (`ed25519:…`), empty when unsigned.
    #[serde(default)]
    pub key: String,
    /// The signature, empty when unsigned.
    #[serde(default)]
    pub signature: String,
    /// Key rotations, oldest first, ending at `key`.
    #[serde(default)]
    pub rotations: Vec<Rotation>,
}

impl SignedProfile {
    /// Signs a (valid) profile with the region's key.
    pub fn sign(profile: &Profile, key: &SecretKey, rotations: Vec<Rotation>) -> SignedProfile {
        let json = profile.to_json();
        SignedProfile {
            format: FORMAT.into(),
            signature: key.sign(PROFILE_CONTEXT, json.as_bytes()),
            key: key.public().encode(),
            profile: json,
            rotations,
        }
    }

    /// A profile without a signature (which no app adopts as an update).
    pub fn unsigned(profile: &Profile) -> SignedProfile {
        SignedProfile {
            format: FORMAT.into(),
            profile: profile.to_json(),
            key: String::new(),
            signature: String::new(),
            rotations: Vec::new(),
        }
    }

    /// Reads a signed profile's JSON.
    pub fn parse(text: &str) -> Result<SignedProfile, TrustError> {
        let s: SignedProfile =
            serde_json::from_str(text).map_err(|e| TrustError::NotSigned(e.to_string()))?;
        if s.format != FORMAT {
            return Err(TrustError::NotSigned(format!(
                "format \"{}\" (this Värn reads {FORMAT})",
                s.format
            )));
        }
        Ok(s)
    }

    /// Reads what a region hands over: a signed profile, or a plain profile (TOML, or JSON
    /// as the app and server store it), which comes back unsigned. A plain profile's errors
    /// name the field.
    pub fn read_any(text: &str) -> Result<SignedProfile, TrustError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            let is_envelope = serde_json::from_str::<serde_json::Value>(trimmed)
                .is_ok_and(|v| v.get("format").is_some());
            if is_envelope {
                let signed = SignedProfile::parse(trimmed)?;
                signed.profile()?;
                return Ok(signed);
            }
            let p = Profile::from_json(trimmed).map_err(TrustError::Invalid)?;
            return Ok(SignedProfile::unsigned(&p));
        }
        let p = Profile::from_toml(text).map_err(TrustError::Invalid)?;
        Ok(SignedProfile::unsigned(&p))
    }

    /// Whether it carries a signature (verified or not).
    pub fn is_signed(&self) -> bool {
        !self.key.is_empty() || !self.signature.is_empty()
    }

    /// Its JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The profile inside, parsed and validated, whatever its signature (to show or check).
    pub fn profile(&self) -> Result<Profile, TrustError> {
        Profile::from_json(&self.profile).map_err(TrustError::Invalid)
    }

    /// The key that signed it, when the signature verifies over the profile's exact bytes.
    pub fn verified_key(&self) -> Result<PublicKey, TrustError> {
        if self.key.is_empty() || self.signature.is_empty() {
            return Err(TrustError::Unsigned);
        }
        let key = PublicKey::parse(&self.key)?;
        if key.verify(PROFILE_CONTEXT, self.profile.as_bytes(), &self.signature) {
            Ok(key)
        } else {
            Err(TrustError::BadSignature(key.fingerprint()))
        }
    }
}

/// Why a profile (or a key) is not trusted. Each says what is wrong in words a person or a
/// region's administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// It is not a signed profile at all.
    #[error("profilen är inte signerad av regionen ({0})")]
    NotSigned(String),
    /// It carries no signature.
    #[error("profilen saknar regionens signatur")]
    Unsigned,
    /// The signature does not match the profile (it was changed after signing).
    #[error("signaturen stämmer inte med profilen (nyckel {0}): profilen har ändrats efter att den signerades")]
    BadSignature(String),
    /// A key is not a key.
    #[error("ogiltig nyckel: {0}")]
    BadKey(String),
    /// The key is not one this app trusts for the region.
    #[error("profilen är signerad med en nyckel som Värn inte litar på för regionen \"{region}\" (fingeravtryck {fingerprint})")]
    UnknownKey {
        /// The region.
        region: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// A rotation statement is not signed by the key it replaces.
    #[error("nyckelbytet är inte signerat av den gamla nyckeln ({0})")]
    BadRotation(String),
    /// The profile is for another region than the one the app is linked to.
    #[error("profilen gäller \"{got}\", men Värn är kopplat till \"{linked}\"")]
    OtherRegion {
        /// The profile's region.
        got: String,
        /// The app's region.
        linked: String,
    },
    /// The version jumps too far.
    #[error("versionen hoppar från {from} till {to} (högst {MAX_VERSION_STEP} åt gången)")]
    VersionJump {
        /// The version in use.
        from: u32,
        /// The offered one.
        to: u32,
    },
    /// The profile inside is not valid.
    #[error(transparent)]
    Invalid(ProfileError),
}

impl TrustError {
    /// A stable name for the reason (for notes and logs).
    pub fn kind(&self) -> &'static str {
        match self {
            TrustError::NotSigned(_) | TrustError::Unsigned => "unsigned",
            TrustError::BadSignature(_) => "bad_signature",
            TrustError::BadKey(_) => "bad_key",
            TrustError::UnknownKey { .. } => "unknown_key",
            TrustError::BadRotation(_) => "bad_rotation",
            TrustError::OtherRegion { .. } => "other_region",
            TrustError::VersionJump { .. } => "version_jump",
            TrustError::Invalid(_) => "invalid",
        }
    }
}

/// A key trusted for a region, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// The region.
    pub region: String,
    /// The key.
    pub key: PublicKey,
}

/// The keys an app (or a server) trusts: per region, and the keys retired by rotations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    /// Trusted keys.
    pub keys: Vec<TrustedKey>,
    /// Keys a rotation replaced: never trusted again, even if built in.
    pub retired: Vec<PublicKey>,
}

impl TrustStore {
    /// Whether `key` is trusted for `region`.
    pub fn trusts(&self, region: &str, key: &PublicKey) -> bool {
        !self.retired.contains(key)
            && self
                .keys
                .iter()
                .any(|k| k.region == region && k.key == *key)
    }

    /// Whether any key is trusted for `region`.
    pub fn knows(&self, region: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.region == region && !self.retired.contains(&k.key))
    }
}

/// The keys built into this build (`profiles/keys.toml`), by region.
pub fn built_in_keys() -> Result<Vec<TrustedKey>, TrustError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        regions: std::collections::BTreeMap<String, Vec<String>>,
    }
    let file: File = toml::from_str(crate::profile::BUILT_IN_KEYS_TOML)
        .map_err(|e| TrustError::BadKey(format!("profiles/keys.toml: {e}")))?;
    let mut out = Vec::new();
    for (region, keys) in file.regions {
        for k in keys {
            out.push(TrustedKey {
                region: region.clone(),
                key: PublicKey::parse(&k)?,
            });
        }
    }
    Ok(out)
}

/// What adopting a profile brings besides the profile: keys a rotation made trusted and the
/// keys it retired (to be remembered).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyChanges {
    /// Newly trusted.
    pub trusted: Vec<TrustedKey>,
    /// Retired.
    pub retired: Vec<PublicKey>,
}

/// What to do with an offered profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Adopt it (and remember the key changes).
    Adopt(Box<Profile>, KeyChanges),
    /// Valid and trusted, but not newer than the one in use: nothing to do.
    NotNewer,
}

/// The rule: `offered` replaces `current` (the profile in use, for `region` — the region the
/// app is linked to, or the current profile's when it is not linked) when its signature
/// verifies with a key trusted for that region (directly, or through rotations from a trusted
/// key), it is for that region, it is valid, and its version is higher — by at most
/// [`MAX_VERSION_STEP`]. When `current` is another region's profile (the app was just linked
/// to a new region), any trusted version of the region's profile replaces it.
pub fn judge(
    current: &Profile,
    region: &str,
    offered: &SignedProfile,
    trust: &TrustStore,
) -> Result<Verdict, TrustError> {
    // Not newer than the one in use (same region): nothing to adopt, signed or not, and
    // nothing to say — a server that still serves the profile built into the app is no
    // attack. Everything else is checked in full before a word of it is believed.
    if let Ok(p) = offered.profile() {
        if p.region.id == region && current.region.id == region && p.version <= current.version {
            return Ok(Verdict::NotNewer);
        }
    }
    let signer = offered.verified_key()?;
    let profile = offered.profile()?;
    if profile.region.id != region {
        return Err(TrustError::OtherRegion {
            got: profile.region.id,
            linked: region.to_string(),
        });
    }
    let changes = trust_chain(region, &signer, &offered.rotations, trust)?;
    if current.region.id != region {
        return Ok(Verdict::Adopt(Box::new(profile), changes));
    }
    if profile.version <= current.version {
        return Ok(Verdict::NotNewer);
    }
    if profile.version - current.version > MAX_VERSION_STEP {
        return Err(TrustError::VersionJump {
            from: current.version,
            to: profile.version,
        });
    }
    Ok(Verdict::Adopt(Box::new(profile), changes))
}

/// Whether `signer` is trusted for `region`, directly or through `rotations` that start at a
/// trusted key and end at `signer`; the key changes that brings.
fn trust_chain(
    region: &str,
    signer: &PublicKey,
    rotations: &[Rotation],
    trust: &TrustStore,
) -> Result<KeyChanges, TrustError> {
    if trust.trusts(region, signer) {
        return Ok(KeyChanges::default());
    }
    let unknown = || TrustError::UnknownKey {
        region: region.to_string(),
        fingerprint: signer.fingerprint(),
    };
    // Find the last rotation from a trusted key, then follow the chain to the signer.
    let start = rotations
        .iter()
        .rposition(|r| {
            r.region == region && PublicKey::parse(&r.from).is_ok_and(|k| trust.trusts(region, &k))
        })
        .ok_or_else(unknown)?;
    let mut changes = KeyChanges::default();
    let mut at: Option<PublicKey> = None;
    for r in &rotations[start..] {
        if r.region != region {
            return Err(unknown());
        }
        let (from, to) = r.verified()?;
        if let Some(prev) = at {
            if prev != from {
                return Err(unknown());
            }
        }
        changes.retired.push(from);
        at = Some(to);
    }
    if at != Some(*signer) {
        return Err(unknown());
    }
    changes.trusted.push(TrustedKey {
        region: region.to_string(),
        key: *signer,
    });
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed([n; 32])
    }

    fn profile(version: u32) -> Profile {
        let mut p = Profile::embedded_default().unwrap();
        p.version = version;
        p
    }

    fn trusting(region: &str, k: &SecretKey) -> TrustStore {
        TrustStore {
            keys: vec![TrustedKey {
                region: region.into(),
                key: k.public(),
            }],
            retired: Vec::new(),
        }
    }

    #[test]
    fn a_trusted_newer_profile_is_adopted_and_the_same_or_older_is_not() {
        let k = key(1);
        let trust = trusting("sormland", &k);
        let current = profile(5);
        let v6 = SignedProfile::sign(&profile(6), &k, Vec::new());
        match judge(&current, "sormland", &v6, &trust).unwrap() {
            Verdict::Adopt(p, changes) => {
                assert_eq!(p.version, 6);
                assert_eq!(changes, KeyChanges::default());
            }
            v => panic!("{v:?}"),
        }
        for v in [4, 5] {
            let s = SignedProfile::sign(&profile(v), &k, Vec::new());
            assert_eq!(
                judge(&current, "sormland", &s, &trust).unwrap(),
                Verdict::NotNewer
            );
        }
        // Through its JSON, as it travels.
        let again = SignedProfile::parse(&v6.to_json()).unwrap();
        assert!(matches!(
            judge(&current, "sormland", &again, &trust),
            Ok(Verdict::Adopt(..))
        ));
    }

    #[test]
    fn a_profile_not_newer_is_ignored_quietly_however_it_is_signed() {
        let trust = trusting("sormland", &key(1));
        let current = profile(5);
        for offered in [
            SignedProfile::unsigned(&profile(5)),
            SignedProfile::unsigned(&profile(2)),
            SignedProfile::sign(&profile(4), &key(9), Vec::new()),
        ] {
            assert_eq!(
                judge(&current, "sormland", &offered, &trust).unwrap(),
                Verdict::NotNewer
            );
        }
    }

    #[test]
    fn tampered_unsigned_wrongly_signed_other_region_and_version_jump_are_refused() {
        let k = key(1);
        let trust = trusting("sormland", &k);
        let current = profile(5);
        let judge_kind =
            |s: &SignedProfile| judge(&current, "sormland", s, &trust).unwrap_err().kind();

        // Tampered: 112 moved to another number after signing.
        let mut tampered = SignedProfile::sign(&profile(6), &k, Vec::new());
        tampered.profile = tampered.profile.replace("\"112\"", "\"0701234567\"");
        assert_eq!(judge_kind(&tampered), "bad_signature");
        assert_eq!(
            judge_kind(&SignedProfile::unsigned(&profile(6))),
            "unsigned"
        );
        let stranger = SignedProfile::sign(&profile(6), &key(9), Vec::new());
        let e = judge(&current, "sormland", &stranger, &trust).unwrap_err();
        assert_eq!(e.kind(), "unknown_key");
        assert!(
            e.to_string().contains(&key(9).public().fingerprint()),
            "{e}"
        );
        let mut other = profile(6);
        other.region.id = "uppsala".into();
        assert_eq!(
            judge_kind(&SignedProfile::sign(&other, &k, Vec::new())),
            "other_region"
        );
        let jump = SignedProfile::sign(&profile(u32::MAX), &k, Vec::new());
        let e = judge(&current, "sormland", &jump, &trust).unwrap_err();
        assert_eq!(e.kind(), "version_jump");
        assert!(e.to_string().contains("4294967295"), "{e}");
        let step = SignedProfile::sign(&profile(5 + MAX_VERSION_STEP), &k, Vec::new());
        assert!(matches!(
            judge(&current, "sormland", &step, &trust),
            Ok(Verdict::Adopt(..))
        ));
        assert!(SignedProfile::parse("{\"profile\": 1}").is_err());
    }

    #[test]
    fn a_rotation_signed_by_the_old_key_hands_the_region_over() {
        let (old, new, third) = (key(1), key(2), key(3));
        let trust = trusting("sormland", &old);
        let current = profile(5);
        let rotated = SignedProfile::sign(
            &profile(6),
            &new,
            vec![Rotation::sign("sormland", &old, &new.public())],
        );
        match judge(&current, "sormland", &rotated, &trust).unwrap() {
            Verdict::Adopt(_, changes) => {
                assert_eq!(changes.trusted[0].key, new.public());
                assert_eq!(changes.retired, vec![old.public()]);
            }
            v => panic!("{v:?}"),
        }
        // A chain of two.
        let two = SignedProfile::sign(
            &profile(6),
            &third,
            vec![
                Rotation::sign("sormland", &old, &new.public()),
                Rotation::sign("sormland", &new, &third.public()),
            ],
        );
        assert!(matches!(
            judge(&current, "sormland", &two, &trust),
            Ok(Verdict::Adopt(..))
        ));
        // A rotation the old key did not sign, or for another region, is no rotation.
        let mut forged = Rotation::sign("sormland", &old, &new.public());
        forged.to = third.public().encode();
        let bad = SignedProfile::sign(&profile(6), &third, vec![forged]);
        assert_eq!(
            judge(&current, "sormland", &bad, &trust)
                .unwrap_err()
                .kind(),
            "bad_rotation"
        );
        let elsewhere = SignedProfile::sign(
            &profile(6),
            &new,
            vec![Rotation::sign("uppsala", &old, &new.public())],
        );
        assert_eq!(
            judge(&current, "sormland", &elsewhere, &trust)
                .unwrap_err()
                .kind(),
            "unknown_key"
        );
        // A retired key is not trusted again.
        let mut after = trust.clone();
        after.retired.push(old.public());
        let by_old = SignedProfile::sign(&profile(7), &old, Vec::new());
        assert_eq!(
            judge(&current, "sormland", &by_old, &after)
                .unwrap_err()
                .kind(),
            "unknown_key"
        );
    }

    #[test]
    fn a_newly_linked_regions_profile_replaces_another_regions_whatever_its_version() {
        let k = key(4);
        let trust = trusting("exempel", &k);
        let mut theirs = profile(1);
        theirs.region.id = "exempel".into();
        let s = SignedProfile::sign(&theirs, &k, Vec::new());
        assert!(matches!(
            judge(&profile(7), "exempel", &s, &trust),
            Ok(Verdict::Adopt(..))
        ));
        // And an app linked to Sörmland refuses it.
        assert_eq!(
            judge(&profile(7), "sormland", &s, &trust)
                .unwrap_err()
                .kind(),
            "other_region"
        );
    }

    #[test]
    fn a_plain_or_signed_profile_is_read_and_a_broken_one_named() {
        let p = profile(3);
        let from_toml = SignedProfile::read_any(crate::profile::DEFAULT_PROFILE_TOML).unwrap();
        assert!(!from_toml.is_signed());
        let from_json = SignedProfile::read_any(&p.to_json()).unwrap();
        assert_eq!(from_json.profile().unwrap().version, 3);
        let signed = SignedProfile::sign(&p, &key(1), Vec::new());
        let again = SignedProfile::read_any(&signed.to_json()).unwrap();
        assert!(again.is_signed() && again.verified_key().is_ok());
        let broken = crate::profile::DEFAULT_PROFILE_TOML.replace("version = 2", "version = \"x\"");
        let e = SignedProfile::read_any(&broken).unwrap_err();
        assert!(e.to_string().contains("version"), "{e}");
    }

    #[test]
    fn the_built_in_keys_parse_and_sormland_has_one() {
        let keys = built_in_keys().unwrap();
        let sormland: Vec<_> = keys.iter().filter(|k| k.region == "sormland").collect();
        assert_eq!(sormland.len(), 1);
        // The fingerprint written beside it is its own.
        assert!(crate::profile::BUILT_IN_KEYS_TOML.contains(&sormland[0].key.fingerprint()));
    }

    #[test]
    fn keys_round_trip_and_fingerprints_are_readable() {
        let k = key(7);
        let again = SecretKey::from_file_text(&k.to_file_text()).unwrap();
        assert_eq!(again.public(), k.public());
        assert_eq!(PublicKey::parse(&k.public().encode()).unwrap(), k.public());
        let fp = k.public().fingerprint();
        assert_eq!(fp.len(), 8 * 4 + 7, "{fp}");
        assert!(PublicKey::parse("ed25519:AAAA").is_err());
        assert!(PublicKey::parse("rsa:xyz").is_err());
        assert!(SecretKey::from_file_text("hello").is_err());
    }
}
