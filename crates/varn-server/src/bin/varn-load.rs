//! `varn-load`: a bounded load test of the region server over loopback HTTP.
//!
//! Starts the real server on 127.0.0.1:0 with a fresh SQLite file (WAL, synchronous=FULL), or
//! with `--postgres` on a throwaway PostgreSQL (fsync on) with `--instances` instances sharing
//! it, enrolls devices, then measures: report ingest (reports/s), alarm ingest (alarms/s), both
//! spread over the instances, and the time from an alarm's PUT on the first instance to its
//! arrival on a logged-in dashboard's live feed on the last one. Every phase is bounded by a
//! count and by `--max-seconds`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use uuid::Uuid;
use varn_server::clock::SystemClock;
use varn_server::store::Database;
use varn_server::testkit::attack::percentile;
use varn_server::testkit::{pg, TestServer, OFFICER_PASSWORD};

#[derive(Parser)]
#[command(about = "Load test of the Värn region server on loopback")]
struct Args {
    /// Reports to send.
    #[arg(long, default_value_t = 10_000)]
    reports: usize,
    /// Alarms to send.
    #[arg(long, default_value_t = 5_000)]
    alarms: usize,
    /// Alarms whose way to the dashboard is timed (one at a time).
    #[arg(long, default_value_t = 200)]
    latency_samples: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Devices to spread the load over.
    #[arg(long, default_value_t = 16)]
    devices: usize,
    /// Upper bound for each phase.
    #[arg(long, default_value_t = 60)]
    max_seconds: u64,
    /// Use a throwaway PostgreSQL (Debian's postgresql package, fsync on) instead of SQLite.
    #[arg(long)]
    postgres: bool,
    /// Server instances on the one database; requests go round-robin over them.
    #[arg(long, default_value_t = 1)]
    instances: usize,
}

fn report_body(i: usize) -> serde_json::Value {
    json!({ "revision": 1, "report": {
        "kind": "phone",
        "started_at": chrono::Utc::now(),
        "place": "Kommunhuset, plan 3",
        "involved": "Okänd man, ca 40 år",
        "before": "Ett samtal till växeln som kopplades vidare.",
        "during": format!("Personen hotade att komma till nästa möte. Rapport nummer {i}."),
        "actions": "Antecknade samtalet, informerade partiet och polisanmälde.",
        "witnesses": "Kollega i rummet bredvid",
        "police_reported": true,
        "police_report_number": "5000-K123456-26",
        "reported_to_region": true,
        "checklist": ["checklista-5", "checklista-6"],
    }})
}

async fn run_phase(
    name: &str,
    total: usize,
    args: &Args,
    tokens: &[String],
    make: impl Fn(usize, &str) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> (usize, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let make = Arc::new(make);
    let tokens = Arc::new(tokens.to_vec());
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (next, done, failed, make, tokens) = (
            next.clone(),
            done.clone(),
            failed.clone(),
            make.clone(),
            tokens.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() > deadline {
                    break;
                }
                let token = &tokens[i % tokens.len()];
                match make(i, token).send().await {
                    Ok(r) if r.status().is_success() => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = start.elapsed();
    let n = done.load(Ordering::Relaxed);
    let f = failed.load(Ordering::Relaxed);
    println!(
        "{name:8} {n:6} stored in {:6.2} s  = {:7.0} /s   ({f} failed, {} in flight)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        args.concurrency
    );
    (n, elapsed)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if args.postgres {
        // A benchmark against SQLite with synchronous=FULL needs PostgreSQL's fsync on too.
        std::env::set_var("VARN_PG_FSYNC", "on");
    }
    let database = if args.postgres {
        Database::Postgres(pg::cluster().fresh_database().await)
    } else {
        Database::Sqlite(std::env::temp_dir().join(format!("varn-load-{}.db", Uuid::now_v7())))
    };
    let mut servers = Vec::new();
    for _ in 0..args.instances.max(1) {
        // Thousands of alarms and reports from 16 devices: the device quotas lifted (the
        // server logs it); every other bound as in production.
        servers.push(
            TestServer::start_limited(
                database.clone(),
                Arc::new(SystemClock),
                None,
                vec![varn_server::testkit::embedded_unsigned()],
                varn_server::limits::Limits::for_load_benchmarks(),
            )
            .await,
        );
    }
    let server = &servers[0];
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(TestServer::url).collect());
    let base = server.url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    println!(
        "varn-load: {} instance(s) {}, database {}",
        servers.len(),
        bases.join(" "),
        match &database {
            Database::Sqlite(_) => "SQLite (WAL, synchronous=FULL)".to_string(),
            Database::Postgres(_) => "PostgreSQL (throwaway cluster, fsync on)".to_string(),
        }
    );

    let mut tokens = Vec::new();
    for d in 0..args.devices.max(1) {
        let code = server.enrollment_code(&format!("Lasttest {d}")).await;
        let e: serde_json::Value = http
            .post(format!("{base}/v1/enroll"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("enroll")
            .json()
            .await
            .expect("enroll answer");
        tokens.push(e["token"].as_str().expect("token").to_string());
    }

    let (b, c) = (bases.clone(), http.clone());
    run_phase("reports", args.reports, &args, &tokens, move |i, token| {
        c.put(format!("{}/v1/reports/{}", b[i % b.len()], Uuid::now_v7()))
            .bearer_auth(token)
            .json(&report_body(i))
    })
    .await;
    let (b, c) = (bases.clone(), http.clone());
    run_phase("alarms", args.alarms, &args, &tokens, move |i, token| {
        c.put(format!("{}/v1/alarms/{}", b[i % b.len()], Uuid::now_v7()))
            .bearer_auth(token)
            .json(&json!({ "triggered_at": chrono::Utc::now(), "meeting": "Lasttest", "place": "Loopback" }))
    })
    .await;

    // Alarm -> dashboard: one logged-in live feed on the last instance, alarms one at a time
    // raised on the first.
    server.add_officer("last", "Lasttest", "sormland").await;
    let feed_base = bases.last().expect("an instance").clone();
    let officer = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    officer
        .post(format!("{feed_base}/dashboard/api/login"))
        .json(&json!({ "username": "last", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .expect("login");
    let mut feed = officer
        .get(format!("{feed_base}/dashboard/api/events"))
        .send()
        .await
        .expect("feed");
    let mut buf = String::new();
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    // Skip the snapshot.
    while !buf.contains("event: snapshot") {
        match feed.chunk().await {
            Ok(Some(c)) => buf.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    buf.clear();
    for _ in 0..args.latency_samples {
        if Instant::now() > deadline {
            break;
        }
        let id = Uuid::now_v7();
        let needle = id.to_string();
        let sent = Instant::now();
        let put = http
            .put(format!("{base}/v1/alarms/{id}"))
            .bearer_auth(&tokens[0])
            .json(&json!({ "triggered_at": chrono::Utc::now(), "place": "Loopback" }))
            .send();
        let (res, ()) = tokio::join!(put, async {
            while !buf.contains(&needle) {
                match tokio::time::timeout(Duration::from_secs(5), feed.chunk()).await {
                    Ok(Ok(Some(c))) => buf.push_str(&String::from_utf8_lossy(&c)),
                    _ => break,
                }
            }
        });
        if res.map(|r| r.status().is_success()).unwrap_or(false) && buf.contains(&needle) {
            latencies.push(sent.elapsed());
        }
        buf.clear();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort();
    println!(
        "fan-out  {:6} alarms: PUT -> dashboard feed{}  p50 {:.1} ms  p95 {:.1} ms  max {:.1} ms",
        latencies.len(),
        if servers.len() > 1 {
            " of another instance"
        } else {
            ""
        },
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.95).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    for s in servers {
        s.stop().await;
    }
    if let Database::Sqlite(path) = &database {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
