//! Statistics benchmark: the dashboard's `GET /dashboard/api/statistics` (session check,
//! facts read from the store, figures computed, the read recorded in the audit log, JSON) for
//! a region with 100,000 reports and 20,000 alarms, on the real server on 127.0.0.1:0.
//! SQLite by default; PostgreSQL with `VARN_TEST_DATABASE=postgres`.
//!
//! The reports' facts are written with SQL (what the statistics read; seeding 100,000 reports
//! through HTTP would only time the seeding); the alarms go through the store as the API
//! stores them, half acknowledged, one in ten a drill.
//!
//!     cargo bench -p varn-server --bench statistics
//!     VARN_TEST_DATABASE=postgres cargo bench -p varn-server --bench statistics

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use uuid::Uuid;
use varn_core::wire::AlarmRequest;
use varn_server::store::Database;
use varn_server::testkit::TestServer;

const REPORTS: usize = 100_000;
const ALARMS: usize = 20_000;
const RUNS: usize = 20;

fn seed_sql(db: &Database) -> String {
    let (series, day, id, flag) = match db {
        Database::Sqlite(_) => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})",
                REPORTS - 1
            ),
            "date('2026-11-30', printf('-%d days', i % 730), 'start of month')",
            "printf('00000000-0000-7000-8000-%012d', i)",
            "",
        ),
        Database::Postgres(_) => (
            format!("WITH n(i) AS (SELECT generate_series(0, {}))", REPORTS - 1),
            "date_trunc('month', DATE '2026-11-30' - (i % 730))::date",
            "('00000000-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid",
            "::boolean",
        ),
    };
    format!(
        "{series}
         INSERT INTO report_facts (report_id, region_id, occurred_on, event, channel, sexual,
            repeated, perpetrator, consequences, police_reported, not_reported_reason)
         SELECT {id}, 'sormland', {day},
            CASE i % 3 WHEN 0 THEN 'threat_harassment' WHEN 1 THEN 'violence_damage_theft'
                ELSE 'corruption' END,
            CASE i % 7 WHEN 0 THEN 'social_media' WHEN 1 THEN 'in_person' WHEN 2 THEN 'phone'
                WHEN 3 THEN 'text_message' WHEN 4 THEN 'email' WHEN 5 THEN 'letter' ELSE NULL END,
            CASE WHEN i % 10 = 0 THEN 1 ELSE NULL END{flag},
            (i % 2){flag},
            CASE i % 4 WHEN 0 THEN 'unknown' WHEN 1 THEN 'unknown_person' WHEN 2 THEN 'organised'
                ELSE NULL END,
            CASE i % 5 WHEN 0 THEN 'refrained_from_speaking,fear' WHEN 1 THEN 'considered_leaving'
                ELSE '' END,
            (CASE WHEN i % 6 = 0 THEN 1 ELSE 0 END){flag},
            CASE WHEN i % 6 = 0 THEN NULL ELSE 'pointless' END
         FROM n"
    )
}

#[tokio::main]
async fn main() {
    let s = TestServer::start_with_limits(varn_server::limits::Limits::for_load_benchmarks()).await;
    let backend = match &s.database {
        Database::Sqlite(_) => "SQLite",
        Database::Postgres(_) => "PostgreSQL",
    };
    let seeding = Instant::now();
    s.execute_sql(&seed_sql(&s.database)).await;
    s.enroll("Bänk Bänksson").await;
    let device = s
        .store
        .devices(Some("sormland"))
        .await
        .expect("devices")
        .remove(0);
    let officer = s.add_officer("bank", "Bänk", "sormland").await;
    let now = chrono::Utc::now();
    stream::iter(0..ALARMS)
        .for_each_concurrent(16, |i| {
            let (store, device, officer) = (s.store.clone(), device.clone(), officer.clone());
            async move {
                let id = Uuid::now_v7();
                let req = AlarmRequest {
                    drill: i % 10 == 0,
                    ..serde_json::from_value(serde_json::json!({ "triggered_at": now }))
                        .expect("alarm")
                };
                store
                    .put_alarm(&device, id, &req, now)
                    .await
                    .expect("alarm stored");
                if i % 2 == 0 {
                    store
                        .acknowledge_alarm(
                            &officer,
                            id,
                            now + chrono::Duration::seconds((i % 300) as i64),
                        )
                        .await
                        .expect("ack");
                }
            }
        })
        .await;
    eprintln!(
        "seeded {REPORTS} reports' facts and {ALARMS} alarms on {backend} in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let client = s.login("bank").await;
    for (label, query) in [
        ("12 months", "from=2025-12&to=2026-11"),
        (
            "24 months, one kind of event",
            "from=2024-12&to=2026-11&event=threat_harassment",
        ),
    ] {
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        let mut reports = serde_json::Value::Null;
        for _ in 0..RUNS {
            let t = Instant::now();
            let res = client
                .get(format!("{}/dashboard/api/statistics?{query}", s.url()))
                .send()
                .await
                .expect("request");
            assert!(res.status().is_success(), "{}", res.status());
            let f: serde_json::Value = res.json().await.expect("figures");
            times.push(t.elapsed());
            reports = f["reports"].clone();
        }
        times.sort();
        println!(
            "statistics on {backend}, {label} ({reports} reports counted): median {:.0} ms, max {:.0} ms over {RUNS} runs",
            times[RUNS / 2].as_secs_f64() * 1000.0,
            times[RUNS - 1].as_secs_f64() * 1000.0,
        );
    }
    s.stop().await;
}
