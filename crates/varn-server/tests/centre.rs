//! The region's 24/7 alarm centre over SIA DC-09, against a receiver nobody here wrote:
//! `pysiaalarm` (PyPI, in the venv `scripts/test` makes) run as the alarm centre. It checks
//! each message's CRC, decrypts it with the account's key and checks its timestamp. Every
//! event arrives once with its code, plain and encrypted; events queued while the centre is
//! down arrive in order once it is back; a NAK is retried; supervision messages come at the
//! interval. A place with the characters the frame uses (`/`, `#`, `|`, `[`, `]`, quotes)
//! arrives as one event, the words in extended data, never after the code; in clear text the
//! place is not sent at all. Runs on SQLite and, with `VARN_TEST_DATABASE=postgres`, on PostgreSQL (two
//! instances sending once: `cluster.rs`).

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use varn_server::centre::Centre;
use varn_server::store::Database;
use varn_server::testkit::sia::{Receiver, ACCOUNT, KEY};
use varn_server::testkit::{pg, postgres_wanted, TestServer};

/// A place with every character the frame uses, and Swedish letters.
const HOSTILE_PLACE: &str = "Stora torget/PR #2 |x| [A] \"citat\" Nyköping, Öst-Åsa";

fn centre(port: u16, key: Option<&str>, supervision: Duration) -> Centre {
    varn_server::testkit::sia::centre(port, key, supervision)
}

async fn server(centres: Vec<Centre>) -> (TestServer, Option<tempfile::TempDir>) {
    if postgres_wanted() {
        let url = pg::cluster().fresh_database().await;
        return (
            TestServer::start_with_centres(Database::Postgres(url), centres).await,
            None,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let s =
        TestServer::start_with_centres(Database::Sqlite(dir.path().join("s.db")), centres).await;
    (s, Some(dir))
}

/// Waits (at most 10 s) until the server has recorded the centre's ACK of `alarm`: a moment
/// after the receiver sent it.
async fn wait_received(
    s: &TestServer,
    device: &varn_server::testkit::device::Device,
    alarm: uuid::Uuid,
    what: &str,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while s.receipt(device, alarm).await.centre_received_at.is_none() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The alarm's timeline as its device reads it.
async fn timeline_of(
    device: &varn_server::testkit::device::Device,
    alarm: uuid::Uuid,
) -> Vec<Value> {
    device
        .get(&format!("/v1/alarms/{alarm}/timeline"))
        .await
        .json()
        .await
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_once_with_its_code_plain_and_encrypted() {
    for key in [None, Some(KEY)] {
        let rx = Receiver::start(0, key, 0);
        let (s, _dir) = server(vec![centre(rx.port, key, Duration::from_secs(60))]).await;
        let anna = s.device("Anna Andersson").await;
        let first = s
            .raise(
                &anna,
                json!({ "triggered_at": Utc::now(), "place": HOSTILE_PLACE }),
            )
            .await;
        rx.wait_for(1).await;
        s.cancel(&anna, first, false).await;
        let second = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
        rx.wait_for(3).await;
        s.cancel(&anna, second, true).await;
        s.raise(&anna, json!({ "triggered_at": Utc::now(), "drill": true }))
            .await;
        let got = rx.wait_for(5).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got_again = rx.acked_events();
        assert_eq!(got_again.len(), 5, "each event once: {got_again:#?}");
        let codes: Vec<&str> = got.iter().map(|e| e["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["PA", "PR", "PA", "HA", "RX"], "{got:#?}");
        for e in &got {
            // Nothing after the code: a receiver that splits events on `/` reads one event.
            assert_eq!(e["text"], "", "{e:#?}");
            assert_eq!(e["account"], ACCOUNT);
            assert_eq!(e["valid_timestamp"], true);
            assert_eq!(e["valid_crc"], true);
            assert_eq!(e["encrypted"], key.is_some());
        }
        let text = got[0]["xdata"]["I"].as_str().unwrap();
        assert_eq!(text, format!("id {} larm", anna.device_id.simple()));
        // Encrypted, the place in the characters receivers take; in clear text, none.
        let place = got[0]["xdata"]["L"].as_str();
        match key {
            Some(_) => assert_eq!(place, Some("Stora torget PR 2 x A citat Nykoping, Ost-Asa")),
            None => assert_eq!(place, None, "{:#?}", got[0]),
        }
        assert!(
            !text.contains("Anna"),
            "no name: the person's id is enough for the centre"
        );

        // The ACK is on the alarm's timeline and in the device's receipt.
        let r = s.receipt(&anna, first).await;
        assert!(r.centre_received_at.is_some());
        let timeline = timeline_of(&anna, first).await;
        let centre: Vec<&str> = timeline
            .iter()
            .filter(|e| e["kind"] == "centre_received")
            .map(|e| e["detail"].as_str().unwrap())
            .collect();
        assert_eq!(centre, ["received: ACK", "cancelled: ACK"]);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_queued_while_the_centre_is_down_arrive_in_order_once() {
    let port = free_port();
    let rx = Receiver::start(port, Some(KEY), 0);
    let (s, _dir) = server(vec![centre(port, Some(KEY), Duration::from_secs(60))]).await;
    let anna = s.device("Anna Andersson").await;
    s.raise(
        &anna,
        json!({ "triggered_at": Utc::now(), "place": "Plats 1" }),
    )
    .await;
    rx.wait_for(1).await;
    drop(rx);
    for n in 2..=4 {
        s.raise(
            &anna,
            json!({ "triggered_at": Utc::now(), "place": format!("Plats {n}") }),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rx = Receiver::start(port, Some(KEY), 0);
    let got = rx.wait_for(3).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got_all = rx.acked_events();
    assert_eq!(got_all.len(), 3, "each once: {got_all:#?}");
    let places: Vec<String> = got
        .iter()
        .map(varn_server::testkit::sia::place_word)
        .collect();
    assert_eq!(places, ["2", "3", "4"], "in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nak_is_retried_until_the_centre_takes_it() {
    let rx = Receiver::start(0, None, 2);
    let (s, _dir) = server(vec![centre(rx.port, None, Duration::from_secs(60))]).await;
    let anna = s.device("Anna Andersson").await;
    let id = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    rx.wait_for(1).await;
    let answers: Vec<String> = rx
        .heard()
        .iter()
        .filter(|e| e["type"] != "NULL")
        .map(|e| e["answer"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(answers, ["NAK", "NAK", "ACK"]);
    // The server records the ACK once it has read it: a moment after the receiver sent it.
    wait_received(&s, &anna, id, "the centre's ACK was never recorded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervision_messages_come_at_the_interval_and_a_dead_link_shows() {
    let rx = Receiver::start(0, Some(KEY), 0);
    let (s, _dir) = server(vec![centre(rx.port, Some(KEY), Duration::from_secs(1))]).await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let nulls = rx
        .heard()
        .iter()
        .filter(|e| e["type"] == "NULL" && e["answer"] == "ACK")
        .count();
    // Two in every interval: one after each half interval without traffic.
    assert!(
        (5..=8).contains(&nulls),
        "{nulls} supervision messages in 3.5 s at 1 s"
    );
    let status: Value = s.officer_json(&hanna, "/dashboard/api/centre").await;
    assert!(
        status["last_answer_at"].is_string() && status["down_since"].is_null(),
        "{status}"
    );
    assert_eq!(status["configured"], true, "{status}");
    drop(rx);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status: Value = s.officer_json(&hanna, "/dashboard/api/centre").await;
    assert!(
        status["down_since"].is_string(),
        "the dead link shows: {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_centre_does_not_understand_is_refused_on_the_timeline_and_the_dashboard() {
    let rx = Receiver::start_with(0, None, 0, 1);
    let (s, _dir) = server(vec![centre(rx.port, None, Duration::from_secs(60))]).await;
    let anna = s.device("Anna Andersson").await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let refused = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    let start = std::time::Instant::now();
    let a = loop {
        let a = s.dashboard_alarm(&hanna, refused).await;
        if a["centre_refused_at"].is_string() {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never refused: {a}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(a["centre_received_at"].is_null());
    assert!(s.receipt(&anna, refused).await.centre_received_at.is_none());
    let timeline: Vec<Value> = s
        .officer_json(&hanna, &format!("/dashboard/api/alarms/{refused}/timeline"))
        .await;
    assert!(
        timeline
            .iter()
            .any(|e| e["kind"] == "centre_refused" && e["detail"] == "received: DUH"),
        "{timeline:#?}"
    );
    // Not sent again (a DUH will not change), and the next alarm goes through.
    let next = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    rx.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answers: Vec<String> = rx
        .heard()
        .iter()
        .filter(|e| e["type"] != "NULL")
        .map(|e| e["answer"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(answers, ["DUH", "ACK"]);
    assert!(s.receipt(&anna, next).await.centre_received_at.is_some());
}

/// What a fake receiver answers, made from the sequence number of the message it got.
type Answerer = fn(&str) -> Vec<u8>;

/// A receiver that answers every message with what `answer` makes of its sequence number.
async fn fake_receiver(answer: Answerer) -> (u16, tokio::task::JoinHandle<()>) {
    fake_receiver_after(
        answer,
        Duration::ZERO,
        Default::default(),
        Default::default(),
    )
    .await
}

/// The same, answering after `delay`, and counting the events and the supervision messages
/// it got.
async fn fake_receiver_after(
    answer: Answerer,
    delay: Duration,
    events: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    nulls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let (events, nulls) = (events.clone(), nulls.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]).to_string();
                    // `"…SIA-DCS"0007…` or `"…NULL"0007…`: the four digits after the type.
                    let seq = text
                        .split('"')
                        .nth(2)
                        .map(|rest| rest.chars().take(4).collect::<String>())
                        .unwrap_or_default();
                    if text.contains("SIA-DCS") {
                        events.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    } else if text.contains("NULL") {
                        nulls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    tokio::time::sleep(delay).await;
                    if conn.write_all(&answer(&seq)).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, task)
}

fn framed(body: &str) -> Vec<u8> {
    use varn_server::centre::dc09::crc16;
    format!("\n{:04X}{:04X}{body}\r", crc16(body.as_bytes()), body.len()).into_bytes()
}

/// An answer that does not name the message sent, or that an encrypted account cannot have
/// sent, never counts as the centre's receipt: not on the timeline, not in the receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_but_the_earned_ack_marks_an_event_received() {
    let answers: [(&str, Answerer); 5] = [
        ("a bare ACK", |_| b"\"ACK\"".to_vec()),
        ("the wrong sequence", |seq| {
            let wrong = (seq.parse::<u16>().unwrap_or(0) % 9999) + 1;
            framed(&format!("\"*ACK\"{wrong:04}R1L1#{ACCOUNT}[00]"))
        }),
        ("another account", |seq| {
            framed(&format!("\"ACK\"{seq}R1L1#BBB[]"))
        }),
        ("a clear-text ACK for an encrypted account", |seq| {
            framed(&format!("\"ACK\"{seq}R1L1#{ACCOUNT}[]"))
        }),
        ("garbage", |_| b"\x00\xffHELLO\r".to_vec()),
    ];
    for (what, answer) in answers {
        let (port, task) = fake_receiver(answer).await;
        let (s, _dir) = server(vec![centre(port, Some(KEY), Duration::from_secs(60))]).await;
        let anna = s.device("Anna Andersson").await;
        let alarm = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
        // Long enough for the first try and a retry.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let r = s.receipt(&anna, alarm).await;
        assert!(r.centre_received_at.is_none(), "{what}: taken as a receipt");
        let timeline = timeline_of(&anna, alarm).await;
        assert!(
            !timeline.iter().any(|e| e["kind"] == "centre_received"),
            "{what}: {timeline:#?}"
        );
        s.stop().await;
        task.abort();
    }
}

/// Two receivers, as certified centres run them: the primary dies in the middle of a burst
/// of 50 alarms; every alarm reaches one of the two exactly once, each receipt names the
/// receiver that acknowledged it, and once the primary answers again traffic returns to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_takes_over_when_the_primary_dies_and_traffic_returns() {
    let primary_port = free_port();
    let primary = Receiver::start(primary_port, Some(KEY), 0);
    let backup = Receiver::start(0, Some(KEY), 0);
    let mut c = varn_server::testkit::sia::centre_at(
        &[primary_port, backup.port],
        Some(KEY),
        Duration::from_secs(4),
    );
    c.timeout = Duration::from_secs(2);
    let (s, _dir) = server(vec![c]).await;
    // Five people, ten alarms each (one device may raise 30 in ten minutes).
    let mut people = Vec::new();
    for p in 0..5 {
        people.push(s.device(&format!("Person {p}")).await);
    }
    let anna = &people[0];
    let mut alarms = Vec::new();
    for n in 1..=50 {
        alarms.push(
            s.raise(
                &people[n % 5],
                json!({ "triggered_at": Utc::now(), "place": format!("Plats {n}") }),
            )
            .await,
        );
        if n == 10 {
            primary.wait_for(5).await;
        }
        if n == 20 {
            // Killed mid-burst, with events still queued.
            drop(primary);
            break;
        }
    }
    for n in 21..=50 {
        alarms.push(
            s.raise(
                &people[n % 5],
                json!({ "triggered_at": Utc::now(), "place": format!("Plats {n}") }),
            )
            .await,
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut receivers: Vec<String> = Vec::new();
    for (n, id) in alarms.iter().enumerate() {
        loop {
            let timeline = timeline_of(&people[(n + 1) % 5], *id).await;
            let got: Vec<String> = timeline
                .iter()
                .filter(|e| e["kind"] == "centre_received")
                .map(|e| e["detail"].as_str().unwrap().to_string())
                .collect();
            if let Some(d) = got.first() {
                assert_eq!(got.len(), 1, "one receipt per event: {got:?}");
                receivers.push(d.clone());
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "alarm {id} never acknowledged"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(
        receivers
            .iter()
            .all(|d| d == "received: ACK (primär)" || d == "received: ACK (reserv 1)"),
        "{receivers:?}"
    );
    assert!(
        receivers.first().unwrap().ends_with("(primär)"),
        "{receivers:?}"
    );
    assert!(
        receivers.last().unwrap().ends_with("(reserv 1)"),
        "{receivers:?}"
    );
    // Exactly once over both: the backup's events and the primary's receipts add up to 50,
    // with no place twice at the backup.
    let at_backup: Vec<String> = backup
        .acked_events()
        .iter()
        .map(varn_server::testkit::sia::place_word)
        .collect();
    let by_primary = receivers.iter().filter(|d| d.ends_with("(primär)")).count();
    assert_eq!(by_primary + at_backup.len(), 50, "{at_backup:?}");
    let mut unique = at_backup.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        at_backup.len(),
        "an event twice at the backup"
    );
    // In order at the backup.
    let numbers: Vec<u32> = at_backup.iter().map(|p| p.parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");

    // The primary comes back: traffic returns to it.
    let primary = Receiver::start(primary_port, Some(KEY), 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.raise(
        anna,
        json!({ "triggered_at": Utc::now(), "place": "Plats 51" }),
    )
    .await;
    let back = primary.wait_for(1).await;
    assert_eq!(varn_server::testkit::sia::place_word(&back[0]), "51");
    s.stop().await;
}

/// The primary answers, but too late: the backup has the event by then. The alarm's
/// timeline holds one receipt (the backup's) and a note that the primary answered late, and
/// nothing is sent a third time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_ack_from_the_primary_is_noted_and_nothing_is_sent_again() {
    let events = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (slow, task) = fake_receiver_after(
        |seq| framed(&format!("\"ACK\"{seq}R1L1#{ACCOUNT}[]")),
        Duration::from_millis(1500),
        events.clone(),
        Default::default(),
    )
    .await;
    let backup = Receiver::start(0, None, 0);
    let mut c =
        varn_server::testkit::sia::centre_at(&[slow, backup.port], None, Duration::from_secs(60));
    c.timeout = Duration::from_secs(1);
    let (s, _dir) = server(vec![c]).await;
    let anna = s.device("Anna Andersson").await;
    let alarm = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    backup.wait_for(1).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let timeline = loop {
        let timeline = timeline_of(&anna, alarm).await;
        if timeline.iter().any(|e| e["kind"] == "note") {
            break timeline;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no note of the late ACK: {timeline:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let receipts: Vec<&str> = timeline
        .iter()
        .filter(|e| e["kind"] == "centre_received")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(receipts, ["received: ACK (reserv 1)"]);
    let note = timeline.iter().find(|e| e["kind"] == "note").unwrap();
    assert!(
        note["detail"]
            .as_str()
            .unwrap()
            .contains("primär svarade sent"),
        "{note:#?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        events.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the primary got it once"
    );
    assert_eq!(backup.acked_events().len(), 1, "the backup got it once");
    s.stop().await;
    task.abort();
}

/// A key change at a set time: once the next key's time has come, messages (and what waits
/// in the outbox) go with it, and the centre that now knows only the new key takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_key_takes_over_at_its_time() {
    use varn_server::centre::dc09::Key;
    let rx = Receiver::start(0, Some(KEY), 0);
    let mut c = centre(rx.port, Some(KEY), Duration::from_secs(60));
    let old = Key::parse("00112233445566778899AABBCCDDEEFF").unwrap();
    c.receivers[0].key = Some(old);
    c.receivers[0].next_key = Some((
        Key::parse(KEY).unwrap(),
        Utc::now() - chrono::Duration::seconds(1),
    ));
    let (s, _dir) = server(vec![c]).await;
    let anna = s.device("Anna Andersson").await;
    let alarm = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    let got = rx.wait_for(1).await;
    assert_eq!(got[0]["encrypted"], true);
    wait_received(&s, &anna, alarm, "the ACK under the new key was not taken").await;
}

/// While a backup carries the traffic, the primary is asked whether it answers again — and
/// no alarm waits for that question: one raised while the primary is being asked (and does
/// not answer) goes through the backup at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_alarm_waits_while_the_primary_is_asked() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let nulls = std::sync::Arc::new(AtomicUsize::new(0));
    let (silent, task) = fake_receiver_after(
        |_| Vec::new(),
        Duration::from_secs(3600),
        Default::default(),
        nulls.clone(),
    )
    .await;
    let backup = Receiver::start(0, Some(KEY), 0);
    let mut c = varn_server::testkit::sia::centre_at(
        &[silent, backup.port],
        Some(KEY),
        Duration::from_secs(2),
    );
    c.timeout = Duration::from_secs(3);
    let (s, _dir) = server(vec![c]).await;
    let anna = s.device("Anna Andersson").await;
    // The first alarm waits out the primary's silence once, then goes to the backup.
    let first = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    wait_received(&s, &anna, first, "the first alarm never reached the backup").await;
    // The primary is asked again (it takes the question and never answers) …
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while nulls.load(Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the primary was never asked"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // … and an alarm raised meanwhile goes through the backup without waiting for it.
    let t = std::time::Instant::now();
    let second = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    wait_received(
        &s,
        &anna,
        second,
        "the second alarm never reached the backup",
    )
    .await;
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "the alarm waited {:?} for the primary's answer",
        t.elapsed()
    );
    s.stop().await;
    task.abort();
}
