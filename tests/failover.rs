//! Failover between a region's instances, with the app's own `AlarmService` and two real
//! server instances on one database (127.0.0.1:0; one SQLite file, or a throwaway
//! PostgreSQL with instance A in a process of its own that is killed with SIGKILL): when the
//! instance the app uses stops answering, alarms go to the other at once with the same ids,
//! so every alarm arrives exactly once, and the acknowledgement (or the escalation) comes
//! back through the instance that answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;
use varn_app::events::Quiet;
use varn_app::runners::alarm::AlarmService;
use varn_core::alarm::Phase;
use varn_server::clock::{ManualClock, SystemClock};
use varn_server::store::Database;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::{pg, TestServer};

mod common;
use common::App;

async fn wait_phase(service: &AlarmService, id: Uuid, phase: Phase) {
    let start = Instant::now();
    loop {
        let v = service.view(id).unwrap();
        if v.phase == phase {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "alarm {id} stuck at {:?}, wanted {phase:?}",
            v.phase
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app linked with `code` to the instances at `servers` (in that order), its alarm
/// service running. The temp dir holds its database.
async fn linked_app(servers: [String; 2], code: &str) -> (Arc<AlarmService>, App) {
    let app = App::linked(&servers.join(" "), code).await;
    let link = varn_app::link::client::load_link(&app.db).unwrap().unwrap();
    assert_eq!(link.servers, servers);
    let service = app.alarms(Arc::new(Quiet), tokio::runtime::Handle::current());
    (service, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_fail_over_to_the_next_instance_and_arrive_once() {
    let a = TestServer::start().await;
    let b = TestServer::start_at(a.database.clone(), Arc::new(SystemClock), None).await;
    // Instance A is reached through a proxy the test can switch off (the instance dies).
    let proxy = FaultProxy::start(a.running.addr, Fault::Pass).await;
    let code = a.enrollment_code("Anna Andersson").await;
    let (service, _dir) = linked_app([proxy.url(), b.url()], &code).await;

    let mut ids = Vec::new();
    for i in 0..3 {
        let v = service.raise("Möte".into(), format!("Sal {i}")).unwrap();
        wait_phase(&service, v.id, Phase::Received).await;
        ids.push(v.id);
    }
    // A dies while alarms are on their way.
    proxy.set(Fault::Refuse);
    for i in 3..8 {
        ids.push(service.raise("Möte".into(), format!("Sal {i}")).unwrap().id);
    }
    for id in &ids {
        wait_phase(&service, *id, Phase::Received).await;
    }
    let held = b.store.alarms("sormland", 100).await.unwrap();
    assert_eq!(held.len(), ids.len(), "every alarm once");
    for id in &ids {
        assert_eq!(held.iter().filter(|x| x.id == *id).count(), 1);
    }

    // An officer on B acknowledges the last one; the app hears it through B.
    let officer = b
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    let last = *ids.last().unwrap();
    let res = officer
        .post(format!("{}/dashboard/api/alarms/{last}/ack", b.url()))
        .header("origin", b.url())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    wait_phase(&service, last, Phase::Acknowledged).await;
    assert!(proxy.cut() > 0, "A really refused");
    drop(proxy);
    b.stop().await;
    a.stop().await;
}

/// A server instance in a process of its own (this test binary run again with
/// `VARN_INSTANCE_DATABASE`), so that the test can kill it with SIGKILL. Killed on drop.
struct Instance {
    child: std::process::Child,
    url: String,
}

impl Instance {
    fn start(database: &str) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let addr_file = dir.path().join("addr");
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "instance_process",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env("VARN_INSTANCE_DATABASE", database)
            .env("VARN_INSTANCE_ADDR_FILE", &addr_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start instance A");
        let start = Instant::now();
        let url = loop {
            if let Ok(url) = std::fs::read_to_string(&addr_file) {
                if !url.is_empty() {
                    break url;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "instance A did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Instance { child, url }
    }

    fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test: the body of instance A for the PostgreSQL failover test, run only as its own
/// process. Serves until killed, or until the test that started it is gone.
#[test]
#[ignore = "run by the failover test as a separate process"]
fn instance_process() {
    let (Ok(database), Ok(addr_file)) = (
        std::env::var("VARN_INSTANCE_DATABASE"),
        std::env::var("VARN_INSTANCE_ADDR_FILE"),
    ) else {
        return;
    };
    let parent = std::os::unix::process::parent_id();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let s =
            TestServer::start_at(Database::Postgres(database), Arc::new(SystemClock), None).await;
        std::fs::write(&addr_file, s.url()).unwrap();
        while std::os::unix::process::parent_id() == parent {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_the_app_fails_over_when_its_instance_is_killed_and_nothing_is_lost() {
    let database = pg::cluster().fresh_database().await;
    let mut a = Instance::start(&database);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let b = TestServer::start_at(Database::Postgres(database), clock.clone(), None).await;
    // The code is made on B and redeemed on A: one database.
    let code = b.enrollment_code("Anna Andersson").await;
    let (service, _dir) = linked_app([a.url.clone(), b.url()], &code).await;

    let mut ids = Vec::new();
    for i in 0..3 {
        let v = service.raise("Möte".into(), format!("Sal {i}")).unwrap();
        wait_phase(&service, v.id, Phase::Received).await;
        ids.push(v.id);
    }
    // Five more on their way, and A dies the hard way among them.
    for i in 3..8 {
        ids.push(service.raise("Möte".into(), format!("Sal {i}")).unwrap().id);
        if i == 4 {
            a.sigkill();
        }
    }
    for id in &ids {
        wait_phase(&service, *id, Phase::Received).await;
    }
    let held = b.store.alarms("sormland", 100).await.unwrap();
    assert_eq!(held.len(), ids.len(), "every alarm once");
    for id in &ids {
        assert_eq!(held.iter().filter(|x| x.id == *id).count(), 1);
    }

    // Nobody acknowledges: B, still alive, escalates each alarm once.
    clock.advance(chrono::Duration::seconds(61));
    let start = Instant::now();
    while b.notifier.sent().len() < ids.len() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            b.notifier.sent()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let sent = b.notifier.sent();
    assert_eq!(sent.len(), ids.len(), "one alert per alarm: {sent:?}");
    for id in &ids {
        assert_eq!(
            sent.iter()
                .filter(|n| n.alarm == *id && n.step == 1)
                .count(),
            1
        );
    }
    // And the app hears it through B: to whom it was escalated.
    let last = *ids.last().unwrap();
    let start = Instant::now();
    while service.view(last).unwrap().escalated_to.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the app never heard"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.stop().await;
}
