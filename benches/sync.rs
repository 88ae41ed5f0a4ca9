//! Sync benchmark: how long the app's own `SyncService` (product timings, 4 MiB chunks) takes
//! to drain an outbox into the real region server on 127.0.0.1:0, with a real encrypted
//! SQLite file on the device and on the server.
//!
//! - 1,000 reports without attachments, loopback;
//! - 50 reports with one 5 MB attachment each, loopback;
//! - 1,000 reports through the fault proxy cutting 5 % of requests (half before the server
//!   has them, half after: the answer is lost).
//!
//!     cargo bench --bench sync

#[path = "../tests/common/mod.rs"]
mod common;
use common::App;

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;
use varn_app::events::Quiet;
use varn_app::runners::sync::{SyncConfig, SyncService};
use varn_core::incident::Incident;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::TestServer;

fn run(rt: &tokio::runtime::Runtime, label: &str, reports: usize, attachment: usize, fault: Fault) {
    // Thousands of requests from one device: the device quotas lifted (and logged).
    let server = rt.block_on(TestServer::start_with_limits(
        varn_server::limits::Limits::for_load_benchmarks(),
    ));
    let proxy = rt.block_on(FaultProxy::start(server.running.addr, Fault::Pass));
    let code = rt.block_on(server.enrollment_code("Bänk Bänksson"));
    let app = rt.block_on(App::linked(&proxy.url(), &code));
    let db = &app.db;
    let bytes: Vec<u8> = (0..attachment).map(|i| (i % 251) as u8).collect();
    for n in 0..reports {
        let id = Uuid::now_v7();
        db.create_incident(
            id,
            &Incident {
                place: format!("Plats {n}"),
                during: "Ett hotfullt samtal efter mötet; mannen följde efter till bilen."
                    .repeat(4),
                ..Default::default()
            },
        )
        .expect("create");
        if attachment > 0 {
            db.add_attachment(id, "film.mp4", "video/mp4", attachment as u64, &bytes[..])
                .expect("attach");
        }
        db.mark_incident_ready(id).expect("ready");
    }
    proxy.set(fault);
    let link = app.link();
    let sync = SyncService::new(
        db.clone(),
        link,
        Arc::new(Quiet),
        None,
        SyncConfig::default(),
    );
    let t0 = Instant::now();
    let task = sync.start(rt.handle());
    loop {
        if db.queue_counts().expect("counts").queued == 0 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(600), "did not drain");
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = t0.elapsed();
    task.abort();
    let mb = (reports * attachment) as f64 / 1e6;
    print!(
        "{label:<44} {took:>8.2?}   {:>7.0} reports/s",
        reports as f64 / took.as_secs_f64()
    );
    if attachment > 0 {
        print!("   {:>6.1} MB/s", mb / took.as_secs_f64());
    }
    if proxy.cut() > 0 {
        print!("   ({} requests cut)", proxy.cut());
    }
    println!();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("Sync: outbox drained into the region server (product timings)");
    run(&rt, "1,000 reports, loopback", 1000, 0, Fault::Pass);
    run(
        &rt,
        "50 reports × 5 MB attachment, loopback",
        50,
        5_000_000,
        Fault::Pass,
    );
    run(
        &rt,
        "1,000 reports, proxy cutting 5 % of requests",
        1000,
        0,
        Fault::Flaky { percent: 5 },
    );
}
