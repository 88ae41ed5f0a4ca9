//! `varn-siege`: the alarm path under attack, measured. Starts the built `varn-server` (the
//! one beside this binary, default limits, a fresh SQLite file) as a process of its own and
//! times alarms from real people while an attacker **on the people's own address** does its
//! worst, one attack at a time and then all at once:
//!
//! - **wrong tokens**: 300 requests with made-up device tokens, 30 at a time;
//! - **half-open**: 1 000 connections that never finish their headers (each reopened a
//!   second after the server closes it);
//! - **logins**: 80 wrong logins for the officer's username at a time, again and again;
//! - **flood**: one enrolled device sending alarms and 90 KiB reports from 32 connections as
//!   fast as it can.
//!
//! With `--nginx` the same again through nginx (Debian's package, the site the `.deb` ships,
//! the server trusting it as its proxy), attacker and people behind it on one address.
//!
//! For each phase it prints the alarms' p50/p95/max from `PUT` to receipt, the failures, the
//! officer's login (from a browser that has signed in before) and the server's peak resident
//! memory during the phase.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use varn_server::testkit::attack::{
    enough_files, flood_device, flood_logins, hold_half_open, ip, officer_login, time_alarms,
    wrong_tokens, Target,
};
use varn_server::testkit::nginx::Nginx;
use varn_server::testkit::process::ServerProcess;

#[derive(Parser)]
#[command(about = "The Värn region server's alarm path under attack, on loopback")]
struct Args {
    /// The server binary [default: varn-server beside this one].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Alarms timed in each phase (one after another, from people on the attacker's address).
    #[arg(long, default_value_t = 200)]
    alarms: usize,
    /// Pause between two timed alarms, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pause_ms: u64,
    /// Also run every phase through nginx in front of the server.
    #[arg(long)]
    nginx: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Attack {
    WrongTokens,
    HalfOpen,
    Logins,
    Flood,
}

const PHASES: [(&str, &[Attack]); 6] = [
    ("quiet", &[]),
    ("wrong tokens", &[Attack::WrongTokens]),
    ("half-open", &[Attack::HalfOpen]),
    ("logins", &[Attack::Logins]),
    ("flood", &[Attack::Flood]),
    (
        "all four",
        &[
            Attack::WrongTokens,
            Attack::HalfOpen,
            Attack::Logins,
            Attack::Flood,
        ],
    ),
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs every phase against `target`, the people and the attacker on `shared`.
async fn siege(
    server: &ServerProcess,
    target: &Target,
    tokens: &[String],
    attacker_device: &str,
    args: &Args,
) {
    let shared: IpAddr = ip("127.0.0.2");
    let officer = target.browser_from(shared);
    let (status, _) = officer_login(&officer, &target.url, "hanna").await;
    assert_eq!(status, 200, "the officer's first login");
    println!(
        "{:13} {:>8} {:>8} {:>8} {:>9} {:>12} {:>14}",
        "phase", "p50 ms", "p95 ms", "max ms", "failures", "officer ms", "peak RSS MiB"
    );
    let mut next = 0usize;
    for (name, attacks) in PHASES {
        let stop = Arc::new(AtomicBool::new(false));
        let mut running = Vec::new();
        for a in attacks {
            let (stop, target) = (stop.clone(), target.clone());
            running.push(match a {
                Attack::WrongTokens => tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        wrong_tokens(&target, shared, 300, 30).await;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Default::default()
                }),
                Attack::HalfOpen => tokio::spawn(async move {
                    hold_half_open(target.addr, shared, 1000, stop).await;
                    Default::default()
                }),
                Attack::Logins => {
                    tokio::spawn(flood_logins(target, vec![shared], "hanna".into(), 80, stop))
                }
                Attack::Flood => tokio::spawn(flood_device(
                    target,
                    attacker_device.to_string(),
                    shared,
                    32,
                    90,
                    stop,
                )),
            });
        }
        // Let the attack build up, then count memory from here.
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.reset_peak();
        let batch: Vec<String> = (0..args.alarms)
            .map(|i| tokens[(next + i) % tokens.len()].clone())
            .collect();
        next += args.alarms;
        let timed = time_alarms(
            &target.client_from(shared),
            &target.url,
            &batch,
            args.alarms,
            Duration::from_millis(args.pause_ms),
        )
        .await;
        let (officer_status, officer_took) = officer_login(&officer, &target.url, "hanna").await;
        let peak = server.peak_rss_kib();
        stop.store(true, Ordering::Relaxed);
        for r in running {
            let _ = r.await;
        }
        println!(
            "{name:13} {:8.1} {:8.1} {:8.1} {:9} {:>12} {:14}",
            ms(timed.percentile(0.5)),
            ms(timed.percentile(0.95)),
            ms(timed.max()),
            timed.failures.len(),
            if officer_status == 200 {
                format!("{:.0}", ms(officer_took))
            } else {
                format!("{officer_status}!")
            },
            peak / 1024
        );
        if !timed.failures.is_empty() {
            println!(
                "  failures: {:?}",
                &timed.failures[..timed.failures.len().min(5)]
            );
        }
        if !timed.resent.is_empty() {
            println!(
                "  sent again (connection closed before an answer): {}",
                timed.resent.len()
            );
        }
        // The half-open connections drain before the next phase.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    enough_files();
    let bin = args.server.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("this binary's path")
            .with_file_name("varn-server")
    });
    if !bin.exists() {
        eprintln!(
            "varn-siege: no server binary at {}; build it first: cargo build --release -p varn-server --features testkit --bins",
            bin.display()
        );
        std::process::exit(2);
    }
    // Trusting loopback as its proxy changes nothing for direct requests from 127.0.0.2.
    // (No public_url: its Secure cookies would not come back over the direct phase's plain
    // HTTP, and the officer's browser would not be one that signed in before.)
    let server =
        ServerProcess::start_configured(&bin, None, "trusted_proxies = [\"127.0.0.1/32\"]\n");
    server.add_officer("hanna");
    // People: enough devices that the timed alarms stay within each one's quota (30 in 10
    // minutes); the attacker's device is the last.
    let runs = if args.nginx { 2 } else { 1 };
    let people = (args.alarms * PHASES.len() * runs).div_ceil(25) + 1;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..people {
        let code = server.enrollment_code(&format!("Person {i}"));
        let e: serde_json::Value = http
            .post(format!("{}/v1/enroll", server.url))
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
    let half = tokens.len() / runs;
    println!(
        "varn-siege: {} (default limits, SQLite), {} alarms per phase, {} people, attacker and people on 127.0.0.2",
        bin.display(),
        args.alarms,
        tokens.len()
    );
    println!("\ndirect to the server:");
    siege(
        &server,
        &Target::direct(&server.url),
        &tokens[..half],
        &attacker_device,
        &args,
    )
    .await;
    if args.nginx {
        let upstream = server
            .url
            .trim_start_matches("http://")
            .parse()
            .expect("address");
        let nginx = Nginx::start(upstream);
        println!("\nthrough nginx ({}):", nginx.url());
        siege(
            &server,
            &Target::through(&nginx),
            &tokens[half..],
            &attacker_device,
            &args,
        )
        .await;
    }
}
