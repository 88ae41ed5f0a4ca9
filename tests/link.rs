//! The app's link to a region that stops accepting it: a revoked or unlinked device goes
//! quiet (no stream of refused requests), says it is no longer linked, and comes back when
//! it is linked again. Against the real server, through the fault proxy that counts the
//! connections the app opens.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::App;
use varn_app::events::{Event, Observer};
use varn_app::link::Connection;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::TestServer;

/// Keeps the connection states the window would have been told.
#[derive(Default)]
struct Seen(std::sync::Mutex<Vec<Connection>>);

impl Observer for Seen {
    fn event(&self, event: Event<'_>) {
        if let Event::Connection(c) = event {
            self.0.lock().unwrap().push(c);
        }
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_app_goes_quiet_says_so_and_comes_back_when_linked_again() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let code = server.enrollment_code("Anna Andersson").await;
    let app = App::linked(&proxy.url(), &code).await;
    let seen = Arc::new(Seen::default());
    let link = app.link_with(seen.clone());
    link.set_health_every(Duration::from_millis(100));
    link.start(&tokio::runtime::Handle::current());
    until("online", || link.connection() == Connection::Online).await;

    // While linked, the health loop keeps asking: with every connection cut, it opens new
    // ones (the control: this is what "quiet" is measured against).
    proxy.set(Fault::Refuse);
    let before = proxy.stats.connections.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let asked = proxy.stats.connections.load(Ordering::Relaxed) - before;
    assert!(
        asked >= 3,
        "a linked app checks its link ({asked} connections)"
    );

    // The region revokes the device; the next check hears it.
    proxy.set(Fault::Pass);
    let device = server.store.devices(None).await.unwrap()[0].id;
    server
        .store
        .revoke_device(
            device,
            chrono::Utc::now(),
            varn_server::store::Revoker::Region,
        )
        .await
        .unwrap();
    until("refused", || link.connection() == Connection::Refused).await;
    assert!(link.is_refused());
    assert_eq!(
        link.client().err(),
        Some(varn_core::alarm::Blocked::TokenRefused),
        "nobody gets a client to send with"
    );
    assert_eq!(seen.0.lock().unwrap().last(), Some(&Connection::Refused));

    // Quiet: no connection at all for many check intervals.
    proxy.set(Fault::Refuse);
    let before = proxy.stats.connections.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        proxy.stats.connections.load(Ordering::Relaxed) - before,
        0,
        "a revoked app sends nothing"
    );

    // Linked again (a new code): it talks again.
    proxy.set(Fault::Pass);
    let code = server.enrollment_code("Anna Andersson").await;
    varn_app::link::enroll::enroll(
        &app.db,
        app.secrets.as_ref(),
        common::TOKEN_KEY,
        &proxy.url(),
        &code,
    )
    .await
    .unwrap();
    link.relinked();
    until("online again", || link.connection() == Connection::Online).await;
    assert!(!link.is_refused());
}
