//! The region's 24/7 alarm centre over SIA DC-09, against a receiver nobody here wrote:
//! `pysiaalarm` (PyPI, in the venv `scripts/test` makes) run as the alarm centre. It checks
//! each message's CRC, decrypts it with the account's key and checks its timestamp. Every
//! event arrives once with its code, plain and encrypted; events queued while the centre is
//! down arrive in order once it is back; a NAK is retried; supervision messages come at the
//! interval. Runs on SQLite and, with `VARN_TEST_DATABASE=postgres`, on PostgreSQL (two
//! instances sending once: `cluster.rs`).

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use varn_server::centre::Centre;
use varn_server::store::Database;
use varn_server::testkit::sia::{Receiver, ACCOUNT, KEY};
use varn_server::testkit::{pg, postgres_wanted, TestServer};

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
                json!({ "triggered_at": Utc::now(), "place": "Stora torget, Nyköping" }),
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
            assert_eq!(e["account"], ACCOUNT);
            assert_eq!(e["valid_timestamp"], true);
            assert_eq!(e["valid_crc"], true);
            assert_eq!(e["encrypted"], key.is_some());
        }
        let text = got[0]["text"].as_str().unwrap();
        assert!(
            text.contains(&anna.device_id.simple().to_string())
                && text.contains("Stora torget, Nykoping"),
            "{text}"
        );
        assert!(
            !text.contains("Anna"),
            "no name: the person's id is enough for the centre"
        );

        // The ACK is on the alarm's timeline and in the device's receipt.
        let r = s.receipt(&anna, first).await;
        assert!(r.centre_received_at.is_some());
        let timeline: Vec<Value> = anna
            .get(&format!("/v1/alarms/{first}/timeline"))
            .await
            .json()
            .await
            .unwrap();
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
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while s.receipt(&anna, id).await.centre_received_at.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the centre's ACK was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    assert!(
        (2..=4).contains(&nulls),
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
