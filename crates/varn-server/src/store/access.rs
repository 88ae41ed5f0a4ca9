//! The access aggregate: devices, officers, their sessions, and what changes an officer.

use super::*;

/// A device (one person's app) as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// The device's id.
    pub id: Uuid,
    /// Its region.
    pub region_id: String,
    /// The person's name.
    pub name: String,
    /// The person's role.
    pub role: Role,
    /// When it was enrolled.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked device is refused at once.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked it: the region, or the person unlinking the app.
    pub revoked_by: Option<Revoker>,
}

/// Who ended a device's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revoker {
    /// The region (`varn-server revoke`).
    Region,
    /// The person, unlinking the app in its settings.
    Person,
}

impl Revoker {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Revoker::Region => "region",
            Revoker::Person => "person",
        }
    }

    /// From the stored name (rows from before it was recorded were revoked by the region).
    pub fn parse(s: Option<&str>) -> Option<Revoker> {
        match s {
            Some("person") => Some(Revoker::Person),
            Some(_) => Some(Revoker::Region),
            None => None,
        }
    }
}

/// A security officer's login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Officer {
    /// The officer's id.
    pub id: Uuid,
    /// The region whose alarms and reports the officer sees.
    pub region_id: String,
    /// Login name.
    pub username: String,
    /// Name shown on acknowledgements.
    pub display_name: String,
    /// Argon2id hash in PHC format.
    #[serde(skip)]
    pub password_hash: String,
    /// When the login was disabled; a disabled officer cannot log in and has no sessions.
    pub disabled_at: Option<DateTime<Utc>>,
    /// What the officer may do (for one signed in through the region's identity provider,
    /// the role of the session: the provider's groups decide it at each sign-in and renewal).
    pub role: OfficerRole,
    /// The identity provider's subject (`sub`) for an officer it signs in; `None` for a
    /// local login.
    pub subject: Option<String>,
    /// The break-glass account's TOTP secret (RFC 6238), sealed under the server's secret.
    #[serde(skip)]
    pub totp: Option<String>,
}

/// The username of the officer the region's identity provider signs in as `subject`: the
/// provider's name for the person, never a name a local login could have been given (local
/// usernames have no `:`; [`valid_local_username`]).
pub fn provider_username(region_id: &str, subject: &str) -> String {
    format!("oidc:{region_id}:{subject}")
}

/// Whether `username` may be given to a local login: not empty, at most 200 characters, and
/// no `:` (those names are the identity provider's, [`provider_username`]).
pub fn valid_local_username(username: &str) -> bool {
    let u = username.trim();
    !u.is_empty() && u.chars().count() <= 200 && !u.contains(':')
}

/// What an officer may do on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OfficerRole {
    /// Reads alarms and reports and sees the statistics.
    #[serde(rename = "läsare")]
    Reader,
    /// Also acknowledges, writes messages and notes, follows up and exports.
    #[serde(rename = "handläggare")]
    Handler,
}

impl OfficerRole {
    /// The stored (and shown) name.
    pub fn as_str(self) -> &'static str {
        match self {
            OfficerRole::Reader => "läsare",
            OfficerRole::Handler => "handläggare",
        }
    }

    /// From the stored name (the two spellings without marks are accepted on the command line).
    pub fn parse(s: &str) -> Option<OfficerRole> {
        match s.trim() {
            "läsare" | "lasare" => Some(OfficerRole::Reader),
            "handläggare" | "handlaggare" => Some(OfficerRole::Handler),
            _ => None,
        }
    }

    /// Whether the role may change anything: acknowledge, write, follow up, export. The one
    /// rule the server's routes and the dashboard's buttons follow.
    pub fn may_act(self) -> bool {
        self == OfficerRole::Handler
    }
}

/// How a session was signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedInBy {
    /// A local username and password.
    Password,
    /// The region's identity provider (OpenID Connect).
    Provider,
    /// The break-glass account: password and TOTP.
    BreakGlass,
}

impl SignedInBy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignedInBy::Password => "password",
            SignedInBy::Provider => "oidc",
            SignedInBy::BreakGlass => "break_glass",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> SignedInBy {
        match s {
            "oidc" => SignedInBy::Provider,
            "break_glass" => SignedInBy::BreakGlass,
            _ => SignedInBy::Password,
        }
    }
}

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Whose.
    pub officer_id: Uuid,
    /// What it may do.
    pub role: OfficerRole,
    /// How it was signed in.
    pub by: SignedInBy,
    /// When it ends however much it is used.
    pub expires_at: DateTime<Utc>,
    /// When it must be renewed through the identity provider (its sessions only).
    pub renew_at: Option<DateTime<Utc>>,
    /// The provider's refresh token, sealed under the server's secret.
    pub refresh: Option<String>,
}

/// A dashboard session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose.
    pub officer: Officer,
    /// When it ends however much it is used.
    pub expires_at: DateTime<Utc>,
    /// When it was signed in.
    pub created_at: DateTime<Utc>,
    /// When the dashboard was last seen using it.
    pub last_seen_at: DateTime<Utc>,
    /// How it was signed in.
    pub by: SignedInBy,
    /// When it must be renewed through the identity provider.
    pub renew_at: Option<DateTime<Utc>>,
    /// The provider's refresh token, sealed.
    pub refresh: Option<String>,
}

/// A change to an officer's login. Each one but [`OfficerChange::Enable`] ends the officer's
/// sessions in the same transaction, so an open dashboard is logged out at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficerChange {
    /// No more logins, from `at`.
    Disable(DateTime<Utc>),
    /// Logins again.
    Enable,
    /// A new password (its Argon2id hash).
    Password(String),
    /// A new role.
    Role(OfficerRole),
    /// The break-glass TOTP secret (sealed), or none.
    Totp(Option<String>),
    /// The login removed (what the officer did stays in the timelines, by name).
    Remove,
}

/// Devices, enrollment, officers and their sessions.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Stores a new enrollment code (as its hash).
    async fn create_enrollment(
        &self,
        region_id: &str,
        name: &str,
        role: Role,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Redeems a code (stored under one of `code_hashes`): creates the device with the
    /// token's hash and marks the code used.
    async fn enroll(
        &self,
        code_hashes: &[String],
        token_hash: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError>;

    /// The device a token hash belongs to (revoked ones included; the caller checks).
    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError>;

    /// Revokes a device; returns whether it existed and was not revoked already.
    async fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        by: Revoker,
    ) -> Result<bool, StoreError>;

    /// All devices, or those of one region.
    async fn devices(&self, region_id: Option<&str>) -> Result<Vec<Device>, StoreError>;

    /// Proves the database answers (a trivial read).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates an officer login.
    async fn create_officer(&self, officer: &Officer, now: DateTime<Utc>)
        -> Result<(), StoreError>;

    /// Looks up an officer by login name.
    async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, StoreError>;

    /// The officers of a region, by username.
    async fn officers(&self, region_id: &str) -> Result<Vec<Officer>, StoreError>;

    /// Stores a dashboard session (as the token's hash).
    async fn create_session(
        &self,
        token_hash: &str,
        session: &NewSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Takes the renewal of a session that is due (its `renew_at` at or before `now`) for
    /// this request alone, on every instance: sets `renew_at` to `hold_until` and returns
    /// true, or false when it is not due (another request took it, or renewed it already).
    async fn claim_renewal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a renewal through the identity provider: the role it gave, when to renew
    /// next, the new refresh token and the session's end. Returns whether the session exists.
    async fn renew_session(
        &self,
        token_hash: &str,
        role: OfficerRole,
        renew_at: DateTime<Utc>,
        refresh: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The officer the region's identity provider signs in as `subject`, made on the first
    /// sign-in (named `display_name`, which later sign-ins keep up to date).
    async fn provider_officer(
        &self,
        region_id: &str,
        subject: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Officer, StoreError>;

    /// Takes TOTP time step `step` for the officer: true only if no step as late was used
    /// before (a code is good once).
    async fn use_totp_step(&self, officer_id: Uuid, step: i64) -> Result<bool, StoreError>;

    /// A session by its token's hash, if it exists (the caller applies [`session_live`]).
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;

    /// Marks a session as seen at `now`.
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Changes an officer's login (and ends their sessions unless enabling). Returns the
    /// officer as it was, or `None` when there is no such username.
    async fn change_officer(
        &self,
        username: &str,
        change: &OfficerChange,
    ) -> Result<Option<Officer>, StoreError>;

    /// Sets what the person wants responders to know, shown with their alarms.
    async fn set_instructions(&self, device: Uuid, text: &str) -> Result<(), StoreError>;
}
