//! An update key made for a test, in the form `cargo tauri signer` writes: the public key
//! and signatures are base64 of minisign's text, the trusted comment names the file and the
//! version the signature is bound to.

use base64::Engine;

/// A throwaway update key pair.
pub struct UpdateKey {
    public: minisign::PublicKey,
    secret: minisign::SecretKey,
}

fn b64(text: String) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

impl UpdateKey {
    /// A new key pair.
    pub fn generate() -> UpdateKey {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().expect("key pair");
        UpdateKey {
            public: pair.pk,
            secret: pair.sk,
        }
    }

    /// The public key as the app's updater configuration takes it.
    pub fn public(&self) -> String {
        b64(self.public.to_box().expect("public key box").into_string())
    }

    /// A signature of `bytes` bound to `version` (None: unbound, as an old signer wrote),
    /// as the `.sig` file's text.
    pub fn sign(&self, bytes: &[u8], file: &str, version: Option<&str>) -> String {
        let mut trusted = format!("timestamp:{}\tfile:{file}", chrono::Utc::now().timestamp());
        if let Some(v) = version {
            trusted.push_str("\tversion:");
            trusted.push_str(v);
        }
        let sig = minisign::sign(
            None,
            &self.secret,
            std::io::Cursor::new(bytes),
            Some(&trusted),
            Some("signature from tauri secret key"),
        )
        .expect("sign");
        b64(sig.into_string())
    }

    /// Whether `signature` (the `.sig` text) verifies `bytes` under this key.
    pub fn verifies(&self, bytes: &[u8], signature: &str) -> bool {
        let Ok(text) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
            return false;
        };
        let Ok(sig) = minisign::SignatureBox::from_string(&String::from_utf8_lossy(&text)) else {
            return false;
        };
        minisign::verify(
            &self.public,
            &sig,
            std::io::Cursor::new(bytes),
            true,
            false,
            false,
        )
        .is_ok()
    }
}

/// Stores a release without the checks `release add` makes: what a server given the wrong
/// key, or a database someone wrote into, would offer. For tests of the app's own check.
pub async fn publish_unchecked(
    store: &dyn crate::store::Store,
    version: &str,
    platform: &str,
    bundle: &[u8],
    signature: &str,
) {
    let release = crate::releases::record(
        version.into(),
        platform.into(),
        &format!("Version {version}: rättelser."),
        signature.trim().into(),
        bundle,
        chrono::Utc::now(),
    );
    assert!(store.add_release(&release, bundle).await.expect("stored"));
}
