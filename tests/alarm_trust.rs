//! The panic path's trust features with the app's own `AlarmService` against the real region
//! server on 127.0.0.1:0, through a proxy that loses requests and answers, with real
//! (encrypted) SQLite files: every step of every alarm is on the region's timeline exactly
//! once and in order, and a duress cancel shows as a cancel on the device while the region
//! keeps the alarm open.

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;
use varn_app::events::Quiet;
use varn_app::runners::alarm::{AlarmService, AlarmView};
use varn_core::alarm::Phase;
use varn_core::wire::AlarmStatus;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::TestServer;

mod common;
use common::App;

/// How each test alarm ends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    Open,
    Cancel,
    Duress,
}

async fn wait_settled(service: &AlarmService, id: Uuid, phase: Phase) -> AlarmView {
    let start = Instant::now();
    loop {
        let v = service.view(id).unwrap();
        if v.phase == phase {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "alarm {id} stuck at {:?}, wanted {phase:?}",
            v.phase
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_is_on_the_timeline_once_in_order_through_a_faulty_network() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let code = server.enrollment_code("Anna Andersson").await;
    let app = App::linked(&proxy.url(), &code).await;
    let service = app.alarms(Arc::new(Quiet), tokio::runtime::Handle::current());
    // A third of all requests lose the request or the answer, fail with 500/429, or lag.
    proxy.set(Fault::Chaos { percent: 33 });

    let ends = [
        End::Open,
        End::Cancel,
        End::Duress,
        End::Cancel,
        End::Duress,
        End::Open,
    ];
    let mut alarms = Vec::new();
    for (i, end) in ends.iter().enumerate() {
        let v = service
            .raise("Fullmäktige".into(), format!("Sal {i}"))
            .unwrap();
        alarms.push((v.id, *end));
    }
    for (id, end) in &alarms {
        if *end != End::Open {
            wait_settled(&service, *id, Phase::Received).await;
            service.cancel(*id, *end == End::Duress).unwrap();
        }
    }
    for (id, end) in &alarms {
        let want = if *end == End::Open {
            Phase::Received
        } else {
            Phase::Cancelled
        };
        let v = wait_settled(&service, *id, want).await;
        if *end == End::Duress {
            // Exactly what a real cancel shows: nothing about the alarm still running.
            assert!(v.acknowledged_by.is_none() && v.escalated_to.is_empty());
            assert!(v.cancelled_at.is_some());
        }
    }
    proxy.set(Fault::Pass);

    let region = "sormland";
    assert_eq!(
        server.store.alarms(region, 100).await.unwrap().len(),
        ends.len(),
        "no alarm doubled by retries"
    );
    for (id, end) in &alarms {
        let a = server.store.alarm(region, *id).await.unwrap().unwrap();
        let events = server.store.alarm_events(region, *id).await.unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        let last = match end {
            End::Open => None,
            End::Cancel => Some("cancelled"),
            End::Duress => Some("duress"),
        };
        let mut want = vec!["triggered", "stored", "received"];
        want.extend(last);
        assert_eq!(kinds, want, "alarm {id} ({end:?})");
        // Device time for the first two, then the server's, each in order.
        assert!(events[0].at <= events[1].at, "stored after triggered");
        assert!(events[2..].windows(2).all(|w| w[0].at <= w[1].at));
        match end {
            End::Open => assert_eq!(a.status, AlarmStatus::Open),
            End::Cancel => assert_eq!(a.status, AlarmStatus::Cancelled),
            End::Duress => {
                assert_eq!(a.status, AlarmStatus::Open, "under duress it stands");
                assert!(a.duress_at.is_some());
                // What the device can read of it ends with a plain cancel.
                let mine = service.timeline(*id).await.unwrap();
                let kinds: Vec<&str> = mine.iter().map(|e| e.kind.as_str()).collect();
                assert_eq!(kinds, ["triggered", "stored", "received", "cancelled"]);
            }
        }
    }
    assert!(proxy.cut() > 0, "the proxy did interfere");
    drop(proxy);
    server.stop().await;
}
