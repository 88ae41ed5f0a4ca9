//! What another machine looks like on loopback, for the attack tests and `varn-siege`: the
//! whole of 127.0.0.0/8 is this machine, so each address there stands for a machine of its
//! own (an attacker's, or another person's), and the server counts it as one. The attacks
//! themselves are here once, for the tests and the benchmark alike, and each can come from
//! the victim's own address and go straight to the server or through nginx ([`Target`]).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use uuid::Uuid;

use super::OFFICER_PASSWORD;

/// An address, e.g. `ip("127.0.0.2")`.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

/// A TCP connection to `to` from the loopback address `from`.
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// An HTTP client whose connections come from `from`.
pub fn client_from(from: IpAddr) -> reqwest::Client {
    client(from, None, false)
}

/// A client from `from` trusting `cert`, with a cookie store when it stands for a browser.
fn client(from: IpAddr, cert: Option<&reqwest::Certificate>, browser: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .local_address(from)
        .cookie_store(browser)
        .timeout(Duration::from_secs(30));
    if let Some(cert) = cert {
        b = b.add_root_certificate(cert.clone());
    }
    b.build().expect("http client")
}

/// The `p`-th percentile (0 to 1) of durations sorted in ascending order.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Where clients send their requests: the server itself, or the proxy in front of it.
#[derive(Clone)]
pub struct Target {
    /// Base URL, e.g. `http://127.0.0.1:41234` or `https://127.0.0.1:8443`.
    pub url: String,
    /// The address connections go to.
    pub addr: SocketAddr,
    /// The certificate to trust, for a proxy with a throwaway one.
    cert: Option<reqwest::Certificate>,
}

impl Target {
    /// The server at `url` (plain HTTP on loopback).
    pub fn direct(url: &str) -> Target {
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("http://IP:PORT");
        Target {
            url: url.trim_end_matches('/').to_string(),
            addr,
            cert: None,
        }
    }

    /// nginx in front of the server, trusting its certificate.
    pub fn through(nginx: &super::nginx::Nginx) -> Target {
        Target {
            url: nginx.url(),
            addr: nginx.addr,
            cert: Some(
                reqwest::Certificate::from_pem(nginx.cert_pem.as_bytes()).expect("certificate"),
            ),
        }
    }

    /// A client whose connections come from `from`.
    pub fn client_from(&self, from: IpAddr) -> reqwest::Client {
        client(from, self.cert.as_ref(), false)
    }

    /// A browser (it keeps cookies) whose connections come from `from`.
    pub fn browser_from(&self, from: IpAddr) -> reqwest::Client {
        client(from, self.cert.as_ref(), true)
    }
}

/// Holds `n` connections from `from` to `to` that never finish their headers (half of them
/// send part of a request, half nothing), opening a new one a second after the server
/// closes one, until `stop`. (A holder, not a flood of new connections: that is the
/// network's to stop, and behind the proxy the proxy's.)
pub async fn hold_half_open(to: SocketAddr, from: IpAddr, n: usize, stop: Arc<AtomicBool>) {
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
                    let _ = c
                        .write_all(b"POST /dashboard/api/login HTTP/1.1\r\nHost: x\r\n")
                        .await;
                }
                // Until the server closes it (or the attack ends).
                let mut buf = [0u8; 64];
                tokio::select! {
                    _ = tokio::io::AsyncReadExt::read(&mut c, &mut buf) => {}
                    _ = until(&stop) => {}
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn until(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `attack` in the background (it is given the flag that stops it), lets it build up for
/// `build_up`, runs `meanwhile`, then stops the attack: what the attack returned (what it was
/// answered), and what `meanwhile` returned.
pub async fn while_attacking<A, M>(
    attack: impl FnOnce(Arc<AtomicBool>) -> A,
    build_up: Duration,
    meanwhile: M,
) -> (A::Output, M::Output)
where
    A: std::future::Future + Send + 'static,
    A::Output: Send + 'static,
    M: std::future::Future,
{
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(attack(stop.clone()));
    tokio::time::sleep(build_up).await;
    let out = meanwhile.await;
    stop.store(true, Ordering::SeqCst);
    (running.await.expect("the attack ran to its end"), out)
}

/// The statuses answered to an attack, counted (0: no answer at all).
pub type Answers = BTreeMap<u16, usize>;

fn count(answers: &mut Answers, res: Result<reqwest::Response, reqwest::Error>) {
    if let Err(e) = &res {
        if std::env::var_os("VARN_ATTACK_DEBUG").is_some() {
            eprintln!("attack: no answer: {e:?}");
        }
    }
    *answers
        .entry(res.map(|r| r.status().as_u16()).unwrap_or(0))
        .or_default() += 1;
}

/// `parallel` wrong logins for `username` at a time from each of `from`, again and again
/// until `stop`; returns what they were answered.
pub async fn flood_logins(
    target: Target,
    from: Vec<IpAddr>,
    username: String,
    parallel: usize,
    stop: Arc<AtomicBool>,
) -> Answers {
    let clients: Vec<reqwest::Client> = from.iter().map(|ip| target.client_from(*ip)).collect();
    let mut answers = Answers::new();
    while !stop.load(Ordering::Relaxed) {
        let round = clients.iter().flat_map(|c| {
            (0..parallel).map(|_| {
                c.post(format!("{}/dashboard/api/login", target.url))
                    .json(&json!({ "username": username, "password": "fel lösenord!" }))
                    .send()
            })
        });
        for res in futures_util::future::join_all(round).await {
            count(&mut answers, res);
        }
    }
    answers
}

/// `n` requests with made-up device tokens from `from`, `parallel` at a time; returns what
/// they were answered.
pub async fn wrong_tokens(target: &Target, from: IpAddr, n: usize, parallel: usize) -> Answers {
    let c = target.client_from(from);
    let mut answers = Answers::new();
    let mut sent = 0;
    while sent < n {
        let batch = parallel.min(n - sent);
        let round = (0..batch).map(|i| {
            c.get(format!("{}/v1/me", target.url))
                .bearer_auth(format!("guess-{}-{i}", Uuid::now_v7()))
                .send()
        });
        for res in futures_util::future::join_all(round).await {
            count(&mut answers, res);
        }
        sent += batch;
    }
    answers
}

/// One enrolled device (`token`) from `from` sending alarms and reports of `report_kib` KiB
/// from `workers` connections as fast as it can, until `stop`; returns what it was answered.
pub async fn flood_device(
    target: Target,
    token: String,
    from: IpAddr,
    workers: usize,
    report_kib: usize,
    stop: Arc<AtomicBool>,
) -> Answers {
    // The bodies are made once, as an attacker's tool would: its cost is the server's.
    let report = bytes::Bytes::from(
        json!({ "revision": 1, "report": { "kind": "other", "during": "x".repeat(report_kib * 1024) } })
            .to_string(),
    );
    let alarm = bytes::Bytes::from(
        json!({ "triggered_at": chrono::Utc::now(), "place": "Flöde" }).to_string(),
    );
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (target, token, stop) = (target.clone(), token.clone(), stop.clone());
        let (report, alarm) = (report.clone(), alarm.clone());
        tasks.push(tokio::spawn(async move {
            let c = target.client_from(from);
            let mut answers = Answers::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let (what, body) = if (i + w).is_multiple_of(2) {
                    ("alarms", alarm.clone())
                } else {
                    ("reports", report.clone())
                };
                let req = c
                    .put(format!("{}/v1/{what}/{}", target.url, Uuid::now_v7()))
                    .header("content-type", "application/json")
                    .body(body);
                count(&mut answers, req.bearer_auth(&token).send().await);
            }
            answers
        }));
    }
    let mut all = Answers::new();
    for t in tasks {
        for (status, n) in t.await.unwrap_or_default() {
            *all.entry(status).or_default() += n;
        }
    }
    all
}

/// Alarms timed from `PUT` to their `201`: the durations in order, and what went wrong with
/// the others.
#[derive(Debug, Default)]
pub struct Timed {
    /// Durations of the alarms answered `201`, ascending (a resent one from its first try).
    pub times: Vec<Duration>,
    /// Every alarm not answered `201`: its status or error.
    pub failures: Vec<String>,
    /// Alarms sent again because the server closed their connection before any answer (as
    /// the app does: the same id, so it is stored once): why the first try failed.
    pub resent: Vec<String>,
}

impl Timed {
    /// At most one alarm in ten had to be sent again (its connection closed before an
    /// answer): the server closes a person's connection only in a race, never as a rule.
    pub fn assert_resent_rarely(&self, n: usize, during: &str) {
        assert!(
            self.resent.len() * 10 <= n,
            "{during}: {} of {n} alarms had to be sent again: {:?}",
            self.resent.len(),
            self.resent
        );
    }

    /// The `p`-th percentile of the answered alarms.
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.times, p)
    }

    /// The slowest answered alarm.
    pub fn max(&self) -> Duration {
        self.times.last().copied().unwrap_or_default()
    }
}

/// `n` alarms from `client`, the devices of `tokens` taking turns, `pause` apart.
pub async fn time_alarms(
    client: &reqwest::Client,
    url: &str,
    tokens: &[String],
    n: usize,
    pause: Duration,
) -> Timed {
    let mut timed = Timed::default();
    for i in 0..n {
        let start = Instant::now();
        let id = Uuid::now_v7();
        let body = json!({ "triggered_at": chrono::Utc::now(), "place": "Torget" });
        let put = || {
            client
                .put(format!("{url}/v1/alarms/{id}"))
                .bearer_auth(&tokens[i % tokens.len()])
                .json(&body)
                .send()
        };
        let mut res = put().await;
        // A connection closed before any answer (the server made room for a newer one just as
        // this request went out): sent again at once, on a new connection, as the app does.
        let mut resent = false;
        if let Err(e) = &res {
            if e.is_request() || e.is_connect() {
                timed.resent.push(format!("{e:?}"));
                resent = true;
                res = put().await;
            }
        }
        match res {
            Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                timed.times.push(start.elapsed())
            }
            // The first try was stored after all: the resend gets its receipt.
            Ok(r) if r.status() == reqwest::StatusCode::OK && resent => {
                timed.times.push(start.elapsed())
            }
            Ok(r) => timed.failures.push(r.status().to_string()),
            Err(e) => timed.failures.push(format!("{e:?}")),
        }
        tokio::time::sleep(pause).await;
    }
    timed.times.sort();
    timed
}

/// The device of `token` raises 20 alarms from `from` through `target`, 20 ms apart, while
/// something else goes on: none may be refused and the p95 stays within 250 ms (the aim for
/// the alarm path under attack). Prints the figures; returns them.
pub async fn alarms_go_through(target: &Target, from: IpAddr, token: &str, during: &str) -> Timed {
    let timed = time_alarms(
        &target.client_from(from),
        &target.url,
        std::slice::from_ref(&token.to_string()),
        20,
        Duration::from_millis(20),
    )
    .await;
    eprintln!(
        "{during}: p50 {:?}, p95 {:?}, max {:?}, failures {:?}, resent {}",
        timed.percentile(0.5),
        timed.percentile(0.95),
        timed.max(),
        timed.failures,
        timed.resent.len()
    );
    assert!(
        timed.failures.is_empty(),
        "{during}: refused {:?}",
        timed.failures
    );
    timed.assert_resent_rarely(20, during);
    assert!(
        timed.percentile(0.95) <= Duration::from_millis(250),
        "{during}: p95 {:?}",
        timed.percentile(0.95)
    );
    timed
}

/// An officer's login from `client` with the right password: its status and how long it
/// took, waiting as the dashboard does when told to come back (429/503 with a short
/// `Retry-After`).
pub async fn officer_login(client: &reqwest::Client, url: &str, username: &str) -> (u16, Duration) {
    let start = Instant::now();
    loop {
        let res = client
            .post(format!("{url}/dashboard/api/login"))
            .json(&json!({ "username": username, "password": OFFICER_PASSWORD }))
            .send()
            .await;
        let res = match res {
            Ok(res) => res,
            Err(e) => {
                eprintln!("officer login: no answer: {e:?}");
                return (0, start.elapsed());
            }
        };
        let status = res.status().as_u16();
        let wait: u64 = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if (status == 429 || status == 503)
            && (1..=10).contains(&wait)
            && start.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        return (status, start.elapsed());
    }
}

/// Raises this process's open-file limit to its hard limit: an attack test holds a thousand
/// connections and more, and each is a file on both ends.
pub fn enough_files() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}
