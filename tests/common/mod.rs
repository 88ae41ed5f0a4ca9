//! What the app's tests and benchmarks set up alike: the app's encrypted database in a temp
//! dir, its keychain in memory, linked to a real region server with an enrollment code, and
//! the link and services on top of it. (`#[path]`-included by the benchmarks.)

#![allow(dead_code)] // each test file uses its own part of it

use std::sync::Arc;

use varn_app::events::{Observer, Quiet};
use varn_app::link::LinkService;
use varn_app::os::secrets::{MemorySecrets, SecretStore};
use varn_app::runners::alarm::AlarmService;
use varn_app::storage::Db;

/// Where the app keeps its device token in the keychain.
pub const TOKEN_KEY: &str = "device-token";
/// The database key (the app's comes from the keychain).
pub const KEY: [u8; 32] = [7u8; 32];

/// The app's side: its database and keychain (and the temp dir they live in).
pub struct App {
    /// Holds the database file.
    pub dir: tempfile::TempDir,
    /// The app's encrypted database.
    pub db: Arc<Db>,
    /// The keychain.
    pub secrets: Arc<dyn SecretStore>,
}

impl App {
    /// A new app, not linked.
    pub fn new() -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let db =
            Arc::new(Db::open_keyed(&dir.path().join("varn.db"), Some(&KEY)).expect("database"));
        App {
            dir,
            db,
            secrets: Arc::new(MemorySecrets::default()),
        }
    }

    /// A new app linked with `code` to the server(s) at `servers` (space-separated).
    pub async fn linked(servers: &str, code: &str) -> App {
        let app = App::new();
        varn_app::link::enroll::enroll(&app.db, app.secrets.as_ref(), TOKEN_KEY, servers, code)
            .await
            .expect("enroll");
        app
    }

    /// The app's link to its region, telling `observer`.
    pub fn link_with(&self, observer: Arc<dyn Observer>) -> Arc<LinkService> {
        LinkService::new(
            self.db.clone(),
            self.secrets.clone(),
            TOKEN_KEY.into(),
            observer,
        )
    }

    /// The app's link to its region.
    pub fn link(&self) -> Arc<LinkService> {
        self.link_with(Arc::new(Quiet))
    }

    /// The alarm service on `runtime`, started, telling `observer`.
    pub fn alarms(
        &self,
        observer: Arc<dyn Observer>,
        runtime: tokio::runtime::Handle,
    ) -> Arc<AlarmService> {
        let service = AlarmService::new(self.db.clone(), self.link(), observer, runtime);
        service.start().expect("start the alarm service");
        service
    }
}
