//! The alarm path against an attacker, not only against bad networks: one machine holding
//! connections open, trickling bodies and flooding wrong logins; one enrolled device sending
//! more than its share; an officer's session that must stop streaming names and places the
//! moment it ends. Each attack is a test against the real server.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;
use varn_core::wire::EnrollResponse;
use varn_server::clock::{Clock, ManualClock};
use varn_server::limits::Limits;
use varn_server::store::OfficerChange;
use varn_server::testkit::attack::{client_from, connect_from, ip, percentile};
use varn_server::testkit::device::Device;
use varn_server::testkit::process::ServerProcess;
use varn_server::testkit::{http_client, read_event, TestServer, OFFICER_PASSWORD};

/// Whether the server has closed `conn` (a read gives end-of-file or an error) within `wait`.
async fn closed_within(conn: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

fn with_limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

/// Connections that never finish their headers (or never send a byte) are closed when the
/// header timeout passes, and one address gets no more than its share of connections.
#[tokio::test]
async fn half_open_connections_are_closed_within_the_header_timeout_and_capped_per_address() {
    let s = TestServer::start_with_limits(with_limits(|l| {
        l.header_read_timeout = Duration::from_secs(2);
        l.max_connections_per_peer = 20;
    }))
    .await;
    let attacker = ip("127.0.0.2");
    let mut held = Vec::new();
    for i in 0..40 {
        let mut c = connect_from(attacker, s.running.addr).await.unwrap();
        if i % 2 == 0 {
            // Half the headers, never the end.
            c.write_all(b"PUT /v1/alarms/x HTTP/1.1\r\nHost: varn\r\n")
                .await
                .unwrap();
        }
        held.push(c);
    }
    let start = Instant::now();
    // Over the cap: closed at once.
    let mut refused = 0;
    for c in held.iter_mut().skip(20) {
        if closed_within(c, Duration::from_millis(500)).await {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 20,
        "the 20 connections over the per-address cap are closed at once"
    );
    // Another machine is not affected meanwhile.
    let res = client_from(ip("127.0.0.3"))
        .get(format!("{}/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for c in held.iter_mut().take(20) {
        assert!(
            closed_within(c, Duration::from_secs(4)).await,
            "a half-open connection outlived the header timeout"
        );
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "closed after {took:?}");
    // Their places are free again.
    let mut again = connect_from(attacker, s.running.addr).await.unwrap();
    again
        .write_all(b"GET /health HTTP/1.1\r\nHost: varn\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    again.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A body that trickles in is cut off when the body deadline passes, with 408.
#[tokio::test]
async fn a_trickling_body_is_cut_off() {
    let s = TestServer::start_with_limits(with_limits(|l| l.body_timeout = Duration::from_secs(2)))
        .await;
    let mut c = TcpStream::connect(s.running.addr).await.unwrap();
    c.write_all(
        b"POST /v1/enroll HTTP/1.1\r\nHost: varn\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    // One byte a second: never enough to finish before the deadline.
    loop {
        tokio::select! {
            n = c.read(&mut buf) => {
                let n = n.unwrap_or(0);
                if n == 0 { break; }
                answer.extend_from_slice(&buf[..n]);
            }
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                if c.write_all(b" ").await.is_err() { break; }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "still reading after 6 s"
        );
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

/// Parallel wrong logins from one address run at most the allowed number of password
/// checks: the failure slot is taken before the check. The right password is then refused
/// too until the window passes, while another address (another officer's) still logs in.
#[tokio::test]
async fn a_burst_of_wrong_logins_runs_no_more_checks_than_the_limit() {
    let s = TestServer::start().await;
    s.add_officer("hanna", "Hanna", "sormland").await;
    s.add_officer("olle", "Olle", "sormland").await;
    let from = ip("127.0.0.4");
    let c = client_from(from);
    let tries = (0..80).map(|_| {
        let c = c.clone();
        let url = format!("{}/dashboard/api/login", s.url());
        async move {
            c.post(url)
                .json(&json!({ "username": "hanna", "password": "fel lösenord" }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(tries).await;
    let count = |st: StatusCode| statuses.iter().filter(|s| **s == st).count();
    let checked = count(StatusCode::UNAUTHORIZED);
    assert!(
        checked <= 10,
        "{checked} wrong passwords were checked; the limit is 10 ({statuses:?})"
    );
    assert_eq!(
        checked + count(StatusCode::TOO_MANY_REQUESTS) + count(StatusCode::SERVICE_UNAVAILABLE),
        80,
        "every other attempt was refused before the check: {statuses:?}"
    );
    // Attempts the pool turned away (503) were not counted; the rest of the allowance goes
    // one by one, and then the address is refused.
    let mut more = 0;
    loop {
        let st = c
            .post(format!("{}/dashboard/api/login", s.url()))
            .json(&json!({ "username": "hanna", "password": "fel lösenord" }))
            .send()
            .await
            .unwrap()
            .status();
        if st == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        more += 1;
        assert!(checked + more <= 10, "more than 10 checks from one address");
    }
    let right = c
        .post(format!("{}/dashboard/api/login", s.url()))
        .json(&json!({ "username": "hanna", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked out for now"
    );
    assert!(right.headers().contains_key("retry-after"));
    let other = client_from(ip("127.0.0.5"))
        .post(format!("{}/dashboard/api/login", s.url()))
        .json(&json!({ "username": "olle", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another officer is not locked out"
    );
}

/// Wrong logins spread over many addresses still count against the username.
#[tokio::test]
async fn wrong_logins_from_many_addresses_count_against_the_username() {
    let s = TestServer::start().await;
    s.add_officer("hanna", "Hanna", "sormland").await;
    for i in 0..10 {
        let res = client_from(ip(&format!("127.0.1.{}", i + 1)))
            .post(format!("{}/dashboard/api/login", s.url()))
            .json(&json!({ "username": "hanna", "password": "fel" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = client_from(ip("127.0.1.99"))
        .post(format!("{}/dashboard/api/login", s.url()))
        .json(&json!({ "username": "hanna", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("username"),
        "{body}"
    );
}

async fn raise(d: &Device, id: Uuid) -> reqwest::Response {
    d.put(
        &format!("/v1/alarms/{id}"),
        &json!({ "triggered_at": Utc::now(), "place": "Torget" }),
    )
    .await
}

/// One enrolled device cannot flood the server: past its quota of new alarms it gets 429
/// with problem+json and `Retry-After`, a retry of an alarm it already raised is still
/// answered, and another device's alarm goes through.
#[tokio::test]
async fn a_device_over_its_quota_gets_429_while_another_devices_alarm_goes_through() {
    let s = TestServer::start().await;
    let flood = s.device("Flödaren").await;
    let quota = Limits::default().device.alarms_per_10_minutes;
    let mut first = None;
    for _ in 0..quota {
        let id = Uuid::now_v7();
        first.get_or_insert(id);
        assert_eq!(raise(&flood, id).await.status(), StatusCode::CREATED);
    }
    let over = raise(&flood, Uuid::now_v7()).await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(over.headers().contains_key("retry-after"));
    assert_eq!(over.headers()["content-type"], "application/problem+json");
    let retry = raise(&flood, first.unwrap()).await;
    assert_eq!(
        retry.status(),
        StatusCode::OK,
        "a retry of an alarm already raised"
    );
    let other = s.device("Anna Andersson").await;
    assert_eq!(
        raise(&other, Uuid::now_v7()).await.status(),
        StatusCode::CREATED
    );
}

/// A wrong token costs the address a failure before the database is asked; past the
/// limit the address is refused outright, while a real device elsewhere is not.
#[tokio::test]
async fn wrong_device_tokens_are_limited_per_address() {
    let s = TestServer::start().await;
    let d = s.device("Anna Andersson").await;
    let from = client_from(ip("127.0.0.6"));
    let limit = Limits::default().failures.bad_tokens_per_address;
    for i in 0..limit {
        let res = from
            .get(format!("{}/v1/me", s.url()))
            .bearer_auth(format!("guess-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = from
        .get(format!("{}/v1/me", s.url()))
        .bearer_auth("guess-again")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = d.get("/v1/me").await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// An officer's live feed: opens, then waits for `ended` (or the feed's end).
async fn feed(c: &reqwest::Client, s: &TestServer) -> (reqwest::Response, String) {
    let mut res = c
        .get(format!("{}/dashboard/api/events", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut buf = String::new();
    read_event(&mut res, &mut buf, "snapshot", Duration::from_secs(5))
        .await
        .expect("snapshot");
    (res, buf)
}

/// The feed says `ended` (or stops) within 5 s, and nothing is streamed after that.
async fn ends_within_5_s(res: &mut reqwest::Response, buf: &mut String, what: &str) {
    let start = Instant::now();
    let ended = read_event(res, buf, "ended", Duration::from_secs(5)).await;
    assert!(
        start.elapsed() <= Duration::from_secs(5),
        "{what}: the feed went on for {:?}",
        start.elapsed()
    );
    let _ = ended;
    let rest = tokio::time::timeout(Duration::from_secs(2), res.chunk()).await;
    assert!(
        matches!(rest, Ok(Ok(None)) | Ok(Err(_))),
        "{what}: the feed is closed after it ended: {rest:?}"
    );
}

/// A live feed ends within seconds of its session ending: logout, the officer disabled, the
/// session expired. After that, no alarm reaches it.
#[tokio::test]
async fn a_logged_out_disabled_or_expired_sessions_live_feed_ends_within_5_s() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = TestServer::start_with(clock.clone()).await;

    // Logout (from another tab: the same cookie).
    let c = s.officer_client("hanna", "Hanna", "sormland").await;
    let (mut res, mut buf) = feed(&c, &s).await;
    let out = c
        .post(format!("{}/dashboard/api/logout", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    ends_within_5_s(&mut res, &mut buf, "logout").await;

    // Disabled by the region (the CLI's `officer disable`).
    let c = s.officer_client("olle", "Olle", "sormland").await;
    let (mut res, mut buf) = feed(&c, &s).await;
    s.store
        .change_officer("olle", &OfficerChange::Disable(clock.now()))
        .await
        .unwrap()
        .expect("olle exists");
    ends_within_5_s(&mut res, &mut buf, "disabled").await;
    let again = c
        .get(format!("{}/dashboard/api/alarms", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let login = http_client()
        .post(format!("{}/dashboard/api/login", s.url()))
        .json(&json!({ "username": "olle", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled officer cannot log in"
    );

    // Expired: the session's 12 hours pass.
    let c = s.officer_client("stina", "Stina", "sormland").await;
    let (mut res, mut buf) = feed(&c, &s).await;
    clock.advance(chrono::Duration::hours(13));
    ends_within_5_s(&mut res, &mut buf, "expired").await;
}

/// A session nobody uses (no dashboard open) ends after the idle time; an open dashboard's
/// feed keeps its session alive.
#[tokio::test]
async fn an_idle_session_ends_and_an_open_feed_keeps_its_session() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = TestServer::start_with(clock.clone()).await;
    let idle = s.officer_client("hanna", "Hanna", "sormland").await;
    let watching = s.officer_client("olle", "Olle", "sormland").await;
    let (mut res, mut buf) = feed(&watching, &s).await;
    // 20 minutes pass, the feed checks in (every 2 s), then 20 more.
    clock.advance(chrono::Duration::minutes(20));
    tokio::time::sleep(Duration::from_secs(3)).await;
    clock.advance(chrono::Duration::minutes(20));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let me = |c: reqwest::Client| {
        let url = format!("{}/dashboard/api/me", s.url());
        async move { c.get(url).send().await.unwrap().status() }
    };
    assert_eq!(
        me(idle).await,
        StatusCode::UNAUTHORIZED,
        "idle for 40 minutes"
    );
    assert_eq!(
        me(watching).await,
        StatusCode::OK,
        "an open dashboard stays logged in"
    );
    let alarm = Uuid::now_v7();
    let d = s.device("Anna Andersson").await;
    assert_eq!(raise(&d, alarm).await.status(), StatusCode::CREATED);
    let ev = read_event(&mut res, &mut buf, "alarm", Duration::from_secs(5))
        .await
        .expect("the feed still streams");
    assert_eq!(ev["id"], alarm.to_string());
}

/// The person unlinking the app revokes the device on the server at once, and the region's
/// dashboard shows that the person did it.
#[tokio::test]
async fn unlinking_revokes_the_device_and_the_dashboard_shows_it() {
    let s = TestServer::start().await;
    let d = s.device("Anna Andersson").await;
    let res = d.delete("/v1/me").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = d.get("/v1/me").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let officer = s.officer_client("hanna", "Hanna", "sormland").await;
    let devices: Vec<Value> = s.officer_json(&officer, "/dashboard/api/devices").await;
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["revoked_by"], "person");
    assert!(devices[0]["revoked_at"].is_string());
    // Another region's officer does not see it.
    let other = s.officer_client("uppsala", "U", "uppsala").await;
    let devices: Vec<Value> = s.officer_json(&other, "/dashboard/api/devices").await;
    assert!(devices.is_empty());
}

/// A copy of the database alone does not reveal enrollment codes: they are stored as an HMAC
/// under the server's secret, not as their plain SHA-256 (which ~39 bits would not protect).
#[tokio::test]
async fn enrollment_codes_are_stored_under_the_servers_secret() {
    let s = TestServer::start().await;
    let code = s.enrollment_code("Anna Andersson").await;
    let normalized = varn_core::wire::normalize_code(&code);
    let bytes = s.stored_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let plain = varn_server::auth::hash_secret(&normalized);
    let keyed = varn_server::testkit::test_secret().code_hash(&normalized);
    assert!(text.contains(&keyed), "the code is stored, keyed");
    assert!(!text.contains(&plain), "not as its plain SHA-256");
    assert!(!text.contains(&normalized), "nor in clear");
}

/// Many connections from one machine, a flood of wrong logins from many addresses and a
/// device that keeps sending: a real alarm from someone else is accepted quickly throughout,
/// and the server's memory stays bounded. The server is a process of its own (the built
/// binary, default limits) so that its memory can be read.
#[tokio::test]
async fn an_alarm_is_accepted_quickly_while_the_server_is_attacked() {
    let run = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_varn-server")), None);
    let url = run.url.clone();
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let devices: Vec<EnrollResponse> = {
        let mut out = Vec::new();
        for name in ["Anna Andersson", "Bo Berg", "Cecilia Ceder"] {
            let code = run.enrollment_code(name);
            let res = http_client()
                .post(format!("{url}/v1/enroll"))
                .json(&json!({ "code": code }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            out.push(res.json().await.unwrap());
        }
        out
    };
    run.add_officer("hanna");
    let before = run.peak_rss_kib();

    // One machine holds 1 000 connections it never finishes.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holder = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            for i in 0..1000 {
                if let Ok(mut c) = connect_from(ip("127.0.0.2"), addr).await {
                    if i % 2 == 0 {
                        let _ = c
                            .write_all(b"POST /dashboard/api/login HTTP/1.1\r\nHost: x\r\n")
                            .await;
                    }
                    held.push(c);
                }
            }
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            held.len()
        })
    };
    // 80 wrong logins at a time, from 80 addresses, again and again.
    let logins = {
        let (stop, url) = (stop.clone(), url.clone());
        tokio::spawn(async move {
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            let clients: Vec<reqwest::Client> = (0..80)
                .map(|i| client_from(ip(&format!("127.0.2.{}", i + 1))))
                .collect();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let round = clients.iter().map(|c| {
                    let url = format!("{url}/dashboard/api/login");
                    async move {
                        c.post(url)
                            .json(&json!({ "username": "hanna", "password": "fel lösenord!" }))
                            .send()
                            .await
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0)
                    }
                });
                for st in futures_util::future::join_all(round).await {
                    *statuses.entry(st).or_default() += 1;
                }
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Meanwhile: alarms from three people, one after another.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for i in 0..60 {
        let d = &devices[i % devices.len()];
        let id = Uuid::now_v7();
        let start = Instant::now();
        let res = client
            .put(format!("{url}/v1/alarms/{id}"))
            .bearer_auth(&d.token)
            .json(&json!({ "triggered_at": Utc::now(), "place": "Torget" }))
            .send()
            .await;
        let took = start.elapsed();
        match res {
            Ok(r) if r.status() == StatusCode::CREATED => times.push(took),
            Ok(r) => failures.push(format!("{}", r.status())),
            Err(e) => failures.push(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let peak = run.peak_rss_kib();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let held = holder.await.unwrap();
    let statuses = logins.await.unwrap();

    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    eprintln!(
        "under attack: alarm p50 {p50:?}, p95 {p95:?}; server peak RSS {} MiB (before {} MiB); \
         attacker connections made {held}; login answers {statuses:?}",
        peak / 1024,
        before / 1024
    );
    assert!(failures.is_empty(), "alarms failed: {failures:?}");
    assert!(p95 <= Duration::from_millis(250), "alarm p95 {p95:?}");
    assert!(peak <= 300 * 1024, "server peak RSS {} MiB", peak / 1024);
    assert!(
        !statuses.contains_key(&500) && !statuses.contains_key(&0),
        "logins got answers: {statuses:?}"
    );
}
