//! Failover between a region's instances, with the app's own `AlarmService` and two real
//! server instances on one database (127.0.0.1:0, one SQLite file): when the instance the app
//! uses stops answering, alarms go to the other at once with the same ids, so every alarm
//! arrives exactly once, and the acknowledgement comes back through the instance that answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;
use varn_app::alarm::{AlarmService, AlarmView, Connection, Observer};
use varn_app::secrets::{MemorySecrets, SecretStore};
use varn_app::storage::Db;
use varn_core::alarm::Phase;
use varn_server::clock::SystemClock;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::TestServer;

const TOKEN_KEY: &str = "device-token";

struct Quiet;
impl Observer for Quiet {
    fn alarm_changed(&self, _: &AlarmView, _: bool) {}
    fn connection_changed(&self, _: Connection) {}
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_fail_over_to_the_next_instance_and_arrive_once() {
    let a = TestServer::start().await;
    let b = TestServer::start_at(a.database.clone(), Arc::new(SystemClock), None).await;
    // Instance A is reached through a proxy the test can switch off (the instance dies).
    let proxy = FaultProxy::start(a.running.addr, Fault::Pass).await;
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_keyed(&dir.path().join("varn.db"), Some(&[9u8; 32])).unwrap());
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    let code = a.enrollment_code("Anna Andersson").await;
    let link = varn_app::region::enroll(
        &db,
        secrets.as_ref(),
        TOKEN_KEY,
        &format!("{} {}", proxy.url(), b.url()),
        &code,
    )
    .await
    .unwrap();
    assert_eq!(link.servers, [proxy.url(), b.url()]);
    let service = AlarmService::new(
        db.clone(),
        secrets,
        TOKEN_KEY.into(),
        Arc::new(Quiet),
        tokio::runtime::Handle::current(),
    );
    service.start().unwrap();

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
