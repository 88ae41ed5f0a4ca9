//! A device and its region: the role, enrolling, who it is, the app's update offer, the enrollment code's form.

use super::*;

/// What a person does in the region's eyes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// An elected official.
    #[serde(rename = "förtroendevald")]
    Fortroendevald,
}

impl Role {
    /// Parses the role as typed on the command line (with or without Swedish letters).
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_lowercase().as_str() {
            "förtroendevald" | "fortroendevald" => Some(Role::Fortroendevald),
            _ => None,
        }
    }

    /// The role's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fortroendevald => "förtroendevald",
        }
    }
}

/// `POST /v1/enroll`: exchange a one-time enrollment code for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The code the region handed out, e.g. `K7QM-2XHD` (case and dashes do not matter).
    #[cfg_attr(feature = "openapi", schema(examples("K7QM-2XHD")))]
    pub code: String,
}

/// The answer to an enrollment: the device's identity and its secret token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// The device's id on the server.
    pub device_id: Uuid,
    /// Bearer token for every later request; shown once, stored only as a hash on the server.
    pub token: String,
    /// The region the device belongs to.
    pub region_id: String,
    /// The person's name as the region enrolled it.
    pub name: String,
    /// The person's role.
    pub role: Role,
    /// The key the region signs its profile with (`ed25519:…`), when it does: an app that
    /// has no key for the region shows its fingerprint to compare with the region's letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_key: Option<String>,
}

/// `GET /v1/me`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    /// The device's id.
    pub device_id: Uuid,
    /// The region.
    pub region_id: String,
    /// The person's name.
    pub name: String,
    /// The person's role.
    pub role: Role,
}

/// `GET /v1/app/update`: the path the app's updater asks (with the device's token).
pub const UPDATE_PATH: &str = "/v1/app/update";
/// `GET /v1/app/bundles/{version}`: a published bundle's bytes.
pub const BUNDLE_PATH_PREFIX: &str = "/v1/app/bundles/";
/// The bundle route, [`BUNDLE_PATH_PREFIX`] and `{version}/{platform}` (the platform is
/// `target-arch-bundle_type`).
pub const BUNDLE_PATH: &str = "/v1/app/bundles/{version}/{platform}";

/// `GET /v1/app/update`: a newer release of the app, in the form the Tauri updater reads.
/// The server answers 204 when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateOffer {
    /// The release's version (semantic versioning), which its signature is bound to.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::version))]
    pub version: String,
    /// What changed, in the region's words.
    pub notes: String,
    /// When it was published (RFC 3339).
    pub pub_date: String,
    /// Where the bundle is, on the same server.
    pub url: String,
    /// The bundle's minisign signature (the `.sig` file's text).
    pub signature: String,
}

/// Normalises an enrollment code as typed: upper case, no spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
