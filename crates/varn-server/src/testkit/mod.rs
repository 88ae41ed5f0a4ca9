//! Helpers for tests and benchmarks: the real server on `127.0.0.1:0` with a real SQLite
//! file in a temporary directory (or, with `VARN_TEST_DATABASE=postgres`, a database of its
//! own in a throwaway PostgreSQL), enrollment and officer logins without the CLI, and a TCP
//! proxy that injects network faults.

pub mod attack;
pub mod device;
mod http;
pub mod nginx;
pub mod oidc;
pub mod pg;
pub mod process;
pub mod proxy;
pub mod sia;
pub mod update_key;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;
use varn_core::profile::Profile;
use varn_core::signing::{SecretKey, SignedProfile};
use varn_core::wire::{normalize_code, EnrollResponse, Role};

use crate::auth::{self, ServerSecret};
use crate::clock::{Clock, SystemClock};
use crate::escalation::{Contact, Escalation, RecordingNotifier};
use crate::front::Front;
use crate::limits::Limits;
use crate::server::{self, Parts, Running};
use crate::store::{Database, DatabaseAccess, Officer, Store};

/// A running server with its own database.
pub struct TestServer {
    /// The server.
    pub running: Running,
    /// Its storage (the same the server uses).
    pub store: Arc<dyn Store>,
    /// Its clock.
    pub clock: Arc<dyn Clock>,
    /// Its database (a SQLite file or a PostgreSQL URL).
    pub database: Database,
    /// Escalation alerts, recorded instead of mailed ([`ESCALATION_LIST`] for Sörmland).
    pub notifier: Arc<RecordingNotifier>,
    _dir: Option<tempfile::TempDir>,
}

/// The escalation list a test server has for Sörmland: (name, e-mail), in order.
pub const ESCALATION_LIST: [(&str, &str); 2] = [
    ("Jourhavande säkerhetschef", "jour1@example.se"),
    ("Regiondirektör", "jour2@example.se"),
];

/// A client for tests: a cookie store (for dashboard sessions) and a 30 s timeout.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Officer password used by [`TestServer::add_officer`].
pub const OFFICER_PASSWORD: &str = "säkerhet-är-viktigt";

/// The server secret every test server uses (so that a restarted or second instance, and a
/// `varn-server` process given it as `VARN_SERVER_SECRET`, accept the same codes).
pub const TEST_SECRET: &str = "dGVzdC1vbmx5LXNlY3JldC1ub3QtZm9yLXJlZ2lvbnM";

/// The embedded default profile, unsigned, as a server without `--profile` serves it.
pub fn embedded_unsigned() -> SignedProfile {
    SignedProfile::unsigned(&Profile::embedded_default().expect("the embedded profile"))
}

/// A signing key for a region in tests, the same in every test and process (derived from the
/// region's id): tests sign profiles with it, and debug builds of the app can be told to trust
/// it (`VARN_DEV_PROFILE_KEYS`). Never a region's real key.
pub fn test_region_key(region: &str) -> SecretKey {
    use sha2::{Digest, Sha256};
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"varn-test-region-key:")
        .chain_update(region.as_bytes())
        .finalize()
        .into();
    SecretKey::from_seed(seed)
}

/// `profile` signed with its region's [`test_region_key`].
pub fn signed_for_tests(profile: &Profile) -> SignedProfile {
    SignedProfile::sign(profile, &test_region_key(&profile.region.id), Vec::new())
}

/// The second region of the tests (clearly test data): its profile, parsed and validated.
pub fn example_region_profile() -> Profile {
    Profile::from_toml(EXAMPLE_REGION_TOML).expect("the example region's profile is valid")
}

/// The second region's profile as a region would write it.
pub const EXAMPLE_REGION_TOML: &str =
    include_str!("../../../varn-core/profiles/fixtures/region-exempel.toml");

/// [`TEST_SECRET`] decoded.
pub fn test_secret() -> ServerSecret {
    ServerSecret::decode(TEST_SECRET).expect("the test secret decodes")
}

impl TestServer {
    /// Publishes a signed profile as `varn-server profile publish` does (checked against
    /// what the region is served now) and has this instance serve it at once.
    pub async fn publish(&self, signed: &SignedProfile) -> Result<(), String> {
        let configured: Vec<SignedProfile> = self
            .running
            .state
            .regions()
            .iter()
            .filter_map(|r| self.running.state.profile(r))
            .filter_map(|s| SignedProfile::parse(&s.json).ok())
            .collect();
        crate::profiles::publish(self.store.as_ref(), &configured, signed, self.clock.now())
            .await?;
        crate::profiles::refresh(&self.running.state)
            .await
            .map_err(|e| e.to_string())
    }

    /// Starts on a free loopback port with a new database and the embedded profile.
    pub async fn start() -> TestServer {
        Self::start_with(Arc::new(SystemClock)).await
    }

    /// Starts with a given clock.
    pub async fn start_with(clock: Arc<dyn Clock>) -> TestServer {
        if postgres_wanted() {
            let url = pg::cluster().fresh_database().await;
            return Self::start_at(Database::Postgres(url), clock, None).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("server.db");
        let mut s = Self::start_at(database, clock, None).await;
        s._dir = Some(dir);
        s
    }

    /// Starts on an existing database (a restart, or a second instance), optionally on a
    /// given address.
    pub async fn start_at(
        database: impl Into<Database>,
        clock: Arc<dyn Clock>,
        addr: Option<std::net::SocketAddr>,
    ) -> TestServer {
        Self::start_serving(database, clock, addr, vec![embedded_unsigned()]).await
    }

    /// Starts on an existing database file serving these region profiles (served as given:
    /// a test may hand out one the app must refuse).
    pub async fn start_serving(
        database: impl Into<Database>,
        clock: Arc<dyn Clock>,
        addr: Option<std::net::SocketAddr>,
        profiles: Vec<SignedProfile>,
    ) -> TestServer {
        Self::start_limited(database, clock, addr, profiles, Limits::default()).await
    }

    /// Starts with a new database (PostgreSQL when the tests run on it) serving these region
    /// profiles on this clock: a deployment of several regions.
    pub async fn start_regions(profiles: Vec<SignedProfile>, clock: Arc<dyn Clock>) -> TestServer {
        if postgres_wanted() {
            let url = pg::cluster().fresh_database().await;
            return Self::start_serving(Database::Postgres(url), clock, None, profiles).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("server.db");
        let mut s = Self::start_serving(database, clock, None, profiles).await;
        s._dir = Some(dir);
        s
    }

    /// Starts with a new database and these limits (benchmarks lift the device quotas with
    /// [`Limits::for_load_benchmarks`]; the server logs what is weaker than the default).
    pub async fn start_with_limits(limits: Limits) -> TestServer {
        let profiles = vec![embedded_unsigned()];
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        if postgres_wanted() {
            let url = pg::cluster().fresh_database().await;
            return Self::start_limited(Database::Postgres(url), clock, None, profiles, limits)
                .await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("server.db");
        let mut s = Self::start_limited(database, clock, None, profiles, limits).await;
        s._dir = Some(dir);
        s
    }

    /// Starts on an existing database with everything given.
    pub async fn start_limited(
        database: impl Into<Database>,
        clock: Arc<dyn Clock>,
        addr: Option<std::net::SocketAddr>,
        profiles: Vec<SignedProfile>,
        limits: Limits,
    ) -> TestServer {
        Self::start_full(database, clock, addr, profiles, limits, Vec::new()).await
    }

    /// Starts on an existing database sending to these alarm centres.
    pub async fn start_with_centres(
        database: impl Into<Database>,
        centres: Vec<crate::centre::Centre>,
    ) -> TestServer {
        Self::start_full(
            database,
            Arc::new(SystemClock),
            None,
            vec![embedded_unsigned()],
            Limits::default(),
            centres,
        )
        .await
    }

    /// Starts with everything given: database, clock, address, profiles, limits and alarm centres.
    pub async fn start_full(
        database: impl Into<Database>,
        clock: Arc<dyn Clock>,
        addr: Option<std::net::SocketAddr>,
        profiles: Vec<SignedProfile>,
        limits: Limits,
        centres: Vec<crate::centre::Centre>,
    ) -> TestServer {
        Self::start_fronted(
            database,
            clock,
            addr,
            profiles,
            limits,
            centres,
            Front::default(),
        )
        .await
    }

    /// Starts with a new database behind a proxy: `front` names the trusted proxies and the
    /// public address; the limits are the shipped ones.
    pub async fn start_behind(front: Front) -> TestServer {
        let profiles = vec![embedded_unsigned()];
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let limits = Limits::default();
        if postgres_wanted() {
            let url = pg::cluster().fresh_database().await;
            let db = Database::Postgres(url);
            return Self::start_fronted(db, clock, None, profiles, limits, Vec::new(), front).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("server.db");
        let mut s =
            Self::start_fronted(database, clock, None, profiles, limits, Vec::new(), front).await;
        s._dir = Some(dir);
        s
    }

    /// Starts with a new database (PostgreSQL when the tests run on it) whose regions sign
    /// in with these identity providers, on `clock`; the limits are the shipped ones.
    pub async fn start_with_oidc(
        oidc: Vec<crate::oidc::RegionOidc>,
        clock: Arc<dyn Clock>,
    ) -> TestServer {
        let (profiles, limits) = (vec![embedded_unsigned()], Limits::default());
        let (front, centres) = (Front::default(), Vec::new());
        if postgres_wanted() {
            let db = Database::Postgres(pg::cluster().fresh_database().await);
            return Self::start_parts(db, clock, None, profiles, limits, centres, front, oidc)
                .await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("server.db");
        let mut s = Self::start_parts(
            database, clock, None, profiles, limits, centres, front, oidc,
        )
        .await;
        s._dir = Some(dir);
        s
    }

    /// Starts with everything given, the server's front (proxies, public address) too.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_fronted(
        database: impl Into<Database>,
        clock: Arc<dyn Clock>,
        addr: Option<std::net::SocketAddr>,
        profiles: Vec<SignedProfile>,
        limits: Limits,
        centres: Vec<crate::centre::Centre>,
        front: Front,
    ) -> TestServer {
        let oidc = Vec::new();
        Self::start_parts(
            database, clock, addr, profiles, limits, centres, front, oidc,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_parts(
        database: impl Into<Database>,
        clock: Arc<dyn Clock>,
        addr: Option<std::net::SocketAddr>,
        profiles: Vec<SignedProfile>,
        limits: Limits,
        centres: Vec<crate::centre::Centre>,
        front: Front,
        oidc: Vec<crate::oidc::RegionOidc>,
    ) -> TestServer {
        let database = database.into();
        let store = database
            .open(&DatabaseAccess::default())
            .await
            .expect("open database");
        let listener =
            TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().expect("addr")))
                .expect("bind loopback");
        let notifier = Arc::new(RecordingNotifier::default());
        let contacts = ESCALATION_LIST
            .iter()
            .map(|(name, email)| Contact {
                name: name.to_string(),
                email: email.to_string(),
            })
            .collect();
        let running = server::start(
            listener,
            Parts {
                store: store.clone(),
                clock: clock.clone(),
                profiles,
                escalation: Escalation {
                    lists: HashMap::from([("sormland".to_string(), contacts)]),
                    notifier: Some(notifier.clone()),
                },
                limits,
                secret: test_secret(),
                retention: Default::default(),
                centres,
                front,
                oidc,
            },
            None,
        )
        .await
        .expect("start server");
        TestServer {
            running,
            store,
            clock,
            database,
            notifier,
            _dir: None,
        }
    }

    /// The base URL.
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// Everything the database holds, as bytes: the SQLite file and its WAL, or a
    /// PostgreSQL dump; to check that secrets are not kept in clear.
    pub fn stored_bytes(&self) -> Vec<u8> {
        match &self.database {
            Database::Sqlite(path) => {
                let mut bytes = std::fs::read(path).expect("database file");
                bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
                bytes
            }
            Database::Postgres(url) => pg::cluster().dump(url),
        }
    }

    /// Creates an enrollment code for `name` in the embedded profile's region.
    pub async fn enrollment_code(&self, name: &str) -> String {
        self.enrollment_code_in("sormland", name).await
    }

    /// Creates an enrollment code for `name` in `region`.
    pub async fn enrollment_code_in(&self, region: &str, name: &str) -> String {
        let code = auth::new_code();
        let now = self.clock.now();
        self.store
            .create_enrollment(
                region,
                name,
                Role::Fortroendevald,
                &test_secret().code_hash(&normalize_code(&code)),
                now,
                now + Duration::hours(24),
            )
            .await
            .expect("create enrollment");
        code
    }

    /// Creates an officer login (password [`OFFICER_PASSWORD`]) in `region`.
    pub async fn add_officer(&self, username: &str, display_name: &str, region: &str) -> Officer {
        let officer = Officer {
            id: Uuid::now_v7(),
            region_id: region.to_string(),
            username: username.to_string(),
            display_name: display_name.to_string(),
            password_hash: auth::hash_password(OFFICER_PASSWORD).expect("hash"),
            disabled_at: None,
            role: crate::store::OfficerRole::Handler,
            subject: None,
            totp: None,
        };
        self.store
            .create_officer(&officer, self.clock.now())
            .await
            .expect("create officer");
        officer
    }

    /// A device enrolled over HTTP as `name` (in Sörmland), to send requests with.
    pub async fn device(&self, name: &str) -> device::Device {
        device::Device::new(&self.url(), self.enroll(name).await)
    }

    /// A device enrolled over HTTP as `name` in `region`, to send requests with.
    pub async fn device_in(&self, region: &str, name: &str) -> device::Device {
        device::Device::new(&self.url(), self.enroll_in(region, name).await)
    }

    /// A device enrolled over HTTP as `name` (in Sörmland).
    pub async fn enroll(&self, name: &str) -> EnrollResponse {
        self.enroll_in("sormland", name).await
    }

    /// A device enrolled over HTTP as `name` in `region`.
    pub async fn enroll_in(&self, region: &str, name: &str) -> EnrollResponse {
        let code = self.enrollment_code_in(region, name).await;
        let res = http_client()
            .post(format!("{}/v1/enroll", self.url()))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .expect("enroll request");
        assert_eq!(res.status(), reqwest::StatusCode::CREATED, "enroll");
        res.json().await.expect("enroll answer")
    }

    /// `device` on this server, to send requests with.
    pub fn as_device(&self, device: &EnrollResponse) -> device::Device {
        device::Device::new(&self.url(), device.clone())
    }

    /// Stops the server (graceful).
    pub async fn stop(self) -> Option<tempfile::TempDir> {
        let _ = self.running.stop().await;
        self._dir
    }
}

/// Whether the tests run against PostgreSQL (`VARN_TEST_DATABASE=postgres`) instead of SQLite.
pub fn postgres_wanted() -> bool {
    std::env::var("VARN_TEST_DATABASE").is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

/// The next server-sent event named `name` on a live feed, read within `wait`: its JSON
/// data (`Null` when it has none), or `None` when the feed ended first.
pub async fn read_event(
    res: &mut reqwest::Response,
    buf: &mut String,
    name: &str,
    wait: std::time::Duration,
) -> Option<serde_json::Value> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            if event == name {
                return Some(serde_json::from_str(&data).unwrap_or(serde_json::Value::Null));
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let chunk = tokio::time::timeout(left, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {name} event within {wait:?}"));
        match chunk {
            Ok(Some(bytes)) => buf.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(None) | Err(_) => return None,
        }
    }
}
