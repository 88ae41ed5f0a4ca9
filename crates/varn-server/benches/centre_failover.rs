//! Alarm-centre failover benchmark: a primary and a backup receiver (`pysiaalarm`, AES-256,
//! loopback), the failover setting at its default (10 s). Each trial starts a server, sends
//! one alarm through the primary, then the primary fails and an alarm is raised at that
//! moment; timed from the failure to the backup's ACK being recorded on the alarm. Two ways a
//! primary fails: its process dies (the connection is reset: the sender learns at once), and
//! it goes silent (it keeps the connection and never answers: the sender learns only when the
//! failover time has passed). Aim: at most the failover setting + 1 s. SQLite by default;
//! PostgreSQL with `VARN_TEST_DATABASE=postgres`.
//!
//!     cargo bench -p varn-server --bench centre_failover

use std::sync::Arc;
use std::time::{Duration, Instant};

use varn_server::clock::SystemClock;
use varn_server::limits::Limits;
use varn_server::store::Database;
use varn_server::testkit::sia::{centre_at, Receiver, KEY};
use varn_server::testkit::{embedded_unsigned, pg, postgres_wanted, TestServer};

const DIED: usize = 20;
const SILENT: usize = 5;
/// The failover setting's default (`failover_seconds`).
const FAILOVER: Duration = Duration::from_secs(10);

/// A relay in front of the primary that, once `frozen` is set, keeps its connections open
/// but passes nothing on: the primary goes silent as behind a broken network, without the
/// reset a dying process sends.
async fn freezable_relay(
    upstream: u16,
    frozen: Arc<std::sync::atomic::AtomicBool>,
) -> (u16, tokio::task::JoinHandle<()>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the relay");
    let port = listener.local_addr().expect("its port").port();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
                continue;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let f1 = frozen.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    if !f1.load(Ordering::SeqCst) && sw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
            let f2 = frozen.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 {
                        if f2.load(Ordering::SeqCst) {
                            // Frozen: the client hears nothing, not even the close.
                            std::future::pending::<()>().await;
                        }
                        // The primary's process is gone: the close is passed on.
                        return;
                    }
                    if !f2.load(Ordering::SeqCst) && cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, task)
}

async fn trial(silent: bool, backup: &Receiver) -> Duration {
    let primary = Receiver::start(0, Some(KEY), 0);
    let frozen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (port, relay) = freezable_relay(primary.port, frozen.clone()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let database = if postgres_wanted() {
        Database::Postgres(pg::cluster().fresh_database().await)
    } else {
        Database::Sqlite(dir.path().join("s.db"))
    };
    let mut centre = centre_at(&[port, backup.port], Some(KEY), Duration::from_secs(600));
    centre.timeout = FAILOVER;
    let s = TestServer::start_full(
        database,
        Arc::new(SystemClock),
        None,
        vec![embedded_unsigned()],
        Limits::for_load_benchmarks(),
        vec![centre],
    )
    .await;
    let device = s.enroll("Bänk Bänksson").await;
    s.raise(
        &device,
        serde_json::json!({ "triggered_at": chrono::Utc::now() }),
    )
    .await;
    primary.wait_for(1).await;
    // The failure: the process dies (the relay passes the reset on), or the link goes
    // silent (the connection stays, nothing comes back).
    let t = Instant::now();
    if silent {
        frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    } else {
        relay.abort();
        drop(primary);
    }
    let id = s
        .raise(
            &device,
            serde_json::json!({ "triggered_at": chrono::Utc::now() }),
        )
        .await;
    while s.receipt(&device, id).await.centre_received_at.is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = t.elapsed();
    s.stop().await;
    relay.abort();
    took
}

#[tokio::main]
async fn main() {
    let backend = if postgres_wanted() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let backup = Receiver::start(0, Some(KEY), 0);
    for (silent, n, how) in [
        (false, DIED, "the primary's process dies"),
        (true, SILENT, "the primary goes silent"),
    ] {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            times.push(trial(silent, &backup).await);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{how}: alarm -> ACK via the backup on {backend} (failover 10 s), {n} trials: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            ms(times[n / 2]),
            ms(times[(n * 95 / 100).min(n - 1)]),
            ms(times[n - 1])
        );
    }
}
