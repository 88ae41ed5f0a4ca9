//! Alarm-centre benchmark: from an alarm's `PUT` (the device's request) to the DC-09 ACK from
//! the alarm centre's receiver (`pysiaalarm`, as in the tests), on loopback, 200 alarms one
//! after another, encrypted (AES-256). SQLite by default; PostgreSQL with
//! `VARN_TEST_DATABASE=postgres`. Needs the test venv (`scripts/test` makes it).
//!
//!     cargo bench -p varn-server --bench centre

use std::sync::Arc;
use std::time::{Duration, Instant};

use varn_server::clock::SystemClock;
use varn_server::limits::Limits;
use varn_server::store::Database;
use varn_server::testkit::sia::{centre, Receiver, KEY};
use varn_server::testkit::{embedded_unsigned, pg, postgres_wanted, TestServer};

const ALARMS: usize = 200;

#[tokio::main]
async fn main() {
    let rx = Receiver::start(0, Some(KEY), 0);
    let dir = tempfile::tempdir().expect("temp dir");
    let (database, backend) = if postgres_wanted() {
        (
            Database::Postgres(pg::cluster().fresh_database().await),
            "PostgreSQL",
        )
    } else {
        (Database::Sqlite(dir.path().join("s.db")), "SQLite")
    };
    let s = TestServer::start_full(
        database,
        Arc::new(SystemClock),
        None,
        vec![embedded_unsigned()],
        Limits::for_load_benchmarks(),
        vec![centre(rx.port, Some(KEY), Duration::from_secs(60))],
    )
    .await;
    let device = s.enroll("Bänk Bänksson").await;
    let mut times = Vec::with_capacity(ALARMS);
    for i in 0..ALARMS {
        let t = Instant::now();
        s.raise(
            &device,
            serde_json::json!({ "triggered_at": chrono::Utc::now() }),
        )
        .await;
        while rx.acked_events().len() <= i {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "alarm PUT -> DC-09 ACK on {backend} (AES-256, loopback), {ALARMS} alarms: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(times[ALARMS / 2]),
        ms(times[ALARMS * 95 / 100]),
        ms(times[ALARMS - 1])
    );
    s.stop().await;
}
