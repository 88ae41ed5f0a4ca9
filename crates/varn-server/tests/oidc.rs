//! Officers sign in with the region's identity provider: a real, certified OpenID provider
//! (panva's oidc-provider) on loopback, the real server on port 0, both databases (the suite
//! runs again with VARN_TEST_DATABASE=postgres). Each refusal is checked to sign nobody in.

use chrono::Utc;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use varn_server::clock::{Clock, ManualClock, SystemClock};
use varn_server::oidc::RegionOidc;
use varn_server::testkit::oidc::{Person, TestProvider, HANDLERS, MFA, PASSWORD_ONLY, READERS};
use varn_server::testkit::{read_event, TestServer};

async fn start(
    provider: &TestProvider,
    change: impl FnOnce(&mut RegionOidc),
    clock: Arc<dyn Clock>,
) -> TestServer {
    let mut region = provider.region("sormland");
    change(&mut region);
    let server = TestServer::start_with_oidc(vec![region], clock).await;
    provider.redirect_to(&server.url()).await;
    server
}

/// The whole audit log, newest first.
async fn audit_log(server: &TestServer) -> Vec<varn_server::store::AuditEntry> {
    let everything = varn_server::store::AuditQuery {
        limit: 1000,
        ..Default::default()
    };
    server.store.audit_log(&everything).await.unwrap()
}

fn alarm_body() -> Value {
    json!({ "triggered_at": Utc::now(), "meeting": "Fullmäktige", "place": "Stadshuset", "message": "" })
}

/// Signed in, nobody else: no session cookie works and the page says why.
async fn refused(person: &Person, landed: &str, code: &str) {
    assert!(
        landed.starts_with(&format!("/dashboard?fel={code}")),
        "{landed}"
    );
    assert_eq!(
        person.get("/dashboard/api/me").await.status(),
        401,
        "{code}: nobody signed in"
    );
}

#[tokio::test]
async fn a_handlaggare_signs_in_acknowledges_and_the_audit_names_subject_and_role() {
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    provider
        .account("anna-sub-1", "Anna Andersson", &[HANDLERS], MFA)
        .await;
    let anna = Person::new(&server.url());
    assert_eq!(anna.sign_in("sormland", "anna-sub-1").await, "/dashboard");
    let me: Value = anna.get("/dashboard/api/me").await.json().await.unwrap();
    assert_eq!(me["display_name"], "Anna Andersson");
    assert_eq!(me["role"], "handläggare");
    assert_eq!(me["may_act"], true);
    let device = server.enroll("Kim").await;
    let id = server.raise(&device, alarm_body()).await;
    let res = anna
        .post(&format!("/dashboard/api/alarms/{id}/ack"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let ack: Value = res.json().await.unwrap();
    assert_eq!(ack["acknowledged_by"], "Anna Andersson");
    let log = audit_log(&server).await;
    let sign_in = log
        .iter()
        .find(|e| e.action == "sign_in")
        .expect("the sign-in is audited");
    assert_eq!(
        (sign_in.subject.as_str(), sign_in.role.as_str()),
        ("anna-sub-1", "handläggare")
    );
    assert!(
        log.iter()
            .all(|e| e.subject == "anna-sub-1" && e.role == "handläggare"),
        "{log:?}"
    );
    // The second sign-in is the same officer, not a new one.
    let again = Person::new(&server.url());
    assert_eq!(again.sign_in("sormland", "anna-sub-1").await, "/dashboard");
    assert_eq!(server.store.officers("sormland").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_lasare_reads_but_acknowledging_writing_and_exporting_are_refused_with_403() {
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    provider
        .account("lars", "Lars Läsare", &[READERS], MFA)
        .await;
    let lars = Person::new(&server.url());
    assert_eq!(lars.sign_in("sormland", "lars").await, "/dashboard");
    let me: Value = lars.get("/dashboard/api/me").await.json().await.unwrap();
    assert_eq!(
        (me["role"].as_str(), me["may_act"].as_bool()),
        (Some("läsare"), Some(false))
    );
    let device = server.enroll("Kim").await;
    let id = server.raise(&device, alarm_body()).await;
    assert_eq!(lars.get("/dashboard/api/alarms").await.status(), 200);
    assert_eq!(
        lars.get(&format!("/dashboard/api/alarms/{id}"))
            .await
            .status(),
        200
    );
    assert_eq!(lars.get("/dashboard/api/statistics").await.status(), 200);
    for (path, body) in [
        (format!("/dashboard/api/alarms/{id}/ack"), json!({})),
        (
            format!("/dashboard/api/alarms/{id}/notes"),
            json!({ "text": "x" }),
        ),
        (
            format!("/dashboard/api/alarms/{id}/messages"),
            json!({ "id": uuid::Uuid::now_v7(), "text": "x" }),
        ),
    ] {
        let res = lars.post(&path, body).await;
        assert_eq!(res.status(), 403, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let p: Value = res.json().await.unwrap();
        assert!(p["detail"].as_str().unwrap().contains("läsare"), "{p}");
    }
    for path in [
        format!("/dashboard/api/alarms/{id}/timeline.txt"),
        "/dashboard/api/statistics.csv".into(),
    ] {
        assert_eq!(lars.get(&path).await.status(), 403, "{path}");
    }
    let alarm = server.dashboard_alarm(&lars.client, id).await;
    assert_eq!(
        alarm["status"], "open",
        "still open: the läsare acknowledged nothing"
    );
}

#[tokio::test]
async fn no_group_too_weak_a_sign_in_and_an_unknown_region_sign_nobody_in() {
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    provider
        .account("nils", "Nils", &["some-other-group"], MFA)
        .await;
    provider
        .account("petra", "Petra", &[HANDLERS], PASSWORD_ONLY)
        .await;
    let nils = Person::new(&server.url());
    refused(&nils, &nils.sign_in("sormland", "nils").await, "grupp").await;
    let petra = Person::new(&server.url());
    refused(&petra, &petra.sign_in("sormland", "petra").await, "niva").await;
    let res = petra.get("/dashboard/oidc/start?region=uppsala").await;
    assert_eq!(
        res.headers()["location"],
        "/dashboard?fel=region&region=uppsala"
    );
    assert!(server
        .store
        .officers("sormland")
        .await
        .unwrap()
        .iter()
        .all(|o| o.subject.is_none()));
}

#[tokio::test]
async fn a_rotated_key_is_fetched_and_forged_expired_wrong_audience_and_garbage_tokens_are_refused()
{
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    assert_eq!(
        Person::new(&server.url()).sign_in("sormland", "anna").await,
        "/dashboard"
    );
    provider.rotate().await;
    // The next token is signed with a key the server has not seen: it fetches the keys again.
    tokio::time::sleep(varn_server::oidc::KEYS_AT_MOST_EVERY).await;
    assert_eq!(
        Person::new(&server.url()).sign_in("sormland", "anna").await,
        "/dashboard"
    );
    for (mode, code) in [
        ("forge", "nekad"),
        ("unknown-kid", "nekad"),
        ("nonce", "nekad"),
        ("aud", "nekad"),
        ("expired", "nekad"),
        ("garbage", "leverantor"),
    ] {
        tokio::time::sleep(varn_server::oidc::KEYS_AT_MOST_EVERY).await;
        provider.tamper(mode).await;
        let person = Person::new(&server.url());
        let landed = person.sign_in("sormland", "anna").await;
        assert_eq!(
            landed,
            format!("/dashboard?fel={code}&region=sormland"),
            "{mode}"
        );
        assert_eq!(
            person.get("/dashboard/api/me").await.status(),
            401,
            "{mode}"
        );
    }
}

#[tokio::test]
async fn a_replayed_code_a_changed_state_and_a_missing_flow_are_refused() {
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    // A changed state: refused, and the flow is spent.
    let person = Person::new(&server.url());
    let callback = person.to_callback("sormland", "anna").await;
    let forged = url::Url::parse_with_params(
        callback.split('?').next().unwrap(),
        url::Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    if k == "state" {
                        "x".repeat(43)
                    } else {
                        v.to_string()
                    },
                )
            }),
    )
    .unwrap();
    refused(&person, &person.answer(forged.as_str()).await, "nekad").await;
    // The first answer signs in; the same code again (with the flow's cookie put back) does not.
    let person = Person::new(&server.url());
    let callback = person.to_callback("sormland", "anna").await;
    let cookies = person.cookies();
    assert!(cookies.contains("varn_oidc="), "{cookies}");
    assert_eq!(person.answer(&callback).await, "/dashboard");
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(&callback)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let landed = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        landed, "/dashboard?fel=nekad&region=sormland",
        "a replayed code"
    );
    assert!(!res.headers().get_all("set-cookie").iter().any(|c| c
        .to_str()
        .unwrap()
        .starts_with("varn_session=")
        && !c.to_str().unwrap().contains("Max-Age=0")));
    // No flow cookie at all.
    let stranger = Person::new(&server.url());
    refused(&stranger, &stranger.answer(&callback).await, "tid").await;
}

#[tokio::test]
async fn a_sign_in_that_takes_too_long_and_a_session_past_its_token_end_are_refused() {
    let provider = TestProvider::start().await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let server = start(&provider, |_| {}, clock.clone()).await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    let person = Person::new(&server.url());
    let callback = person.to_callback("sormland", "anna").await;
    clock.advance(chrono::Duration::seconds(
        varn_server::oidc::FLOW_SECONDS + 1,
    ));
    refused(&person, &person.answer(&callback).await, "tid").await;
    let person = Person::new(&server.url());
    assert_eq!(person.sign_in("sormland", "anna").await, "/dashboard");
    assert_eq!(person.get("/dashboard/api/me").await.status(), 200);
    // The provider's token lasts an hour: past it (without a renewal, the provider being
    // asked only when due), the session is over.
    clock.advance(chrono::Duration::minutes(61));
    assert_eq!(person.get("/dashboard/api/me").await.status(), 401);
}

#[tokio::test]
async fn a_person_removed_from_the_group_or_the_provider_loses_access_and_the_live_feed_at_the_renewal(
) {
    let provider = TestProvider::start().await;
    let renew = Duration::from_secs(3);
    let server = start(
        &provider,
        |r| r.renew_every = chrono::Duration::from_std(renew).unwrap(),
        Arc::new(SystemClock),
    )
    .await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    provider.account("bo", "Bo", &[HANDLERS], MFA).await;
    let anna = Person::new(&server.url());
    let bo = Person::new(&server.url());
    assert_eq!(anna.sign_in("sormland", "anna").await, "/dashboard");
    assert_eq!(bo.sign_in("sormland", "bo").await, "/dashboard");
    // A renewal while still in the group keeps the session (and may change the role).
    tokio::time::sleep(renew + Duration::from_secs(1)).await;
    provider.account("bo", "Bo", &[READERS], MFA).await;
    let me: Value = bo.get("/dashboard/api/me").await.json().await.unwrap();
    assert_eq!(
        me["role"], "läsare",
        "the renewal gave Bo the provider's new role"
    );
    let mut feed = anna.get("/dashboard/api/events").await;
    assert_eq!(feed.status(), 200);
    let mut buf = String::new();
    read_event(&mut feed, &mut buf, "snapshot", Duration::from_secs(5))
        .await
        .expect("snapshot");
    let removed_at = std::time::Instant::now();
    provider.account("anna", "Anna", &[], MFA).await;
    provider.remove("bo").await;
    let ended = read_event(
        &mut feed,
        &mut buf,
        "ended",
        renew + Duration::from_secs(10),
    )
    .await;
    assert!(ended.is_some(), "the live feed says it ended");
    let took = removed_at.elapsed();
    assert!(
        took <= renew + varn_server::dashboard::FEED_SESSION_CHECK + Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(anna.get("/dashboard/api/me").await.status(), 401);
    tokio::time::sleep(renew).await;
    assert_eq!(
        bo.get("/dashboard/api/me").await.status(),
        401,
        "removed at the provider"
    );
    let log = audit_log(&server).await;
    let ended: Vec<_> = log
        .iter()
        .filter(|e| e.action == "session_ended")
        .map(|e| e.subject.as_str())
        .collect();
    assert!(
        ended.contains(&"anna") && ended.contains(&"bo"),
        "{ended:?}"
    );
}

#[tokio::test]
async fn a_slow_a_redirecting_and_an_absent_provider_sign_nobody_in_and_the_page_says_so() {
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    provider.tamper("slow").await;
    let person = Person::new(&server.url());
    let started = std::time::Instant::now();
    let landed = person.sign_in("sormland", "anna").await;
    refused(&person, &landed, "leverantor").await;
    assert!(started.elapsed() < varn_server::oidc::CALL_TIMEOUT + Duration::from_secs(5));
    // A token answer that redirects elsewhere (SSRF): not followed; the place it points to is
    // never asked.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = format!("http://{}/internal", elsewhere.local_addr().unwrap());
    provider.redirect_token_answer(&to).await;
    let person = Person::new(&server.url());
    refused(
        &person,
        &person.sign_in("sormland", "anna").await,
        "leverantor",
    )
    .await;
    let asked = tokio::time::timeout(Duration::from_millis(500), elsewhere.accept()).await;
    assert!(
        asked.is_err(),
        "the server followed the provider's redirect"
    );
    // A provider that takes the connection and never answers, before the server has read its
    // metadata: the first sign-in waits out the time limit, the next ones are told at once.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut region = provider.region("sormland");
    region.issuer =
        openidconnect::IssuerUrl::new(format!("http://{}", silent.local_addr().unwrap())).unwrap();
    let hung = TestServer::start_with_oidc(vec![region], Arc::new(SystemClock)).await;
    let person = Person::new(&hung.url());
    let (first, later) = (
        std::time::Instant::now(),
        "/dashboard/oidc/start?region=sormland",
    );
    assert!(person.get(later).await.headers()["location"]
        .to_str()
        .unwrap()
        .contains("fel=leverantor"));
    assert!(
        first.elapsed() >= varn_server::oidc::CALL_TIMEOUT,
        "{:?}",
        first.elapsed()
    );
    let again = std::time::Instant::now();
    let answers = futures_util::future::join_all((0..5).map(|_| person.get(later))).await;
    assert!(answers.iter().all(|r| r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("fel=leverantor")));
    assert!(
        again.elapsed() < Duration::from_secs(1),
        "{:?}",
        again.elapsed()
    );
    drop(silent);
    // A provider that is not there at all (a server that has not read its metadata yet).
    let region = provider.region("sormland");
    drop(provider);
    let server = TestServer::start_with_oidc(vec![region], Arc::new(SystemClock)).await;
    let person = Person::new(&server.url());
    let res = person.get("/dashboard/oidc/start?region=sormland").await;
    assert_eq!(
        res.headers()["location"],
        "/dashboard?fel=leverantor&region=sormland"
    );
}

#[tokio::test]
async fn break_glass_needs_its_code_once_and_other_local_passwords_are_refused() {
    use varn_server::breakglass::{code_at, new_secret, SEAL_PURPOSE};
    let provider = TestProvider::start().await;
    let server = start(&provider, |_| {}, Arc::new(SystemClock)).await;
    // An ordinary local login in a region that signs in with its provider: refused.
    server.add_officer("hanna", "Hanna", "sormland").await;
    let login = |username: &str, code: Option<String>| {
        let mut body =
            json!({ "username": username, "password": varn_server::testkit::OFFICER_PASSWORD });
        if let Some(c) = code {
            body["code"] = json!(c);
        }
        let person = Person::new(&server.url());
        async move {
            // Wrong codes count as failed logins: like the page, wait when told to.
            loop {
                let res = person.post("/dashboard/api/login", body.clone()).await;
                let wait = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                match (res.status().as_u16(), wait) {
                    (429 | 503, Some(s)) if s <= 10 => {
                        tokio::time::sleep(Duration::from_secs(s)).await
                    }
                    (status, _) => return (status, person),
                }
            }
        }
    };
    assert_eq!(login("hanna", None).await.0, 403);
    // The break-glass account: password and a current code, each code once.
    let secret = new_secret();
    let mut officer = server.add_officer("nod", "Nödkonto", "sormland").await;
    officer.totp = Some(varn_server::testkit::test_secret().seal(SEAL_PURPOSE, &secret));
    server
        .store
        .change_officer(
            "nod",
            &varn_server::store::OfficerChange::Totp(officer.totp.clone()),
        )
        .await
        .unwrap();
    assert_eq!(login("nod", None).await.0, 401, "no code");
    assert_eq!(
        login("nod", Some("000000".into())).await.0,
        401,
        "a wrong code"
    );
    let now = Utc::now().timestamp();
    let stale = code_at(&secret, now - 120).unwrap();
    assert_eq!(
        login("nod", Some(stale)).await.0,
        401,
        "a code four steps old"
    );
    let code = code_at(&secret, now).unwrap();
    let (status, person) = login("nod", Some(code.clone())).await;
    assert_eq!(status, 200);
    let me: Value = person.get("/dashboard/api/me").await.json().await.unwrap();
    assert_eq!(me["username"], "nod");
    assert_eq!(login("nod", Some(code)).await.0, 401, "the same code again");
    let log = audit_log(&server).await;
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "break_glass" && e.officer == "nod")
            .count(),
        1
    );
    // The sign-in page offers the region's account first, and the code field.
    let options: Value = person
        .get("/dashboard/api/sign-in")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(options["providers"][0]["region"], "sormland");
    assert_eq!(
        (options["passwords"].as_bool(), options["code"].as_bool()),
        (Some(true), Some(true))
    );
}

#[tokio::test]
async fn with_local_passwords_off_even_the_break_glass_account_is_refused() {
    use varn_server::oidc::LocalPasswords;
    let provider = TestProvider::start().await;
    let server = start(
        &provider,
        |r| r.local_passwords = LocalPasswords::Off,
        Arc::new(SystemClock),
    )
    .await;
    server.add_officer("hanna", "Hanna", "sormland").await;
    let person = Person::new(&server.url());
    let body = json!({ "username": "hanna", "password": varn_server::testkit::OFFICER_PASSWORD });
    assert_eq!(
        person.post("/dashboard/api/login", body).await.status(),
        403
    );
    let options: Value = person
        .get("/dashboard/api/sign-in")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(options["passwords"], false);
}

#[tokio::test]
async fn requests_at_the_same_renewal_renew_once_and_an_unavailable_provider_signs_nobody_out() {
    // A refresh token is good once (the test provider rotates it): were two requests to
    // renew with it, the second would be refused and the officer signed out.
    let provider = TestProvider::start().await;
    let server = start(
        &provider,
        |r| r.renew_every = chrono::Duration::seconds(1),
        Arc::new(SystemClock),
    )
    .await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    let anna = Person::new(&server.url());
    assert_eq!(anna.sign_in("sormland", "anna").await, "/dashboard");
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let all =
            futures_util::future::join_all((0..8).map(|_| anna.get("/dashboard/api/me"))).await;
        let statuses: Vec<u16> = all.iter().map(|r| r.status().as_u16()).collect();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: {statuses:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(anna.get("/dashboard/api/me").await.status(), 200);
    // A provider that answers the renewal `temporarily_unavailable` does not sign anyone out:
    // the session lasts until its token ends and the renewal is tried again later.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    provider.tamper("unavailable").await;
    assert_eq!(anna.get("/dashboard/api/me").await.status(), 200);
    assert_eq!(anna.get("/dashboard/api/me").await.status(), 200);
    let log = audit_log(&server).await;
    assert!(log.iter().all(|e| e.action != "session_ended"), "{log:?}");
}

#[tokio::test]
async fn the_installed_server_reads_its_oidc_config_and_a_break_glass_account_made_on_the_command_line_signs_in(
) {
    use std::io::Write;
    use varn_server::testkit::oidc::{CLIENT_ID, CLIENT_SECRET};
    use varn_server::testkit::process::ServerProcess;
    use varn_server::testkit::{OFFICER_PASSWORD, TEST_SECRET};
    let provider = TestProvider::start().await;
    let secret_file = provider.entry("sormland").client_secret_file;
    let config = format!(
        "[[oidc]]\nregion = \"sormland\"\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n\
         client_secret_file = \"{}\"\nscopes = [\"groups\", \"offline_access\"]\n\
         acr_values = [\"{MFA}\"]\n[oidc.roles]\n\"läsare\" = [\"{READERS}\"]\n\
         \"handläggare\" = [\"{HANDLERS}\"]\n",
        provider.issuer,
        secret_file.display()
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_varn-server"));
    let process = ServerProcess::start_configured(bin, None, &config);
    provider.redirect_to(&process.url).await;
    provider.account("anna", "Anna", &[HANDLERS], MFA).await;
    let anna = Person::new(&process.url);
    assert_eq!(anna.sign_in("sormland", "anna").await, "/dashboard");
    assert_eq!(anna.get("/dashboard/api/me").await.status(), 200);

    // The break-glass account, made as an operator would: the otpauth:// address is printed.
    let mut child = std::process::Command::new(bin)
        .env("VARN_SERVER_SECRET", TEST_SECRET)
        .env_remove("VARN_SERVER_CONFIG")
        .arg("--database")
        .arg(process.database())
        .args(["officer", "add", "--username", "nod", "--name", "Nödkonto"])
        .args(["--break-glass", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{OFFICER_PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let uri = stdout
        .lines()
        .find(|l| l.starts_with("otpauth://totp/"))
        .unwrap_or_else(|| panic!("no otpauth address in {stdout}"));
    let totp = totp_rs::TOTP::from_url(uri).unwrap();
    let code = totp.generate(Utc::now().timestamp() as u64);
    let nod = Person::new(&process.url);
    let body = json!({ "username": "nod", "password": OFFICER_PASSWORD, "code": code });
    assert_eq!(nod.post("/dashboard/api/login", body).await.status(), 200);
    // The journal's line (the process's log is read by a thread of its own: waited for).
    let warned = |log: &[String]| {
        log.iter()
            .any(|l| l.contains("WARN") && l.contains("break-glass account signed in"))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !warned(&process.log()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = process.log().join("\n");
    assert!(warned(&process.log()), "{log}");
    assert!(
        !log.contains(CLIENT_SECRET),
        "the client secret is never logged"
    );
}
