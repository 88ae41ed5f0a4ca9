//! `varn-siege`: the alarm path under attack, measured. Starts the built `varn-server` (the
//! one beside this binary, default limits, a fresh SQLite file) as a process of its own and
//! times alarms from real people while one attacker machine does its worst, one attack at a
//! time and then all at once:
//!
//! - **half-open**: 1 000 connections from one address that never finish their headers
//!   (reopened as the server closes them);
//! - **logins**: 80 wrong logins at a time from 80 addresses, again and again;
//! - **flood**: one enrolled device sending alarms and 900 KiB reports as fast as it can.
//!
//! For each phase it prints the alarms' p50/p95/max from `PUT` to receipt, the failures, and
//! the server's peak resident memory during the phase.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;
use varn_server::testkit::attack::{client_from, connect_from, ip, percentile};
use varn_server::testkit::process::ServerProcess;

#[derive(Parser)]
#[command(about = "The Värn region server's alarm path under attack, on loopback")]
struct Args {
    /// The server binary [default: varn-server beside this one].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Alarms timed in each phase (one after another, from people other than the attacker).
    #[arg(long, default_value_t = 200)]
    alarms: usize,
    /// Pause between two timed alarms, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pause_ms: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Attack {
    HalfOpen,
    Logins,
    Flood,
}

/// Holds `n` connections from `from` that never finish their headers, reopening each one the
/// server closes, until `stop`.
async fn hold_half_open(to: SocketAddr, from: IpAddr, n: usize, stop: Arc<AtomicBool>) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut c) = connect_from(from, to).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                if i % 2 == 0 {
                    let _ = c.write_all(b"POST /dashboard/api/login HTTP/1.1\r\nHost: x\r\n").await;
                }
                // Until the server closes it (or the phase ends).
                let mut buf = [0u8; 64];
                tokio::select! {
                    _ = tokio::io::AsyncReadExt::read(&mut c, &mut buf) => {}
                    _ = async { while !stop.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(100)).await } } => {}
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// 80 wrong logins at a time from 80 addresses until `stop`.
async fn flood_logins(url: String, stop: Arc<AtomicBool>) {
    let clients: Vec<reqwest::Client> = (0..80)
        .map(|i| client_from(ip(&format!("127.0.2.{}", i + 1))))
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let round = clients.iter().map(|c| {
            c.post(format!("{url}/dashboard/api/login"))
                .json(&json!({ "username": "hanna", "password": "fel lösenord!" }))
                .send()
        });
        let _ = futures_util::future::join_all(round).await;
    }
}

/// One enrolled device sending alarms and large reports, 16 at a time, until `stop`.
async fn flood_device(url: String, token: String, stop: Arc<AtomicBool>) {
    let big = "x".repeat(900 * 1024);
    let mut tasks = Vec::new();
    for w in 0..16 {
        let (url, token, stop, big) = (url.clone(), token.clone(), stop.clone(), big.clone());
        tasks.push(tokio::spawn(async move {
            let c = client_from(ip("127.0.0.9"));
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let req = if (i + w).is_multiple_of(2) {
                    c.put(format!("{url}/v1/alarms/{}", Uuid::now_v7()))
                        .json(&json!({ "triggered_at": chrono::Utc::now(), "place": "Flöde" }))
                } else {
                    c.put(format!("{url}/v1/reports/{}", Uuid::now_v7()))
                        .json(&json!({
                            "revision": 1,
                            "report": { "kind": "other", "during": big },
                        }))
                };
                let _ = req.bearer_auth(&token).send().await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = args.server.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("this binary's path")
            .with_file_name("varn-server")
    });
    if !bin.exists() {
        eprintln!(
            "varn-siege: no server binary at {}; build it first: cargo build --release -p varn-server --bins",
            bin.display()
        );
        std::process::exit(2);
    }
    let server = ServerProcess::start(&bin, None);
    let url = server.url.clone();
    let addr: SocketAddr = url.trim_start_matches("http://").parse().expect("address");
    server.add_officer("hanna");
    // People: enough devices that the timed alarms stay within each one's quota (30 in 10
    // minutes); the attacker's device is the last.
    let phases: [(&str, &[Attack]); 5] = [
        ("quiet", &[]),
        ("half-open", &[Attack::HalfOpen]),
        ("logins", &[Attack::Logins]),
        ("flood", &[Attack::Flood]),
        (
            "all three",
            &[Attack::HalfOpen, Attack::Logins, Attack::Flood],
        ),
    ];
    let people = (args.alarms * phases.len()).div_ceil(25) + 1;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut tokens = Vec::new();
    for i in 0..people {
        let code = server.enrollment_code(&format!("Person {i}"));
        let e: serde_json::Value = http
            .post(format!("{url}/v1/enroll"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("enroll")
            .json()
            .await
            .expect("enroll answer");
        tokens.push(e["token"].as_str().expect("token").to_string());
    }
    let attacker_device = tokens.pop().expect("a device");
    println!(
        "varn-siege: {} (default limits, SQLite), {} alarms per phase, {} people",
        bin.display(),
        args.alarms,
        tokens.len()
    );
    println!(
        "{:10} {:>8} {:>8} {:>8} {:>9} {:>14}",
        "phase", "p50 ms", "p95 ms", "max ms", "failures", "peak RSS MiB"
    );
    let mut next = 0usize;
    for (name, attacks) in phases {
        let stop = Arc::new(AtomicBool::new(false));
        let mut running = Vec::new();
        for a in attacks {
            let stop = stop.clone();
            running.push(match a {
                Attack::HalfOpen => tokio::spawn(hold_half_open(addr, ip("127.0.0.2"), 1000, stop)),
                Attack::Logins => tokio::spawn(flood_logins(url.clone(), stop)),
                Attack::Flood => {
                    tokio::spawn(flood_device(url.clone(), attacker_device.clone(), stop))
                }
            });
        }
        // Let the attack build up, then count memory from here.
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.reset_peak();
        let mut times = Vec::new();
        let mut failures = 0;
        for _ in 0..args.alarms {
            let token = &tokens[next % tokens.len()];
            next += 1;
            let start = Instant::now();
            let res = http
                .put(format!("{url}/v1/alarms/{}", Uuid::now_v7()))
                .bearer_auth(token)
                .json(&json!({ "triggered_at": chrono::Utc::now(), "place": "Torget" }))
                .send()
                .await;
            match res {
                Ok(r) if r.status() == reqwest::StatusCode::CREATED => times.push(start.elapsed()),
                _ => failures += 1,
            }
            tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
        }
        let peak = server.peak_rss_kib();
        stop.store(true, Ordering::Relaxed);
        for r in running {
            let _ = r.await;
        }
        times.sort();
        println!(
            "{name:10} {:8.1} {:8.1} {:8.1} {failures:9} {:14}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(times.last().copied().unwrap_or_default()),
            peak / 1024
        );
        // The half-open connections drain before the next phase.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
