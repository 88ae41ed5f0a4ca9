//! Alarm benchmark: tap → durable in the local database, and tap → receipt from the region
//! server, over 100 alarms, on loopback and through a proxy that drops 5 % of connections.
//!
//! Uses the app's own `AlarmService` (the code the button calls) with a real SQLite file and
//! the real region server on 127.0.0.1:0. "Receipt shown" is the moment the service tells the
//! window (the event the alarm screen redraws on); the webview's own paint is not included.
//!
//!     cargo bench --bench alarm

#[path = "../tests/common/mod.rs"]
mod common;
use common::App;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;
use varn_app::events::{Event, Observer};
use varn_core::alarm::Phase;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::TestServer;

struct Recorder(mpsc::Sender<(Uuid, Phase, Instant)>);

impl Observer for Recorder {
    fn event(&self, event: Event<'_>) {
        if let Event::Alarm { view, .. } = event {
            let _ = self.0.send((view.id, view.phase, Instant::now()));
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(rt: &tokio::runtime::Runtime, label: &str, fault: Fault, n: usize) {
    // Thousands of requests from one device: the device quotas lifted (and logged).
    let server = rt.block_on(TestServer::start_with_limits(
        varn_server::limits::Limits::for_load_benchmarks(),
    ));
    let proxy = rt.block_on(FaultProxy::start(server.running.addr, Fault::Pass));
    // Encrypted, as the app opens it (SQLCipher).
    let code = rt.block_on(server.enrollment_code("Bänk Bänksson"));
    let app = rt.block_on(App::linked(&proxy.url(), &code));
    let (tx, rx) = mpsc::channel();
    let service = app.alarms(Arc::new(Recorder(tx)), rt.handle().clone());
    proxy.set(fault);

    let mut durable = Vec::new();
    let mut receipt = Vec::new();
    for _ in 0..n {
        let t0 = Instant::now();
        let view = service
            .raise("Bänkmöte".into(), "Loopback".into())
            .expect("raise");
        durable.push(t0.elapsed());
        loop {
            let (id, phase, at) = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("a receipt within a minute");
            if id == view.id && phase == Phase::Received {
                receipt.push(at - t0);
                break;
            }
        }
    }
    durable.sort();
    receipt.sort();
    println!(
        "{label:34} tap→durable p50 {:6.2} ms  p95 {:6.2} ms | tap→receipt p50 {:7.1} ms  p95 {:7.1} ms  max {:7.1} ms  (connections cut: {})",
        ms(percentile(&durable, 0.5)),
        ms(percentile(&durable, 0.95)),
        ms(percentile(&receipt, 0.5)),
        ms(percentile(&receipt, 0.95)),
        ms(*receipt.last().unwrap_or(&Duration::ZERO)),
        proxy.cut()
    );
    drop(proxy);
    rt.block_on(server.stop());
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let n = 100;
    println!("alarm benchmark: {n} alarms each, one after the other, real SQLite file and server");
    run(&rt, "loopback", Fault::Pass, n);
    run(
        &rt,
        "proxy, 5 % of connections dropped",
        Fault::Flaky { percent: 5 },
        n,
    );
}
