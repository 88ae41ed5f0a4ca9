//! Signing in with the region's identity provider: the dashboard's whole login round trip
//! against the local test provider (panva's oidc-provider, as in the tests: the button, the
//! provider's form, the code exchanged and the ID token checked, the session stored), and what
//! checking a session adds to each dashboard request (`GET /dashboard/api/me` with a
//! provider's session and with a password session, against `GET /dashboard/api/sign-in`,
//! which has none), and a request that waits for the renewal at the provider. SQLite by default; PostgreSQL with `VARN_TEST_DATABASE=postgres`. Needs
//! `npm ci --prefix tests/oidc` (`scripts/test` runs it).
//!
//!     cargo bench -p varn-server --bench oidc_login

use std::sync::Arc;
use std::time::{Duration, Instant};

use varn_server::clock::SystemClock;
use varn_server::testkit::oidc::{Person, TestProvider, HANDLERS, MFA};
use varn_server::testkit::{postgres_wanted, TestServer};

const LOGINS: usize = 100;
const REQUESTS: usize = 2000;
const RENEWALS: usize = 20;

fn summary(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = times.len();
    println!(
        "{what}, {n} times: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(times[n / 2]),
        ms(times[n * 95 / 100]),
        ms(times[n - 1])
    );
}

async fn timed(person: &Person, path: &str) -> Vec<Duration> {
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let t = Instant::now();
        let res = person.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        res.bytes().await.expect("body");
        times.push(t.elapsed());
    }
    times
}

#[tokio::main]
async fn main() {
    let backend = if postgres_wanted() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let provider = TestProvider::start().await;
    let server =
        TestServer::start_with_oidc(vec![provider.region("sormland")], Arc::new(SystemClock)).await;
    provider.redirect_to(&server.url()).await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    // The first sign-in fetches the provider's metadata and keys; not counted.
    assert_eq!(
        Person::new(&server.url()).sign_in("sormland", "anna").await,
        "/dashboard"
    );
    let mut logins = Vec::with_capacity(LOGINS);
    let mut last = None;
    for _ in 0..LOGINS {
        let person = Person::new(&server.url());
        let t = Instant::now();
        assert_eq!(person.sign_in("sormland", "anna").await, "/dashboard");
        logins.push(t.elapsed());
        last = Some(person);
    }
    summary(
        &format!("login round trip on {backend} (button to signed in, loopback)"),
        logins,
    );
    let anna = last.expect("signed in");
    let body = serde_json::json!({ "username": "hanna", "password": varn_server::testkit::OFFICER_PASSWORD });
    // The region keeps local passwords off for everyone but break-glass by default: this
    // server's region is the provider's, so the password session is made on another server.
    let plain = TestServer::start().await;
    plain.add_officer("hanna", "Hanna", "sormland").await;
    let hanna_plain = Person::new(&plain.url());
    let res = hanna_plain.post("/dashboard/api/login", body).await;
    assert_eq!(res.status(), 200);
    summary(
        "GET /dashboard/api/sign-in (no session)",
        timed(&anna, "/dashboard/api/sign-in").await,
    );
    summary(
        "GET /dashboard/api/me (provider's session)",
        timed(&anna, "/dashboard/api/me").await,
    );
    summary(
        "GET /dashboard/api/me (password session)",
        timed(&hanna_plain, "/dashboard/api/me").await,
    );
    server.stop().await;
    plain.stop().await;
    // A request when the renewal is due: it waits for the refresh at the provider.
    let mut region = provider.region("sormland");
    region.renew_every = chrono::Duration::seconds(1);
    let renewing = TestServer::start_with_oidc(vec![region], Arc::new(SystemClock)).await;
    provider.redirect_to(&renewing.url()).await;
    let person = Person::new(&renewing.url());
    assert_eq!(person.sign_in("sormland", "anna").await, "/dashboard");
    let mut renewals = Vec::with_capacity(RENEWALS);
    for _ in 0..RENEWALS {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let t = Instant::now();
        assert_eq!(person.get("/dashboard/api/me").await.status(), 200);
        renewals.push(t.elapsed());
    }
    summary(
        "GET /dashboard/api/me with the renewal due (refresh at the provider)",
        renewals,
    );
    renewing.stop().await;
}
