//! Several server instances on one PostgreSQL (a throwaway cluster from Debian's
//! `postgresql` package, see `testkit::pg`): any instance takes any request, a dashboard on
//! one sees alarms raised on another, and escalation and missed check-ins happen exactly once
//! across instances, also after the instance that took the alarm or the check-in is gone —
//! killed with SIGKILL, as a real `varn-server` process.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;
use varn_core::paths;
use varn_core::wire::AlarmReceipt;
use varn_server::clock::{Clock, ManualClock, SystemClock};
use varn_server::escalation;
use varn_server::store::Database;
use varn_server::testkit::process::ServerProcess;
use varn_server::testkit::{http_client as client, pg, TestServer};

const WAIT: Duration = Duration::from_secs(20);

/// Two instances, A and B, on one new database; returns them and its URL.
async fn two_instances(clock: Arc<dyn Clock>) -> (TestServer, TestServer, String) {
    let url = pg::cluster().fresh_database().await;
    let a = TestServer::start_at(Database::Postgres(url.clone()), clock.clone(), None).await;
    let b = TestServer::start_at(Database::Postgres(url.clone()), clock, None).await;
    (a, b, url)
}

/// Reads a dashboard's live feed until an `alarm` event for `id` with `pred` true comes.
async fn wait_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buf: &mut Vec<u8>,
    id: Uuid,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        // Bytes until a whole event is there: a character split across two chunks is decoded
        // only once both halves have come.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let bytes: Vec<u8> = buf.drain(..end + 2).collect();
            let block = String::from_utf8(bytes).expect("an event is UTF-8");
            if !block.contains("event: alarm") {
                continue;
            }
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            let v: Value = serde_json::from_str(&data).unwrap();
            if v["id"] == json!(id) && pred(&v) {
                return v;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no event for alarm {id} on the other instance"))
            .expect("feed ended")
            .unwrap();
        buf.extend_from_slice(chunk.as_ref());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_raised_on_one_instance_is_live_on_the_dashboard_of_another() {
    let (a, b, _) = two_instances(Arc::new(SystemClock)).await;
    let officer = b
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    let mut feed = officer
        .get(format!("{}/dashboard/api/events", b.url()))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let mut buf = Vec::new();

    // Enrolled on B, raised on A: one database, so any instance takes any request.
    let device = b.enroll("Anna Andersson").await;
    let id = a
        .raise(
            &device,
            json!({ "triggered_at": chrono::Utc::now(), "place": "Stora torget" }),
        )
        .await;
    let seen = wait_event(&mut feed, &mut buf, id, |v| v["status"] == "open").await;
    assert_eq!(seen["who"], "Anna Andersson");
    assert_eq!(seen["place"], "Stora torget");
    // An alarm too long to travel inside a notification travels as its id and is read.
    let long = "Han står i dörren och skriker. ".repeat(400);
    let big = a
        .raise(
            &device,
            json!({ "triggered_at": chrono::Utc::now(), "place": "Kafé", "message": long }),
        )
        .await;
    let seen = wait_event(&mut feed, &mut buf, big, |v| v["status"] == "open").await;
    assert_eq!(seen["message"].as_str(), Some(long.as_str()));

    // The same id again on B is the same alarm (the database keeps it once).
    let res = b
        .as_device(&device)
        .put(
            &paths::alarm(id),
            &json!({ "triggered_at": chrono::Utc::now(), "place": "Stora torget" }),
        )
        .await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::OK,
        "a retry, not a new alarm"
    );
    assert_eq!(b.store.alarms("sormland", 10).await.unwrap().len(), 2);

    // Acknowledged on B's dashboard; the device asking A sees who took it.
    let res = officer
        .post(format!("{}/dashboard/api/alarms/{id}/ack", b.url()))
        .header("origin", b.url())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let r = a.receipt(&device, id).await;
    assert_eq!(r.acknowledged_by.as_deref(), Some("Hanna Handläggare"));

    // And a cancel on A shows on B's dashboard too.
    let id2 = a
        .raise(
            &device,
            json!({ "triggered_at": chrono::Utc::now(), "place": "Kafé" }),
        )
        .await;
    a.cancel(&device, id2, false).await;
    wait_event(&mut feed, &mut buf, id2, |v| v["status"] == "cancelled").await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_happens_once_across_instances_even_when_both_look_at_once() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let (a, b, _) = two_instances(clock.clone()).await;
    let device = a.enroll("Anna Andersson").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            a.raise(
                &device,
                json!({ "triggered_at": clock.now(), "place": format!("Sal {i}") }),
            )
            .await,
        );
    }
    // Past two limits: both instances look many times at once, beside their own loops.
    clock.advance(chrono::Duration::seconds(125));
    let mut looks = Vec::new();
    for _ in 0..8 {
        for s in [&a, &b] {
            let state = s.running.state.clone();
            looks.push(tokio::spawn(async move {
                escalation::tick(&state).await.unwrap()
            }));
        }
    }
    for l in looks {
        l.await.unwrap();
    }
    // Each step once per alarm, whoever did it: two steps, two people, five alarms.
    let start = Instant::now();
    loop {
        let mut sent: Vec<_> = a.notifier.sent();
        sent.extend(b.notifier.sent());
        if sent.len() >= 10 || start.elapsed() > WAIT {
            sent.sort_by_key(|n| (n.alarm, n.step));
            let mut keys: Vec<_> = sent.iter().map(|n| (n.alarm, n.step)).collect();
            keys.dedup();
            assert_eq!(keys.len(), sent.len(), "a step alerted twice: {sent:?}");
            assert_eq!(sent.len(), 10, "{sent:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &ids {
        let alarm = b.store.alarm("sormland", *id).await.unwrap().unwrap();
        assert_eq!(alarm.escalation_step, 2);
        let events = b.store.alarm_events("sormland", *id).await.unwrap();
        assert_eq!(
            events.iter().filter(|e| e.kind == "escalated").count(),
            2,
            "{events:?}"
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_of_the_instance_that_took_them_alarms_escalate_and_check_ins_expire_once() {
    let url = pg::cluster().fresh_database().await;
    // A is a real process, so it can die the hard way.
    let mut a = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_varn-server")), Some(&url));
    let a_url = a.url.clone();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let b = TestServer::start_at(Database::Postgres(url), clock.clone(), None).await;
    let device = b.enroll("Anna Andersson").await;

    // A check-in through A, due in two minutes: its deadline must outlive A.
    let http = client();
    let checkin = Uuid::now_v7();
    let started = clock.now();
    let res = http
        .put(format!("{a_url}/v1/checkins/{checkin}"))
        .bearer_auth(&device.token)
        .json(
            &json!({ "started_at": started, "deadline": started + chrono::Duration::minutes(2),
                       "meeting": "Medborgardialog", "place": "Folkets hus", "revision": 1 }),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // Alarms through A, and A killed while more are on their way.
    let mut ids = Vec::new();
    let mut sends = Vec::new();
    for i in 0..8 {
        let id = Uuid::now_v7();
        ids.push(id);
        let (http, a_url, token) = (http.clone(), a_url.clone(), device.token.clone());
        let send = tokio::spawn(async move {
            http.put(format!("{a_url}/v1/alarms/{id}"))
                .bearer_auth(token)
                .json(&json!({ "triggered_at": chrono::Utc::now(), "place": format!("Sal {i}") }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        if i < 3 {
            assert_eq!(send.await.unwrap().unwrap(), 201, "A takes the first ones");
        } else {
            sends.push(send);
        }
    }
    a.kill();
    for s in sends {
        // Answered or not: the sender cannot know which, so it retries them all.
        let _ = s.await.unwrap();
    }
    // What A never answered, the sender retries on B with the same id.
    for (i, id) in ids.iter().enumerate() {
        let res = b
            .as_device(&device)
            .put(
                &paths::alarm(*id),
                &json!({ "triggered_at": chrono::Utc::now(), "place": format!("Sal {i}") }),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.status());
    }
    let stored = b.store.alarms("sormland", 100).await.unwrap();
    assert_eq!(stored.len(), ids.len(), "each alarm once");

    // A is dead; B, still alive, escalates and alerts once per step.
    clock.advance(chrono::Duration::seconds(61));
    let start = Instant::now();
    while b.notifier.sent().len() < ids.len() {
        assert!(start.elapsed() < WAIT, "{:?}", b.notifier.sent());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let sent = b.notifier.sent();
    assert_eq!(sent.len(), ids.len(), "{sent:?}");
    for id in &ids {
        assert_eq!(
            sent.iter()
                .filter(|n| n.alarm == *id && n.step == 1)
                .count(),
            1
        );
    }

    // The check-in's deadline passes with A long dead: B raises its alarm, once.
    clock.advance(chrono::Duration::seconds(60));
    let alarm_id = varn_server::store::Checkin::alarm_id_for(checkin);
    let start = Instant::now();
    while b.store.alarm("sormland", alarm_id).await.unwrap().is_none() {
        assert!(
            start.elapsed() < WAIT,
            "the missed check-out never became an alarm"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let k = b.store.checkin("sormland", checkin).await.unwrap().unwrap();
    assert_eq!(k.status, varn_core::wire::CheckinStatus::Overdue);
    assert_eq!(k.alarm_id, Some(alarm_id));
    let all = b.store.alarms("sormland", 100).await.unwrap();
    assert_eq!(
        all.len(),
        ids.len() + 1,
        "the eight alarms and one for the check-in"
    );
    let events = b.store.alarm_events("sormland", alarm_id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "checkin_overdue")
            .count(),
        1
    );
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_postgresql_drops_every_connection_the_instances_recover_and_the_feed_goes_on() {
    let (a, b, url) = two_instances(Arc::new(SystemClock)).await;
    let officer = b
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    let mut feed = officer
        .get(format!("{}/dashboard/api/events", b.url()))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let mut buf = Vec::new();
    let device = b.enroll("Anna Andersson").await;

    // The database ends every connection of both instances: pools and listeners.
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let ended = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'varn-server'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert!(ended >= 4, "both instances' pools and listeners: {ended}");

    // The device retries as the app does (a 503 says "again"); the alarm gets through A…
    let id = Uuid::now_v7();
    let start = Instant::now();
    loop {
        let res = a
            .as_device(&device)
            .put(
                &paths::alarm(id),
                &json!({ "triggered_at": chrono::Utc::now(), "place": "Stora torget" }),
            )
            .await;
        if res.status().is_success() {
            break;
        }
        assert_eq!(res.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(start.elapsed() < WAIT, "A never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // …and B's dashboard, whose listener had to reconnect, still shows it.
    wait_event(&mut feed, &mut buf, id, |v| v["status"] == "open").await;
    assert_eq!(b.store.alarms("sormland", 10).await.unwrap().len(), 1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_stuck_behind_a_lock_fails_with_503_instead_of_hanging() {
    let url = pg::cluster().fresh_database().await;
    let s =
        TestServer::start_at(Database::Postgres(url.clone()), Arc::new(SystemClock), None).await;
    let device = s.enroll("Anna Andersson").await;
    let id = s
        .raise(
            &device,
            json!({ "triggered_at": chrono::Utc::now(), "place": "Torget" }),
        )
        .await;
    // Someone else holds the alarm's row and never lets go.
    let (mut admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let tx = admin.transaction().await.unwrap();
    tx.execute("SELECT 1 FROM alarms WHERE id = $1 FOR UPDATE", &[&id])
        .await
        .unwrap();
    let on_s = s.as_device(&device);
    let cancel = json!({ "cancelled_at": chrono::Utc::now(), "reason": "" });
    let res = tokio::time::timeout(WAIT, on_s.post(&paths::alarm_cancel(id), &cancel))
        .await
        .expect("the request hung");
    assert_eq!(res.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    // Let go: the same request then goes through.
    tx.rollback().await.unwrap();
    let res = on_s.post(&paths::alarm_cancel(id), &cancel).await;
    assert!(res.status().is_success(), "{}", res.status());
    s.stop().await;
}

/// A CA and a certificate it signed for localhost and 127.0.0.1: (CA PEM, chain PEM, key PEM).
fn private_ca() -> (String, String, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Region Testland CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sslmode_require_every_connection_is_tls_to_a_certificate_it_trusts() {
    use varn_server::store::DatabaseAccess;
    let (ca, chain, key) = private_ca();
    let cluster = pg::start_cluster(Some((&chain, &key))).expect("a cluster with TLS");
    let plain = cluster.fresh_database().await;
    let url = format!("{plain}?sslmode=require");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();

    // Without the region's CA the certificate is not trusted: refused, with the reason.
    let err = Database::Postgres(url.clone())
        .open(&DatabaseAccess::default())
        .await
        .err()
        .expect("an untrusted certificate must be refused")
        .to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // A CA without sslmode=require is a mistake said plainly.
    let err = Database::Postgres(plain.clone())
        .open(&DatabaseAccess {
            password: None,
            ca_file: Some(ca_file.clone()),
        })
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("sslmode=require"), "{err}");

    // With it, the server runs, and every one of its connections is encrypted.
    let access = DatabaseAccess {
        password: None,
        ca_file: Some(ca_file),
    };
    let store = Database::Postgres(url).open(&access).await.unwrap();
    store.devices(None).await.unwrap();
    let (admin, conn) = tokio_postgres::connect(&plain, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = admin
        .query(
            "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
             WHERE a.datname = current_database() AND a.application_name = 'varn-server'",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() >= 2, "the pool and the listener: {}", rows.len());
    assert!(
        rows.iter().all(|r| r.get::<_, bool>(0)),
        "a plain connection"
    );
}

/// The conversation across instances: the officer writes on B, the person's long-poll on A
/// wakes with it; the person answers on A, B's dashboard feed shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_cross_instances_both_ways() {
    let (a, b, _) = two_instances(Arc::new(SystemClock)).await;
    let officer = b.officer_client("hanna", "Hanna Holm", "sormland").await;
    let mut feed = officer
        .get(format!("{}/dashboard/api/events", b.url()))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let mut buf = Vec::new();
    let device = a.enroll("Anna Andersson").await;
    let id = a
        .raise(&device, json!({ "triggered_at": chrono::Utc::now() }))
        .await;
    let first = a.receipt(&device, id).await;
    let poll = {
        let on_a = a.as_device(&device);
        let path = paths::alarm_wait(id, first.version, 30);
        tokio::spawn(async move { on_a.get(&path).await.json::<AlarmReceipt>().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = officer
        .post(format!("{}/dashboard/api/alarms/{id}/messages", b.url()))
        .header("origin", b.url())
        .json(&json!({ "id": Uuid::now_v7(), "text": "Hjälp är på väg" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let woken = tokio::time::timeout(WAIT, poll)
        .await
        .expect("the long-poll on A woke")
        .unwrap();
    assert_eq!(
        woken.messages.last().map(|m| m.text.as_str()),
        Some("Hjälp är på väg")
    );

    let res = a
        .as_device(&device)
        .put(
            &paths::alarm_message(id, Uuid::now_v7()),
            &json!({ "text": "Jag är i säkerhet" }),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    // B's feed says the person wrote (the feed carries no text); the alarm read whole on B
    // has it.
    wait_event(&mut feed, &mut buf, id, |v| v["messages_from_person"] == 1).await;
    let whole = b.dashboard_alarm(&officer, id).await;
    assert!(
        whole["messages"].as_array().is_some_and(|m| m
            .iter()
            .any(|m| m["text"] == "Jag är i säkerhet" && m["from"] == "person")),
        "{whole:#}"
    );
}

/// Two instances configured with the same alarm centre (pysiaalarm as the receiver): each
/// event reaches it once, whichever instance took the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_send_each_event_to_the_alarm_centre_once() {
    use varn_server::testkit::sia::{centre, Receiver, KEY};
    let rx = Receiver::start(0, Some(KEY), 0);
    let url = pg::cluster().fresh_database().await;
    let c = centre(rx.port, Some(KEY), Duration::from_secs(60));
    let a = TestServer::start_with_centres(Database::Postgres(url.clone()), vec![c.clone()]).await;
    let b = TestServer::start_with_centres(Database::Postgres(url), vec![c]).await;
    let device = a.enroll("Anna Andersson").await;
    for (n, s) in [&a, &b, &a, &b].into_iter().enumerate() {
        s.raise(
            &device,
            json!({ "triggered_at": chrono::Utc::now(), "place": format!("Plats {n}") }),
        )
        .await;
    }
    rx.wait_for(4).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = rx.acked_events();
    assert_eq!(got.len(), 4, "each event once: {got:#?}");
    let mut places: Vec<String> = got
        .iter()
        .map(varn_server::testkit::sia::place_word)
        .collect();
    places.sort();
    assert_eq!(places, ["0", "1", "2", "3"]);
}
