//! The silent conversation during an alarm, on the real server: what an officer writes wakes
//! the person's long-poll at once; the person's quick answer reaches the dashboard; each
//! message is stored once by its id; both timelines and the text export hold the exchange in
//! order; after a duress cancel the device sees nothing of it; a cancelled alarm takes no
//! more; nobody writes on another's alarm; the person's instructions reach the officers.
//! Runs on SQLite and, with `VARN_TEST_DATABASE=postgres`, on PostgreSQL.

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use varn_core::wire::{AlarmReceipt, MessageFrom};
use varn_server::testkit::device::Device;
use varn_server::testkit::{http_client as client, TestServer};

async fn device_put(d: &Device, alarm: Uuid, id: Uuid, text: &str) -> reqwest::Response {
    d.put(
        &format!("/v1/alarms/{alarm}/messages/{id}"),
        &json!({ "text": text }),
    )
    .await
}

async fn officer_post(
    s: &TestServer,
    officer: &reqwest::Client,
    alarm: Uuid,
    text: &str,
) -> reqwest::Response {
    officer
        .post(format!("{}/dashboard/api/alarms/{alarm}/messages", s.url()))
        .header("origin", s.url())
        .json(&json!({ "id": Uuid::now_v7(), "text": text }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_and_the_person_write_silently_and_both_timelines_hold_it() {
    let s = TestServer::start().await;
    let anna = s.device("Anna Andersson").await;
    let alarm = s
        .raise(
            &anna,
            json!({ "triggered_at": Utc::now(), "place": "Källaren" }),
        )
        .await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let first = s.receipt(&anna, alarm).await;
    assert!(first.messages.is_empty());

    // The person's long-poll wakes as soon as the officer writes.
    let waiting = {
        let (url, token) = (
            format!(
                "{}/v1/alarms/{alarm}?after_version={}&wait=30",
                s.url(),
                first.version
            ),
            anna.token.clone(),
        );
        tokio::spawn(async move {
            let start = Instant::now();
            let r: AlarmReceipt = client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (r, start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = officer_post(&s, &hanna, alarm, "Kan du prata? Svara med text").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (woken, waited) = waiting.await.unwrap();
    assert!(
        waited < Duration::from_secs(2),
        "the long-poll answered after {waited:?}"
    );
    assert_eq!(woken.messages.len(), 1);
    assert_eq!(woken.messages[0].from, MessageFrom::Officer);
    assert_eq!(woken.messages[0].author, "Hanna Holm");
    assert_eq!(woken.messages[0].text, "Kan du prata? Svara med text");

    // The person answers in one tap; a retry is the same message; the id cannot be reused.
    let id = Uuid::now_v7();
    assert_eq!(
        device_put(&anna, alarm, id, "Jag kan inte prata")
            .await
            .status(),
        StatusCode::CREATED
    );
    let again = device_put(&anna, alarm, id, "Jag kan inte prata").await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: AlarmReceipt = again.json().await.unwrap();
    assert_eq!(again.messages.len(), 2, "stored once");
    let other = device_put(&anna, alarm, id, "Jag är i säkerhet").await;
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(other.headers()["content-type"], "application/problem+json");
    for bad in ["", "   ", "nolltecken\u{0}"] {
        assert_eq!(
            device_put(&anna, alarm, Uuid::now_v7(), bad).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}"
        );
    }
    assert_eq!(
        device_put(&anna, alarm, Uuid::now_v7(), &"x".repeat(1001))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The dashboard has both, in order; both timelines and the text export too.
    let a = s.dashboard_alarm(&hanna, alarm).await;
    let texts: Vec<&str> = a["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Kan du prata? Svara med text", "Jag kan inte prata"]
    );
    assert_eq!(a["messages"][1]["from"], "person");
    assert_eq!(a["messages"][1]["author"], "Anna Andersson");
    let officer_timeline: Vec<Value> = s
        .officer_json(&hanna, &format!("/dashboard/api/alarms/{alarm}/timeline"))
        .await;
    let said: Vec<(String, String)> = officer_timeline
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("message_"))
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            (
                "message_to_person".to_string(),
                "Kan du prata? Svara med text".to_string()
            ),
            (
                "message_from_person".to_string(),
                "Jag kan inte prata".to_string()
            )
        ]
    );
    let device_timeline: Vec<Value> = anna
        .get(&format!("/v1/alarms/{alarm}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        device_timeline
            .iter()
            .filter(|e| e["kind"].as_str().unwrap().starts_with("message_"))
            .count(),
        2
    );
    let text = hanna
        .get(format!(
            "{}/dashboard/api/alarms/{alarm}/timeline.txt",
            s.url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (asked, answered) = (
        text.find("Kan du prata?").unwrap(),
        text.find("Jag kan inte prata").unwrap(),
    );
    assert!(asked < answered, "{text}");

    // Once cancelled, nobody writes on it any more.
    s.cancel(&anna, alarm, false).await;
    assert_eq!(
        officer_post(&s, &hanna, alarm, "Hallå?").await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        device_put(&anna, alarm, Uuid::now_v7(), "Ring mig")
            .await
            .status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_duress_cancel_the_device_sees_nothing_of_the_conversation() {
    let s = TestServer::start().await;
    let anna = s.device("Anna Andersson").await;
    let alarm = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    assert_eq!(
        device_put(&anna, alarm, Uuid::now_v7(), "Skicka hjälp nu")
            .await
            .status(),
        StatusCode::CREATED
    );
    s.cancel(&anna, alarm, true).await;
    // The alarm stands under duress: the officer may still write, for the region's record.
    assert_eq!(
        officer_post(&s, &hanna, alarm, "Polisen är larmad")
            .await
            .status(),
        StatusCode::OK
    );
    let r = s.receipt(&anna, alarm).await;
    assert!(
        r.messages.is_empty(),
        "whoever forced the cancel sees no conversation"
    );
    let raw = anna
        .get(&format!("/v1/alarms/{alarm}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !raw.contains("Polisen är larmad") && !raw.contains("Skicka hjälp"),
        "{raw}"
    );
    let device_timeline = anna
        .get(&format!("/v1/alarms/{alarm}/timeline"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !device_timeline.contains("Polisen är larmad"),
        "{device_timeline}"
    );
    let a = s.dashboard_alarm(&hanna, alarm).await;
    assert_eq!(
        a["messages"].as_array().unwrap().len(),
        2,
        "the region keeps the whole exchange"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_writes_on_anothers_alarm_and_the_instructions_reach_the_officers() {
    let s = TestServer::start().await;
    let anna = s.device("Anna Andersson").await;
    let bertil = s.device("Bertil").await;
    let alarm = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    assert_eq!(
        device_put(&bertil, alarm, Uuid::now_v7(), "Jag är i säkerhet")
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "another device cannot speak for the person"
    );
    let other_region = s.officer_client("olle", "Olle", "uppsala").await;
    assert_eq!(
        officer_post(&s, &other_region, alarm, "Hej").await.status(),
        StatusCode::NOT_FOUND
    );
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let cross_site = hanna
        .post(format!("{}/dashboard/api/alarms/{alarm}/messages", s.url()))
        .header("origin", "https://evil.example")
        .json(&json!({ "id": Uuid::now_v7(), "text": "Hej" }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    // Instructions: set by the person, shown with the alarm, bounded.
    let put = |text: String| {
        let (url, token) = (
            format!("{}/v1/me/instructions", s.url()),
            anna.token.clone(),
        );
        async move {
            client()
                .put(url)
                .bearer_auth(token)
                .json(&json!({ "text": text }))
                .send()
                .await
                .unwrap()
        }
    };
    let res = put("  Ring inte tillbaka. Kodord: blåbär. Astma.  ".into()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["text"],
        "Ring inte tillbaka. Kodord: blåbär. Astma."
    );
    assert_eq!(
        s.dashboard_alarm(&hanna, alarm).await["instructions"],
        "Ring inte tillbaka. Kodord: blåbär. Astma."
    );
    assert!(!s
        .receipt(&anna, alarm)
        .await
        .messages
        .iter()
        .any(|m| m.text.contains("blåbär")));
    assert_eq!(
        put("x".repeat(1001)).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(put(String::new()).await.status(), StatusCode::OK);
    assert_eq!(s.dashboard_alarm(&hanna, alarm).await["instructions"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_holds_a_bounded_conversation() {
    let s = TestServer::start().await;
    let anna = s.device("Anna Andersson").await;
    let alarm = s.raise(&anna, json!({ "triggered_at": Utc::now() })).await;
    for i in 0..varn_server::store::MAX_MESSAGES_PER_ALARM {
        let res = device_put(&anna, alarm, Uuid::now_v7(), &format!("meddelande {i}")).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{i}");
    }
    let res = device_put(&anna, alarm, Uuid::now_v7(), "ett till").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("at most 200 messages"));
}

/// Every change to an alarm is announced once, by the store after its commit, whoever made
/// it (the person, an officer): a repeat that changes nothing announces nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_announces_each_change_to_an_alarm_once() {
    let s = TestServer::start().await;
    let mut feed = s.store.alarm_changes();
    let anna = s.device("Anna Andersson").await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let next = |feed: &mut tokio::sync::broadcast::Receiver<_>| {
        let got: Option<std::sync::Arc<varn_server::store::Alarm>> = feed.try_recv().ok();
        got.map(|a| (a.status, a.version))
    };

    let body = json!({ "triggered_at": Utc::now(), "place": "Torget" });
    let alarm = s.raise(&anna, body.clone()).await;
    let created = next(&mut feed).expect("the new alarm is announced");
    assert_eq!(created.0, varn_core::wire::AlarmStatus::Open);
    // The same alarm again (a retry) changes nothing and announces nothing.
    let again = anna.put(&varn_core::paths::alarm(alarm), &body).await;
    assert!(again.status().is_success());
    assert_eq!(
        next(&mut feed),
        None,
        "a retried alarm is not announced again"
    );

    let word = Uuid::now_v7();
    assert!(device_put(&anna, alarm, word, "Jag kan inte prata")
        .await
        .status()
        .is_success());
    assert!(device_put(&anna, alarm, word, "Jag kan inte prata")
        .await
        .status()
        .is_success());
    let after_word = next(&mut feed).expect("the person's message is announced");
    assert_eq!(
        next(&mut feed),
        None,
        "the same message twice is announced once"
    );

    let ack = |hanna: &reqwest::Client| {
        hanna
            .post(format!("{}/dashboard/api/alarms/{alarm}/ack", s.url()))
            .header("origin", s.url())
            .send()
    };
    assert!(ack(&hanna).await.unwrap().status().is_success());
    let acked = next(&mut feed).expect("the acknowledgement is announced");
    assert_eq!(acked.0, varn_core::wire::AlarmStatus::Acknowledged);
    assert!(ack(&hanna).await.unwrap().status().is_success());
    assert_eq!(
        next(&mut feed),
        None,
        "a second acknowledgement changes nothing"
    );

    assert!(officer_post(&s, &hanna, alarm, "Hjälp är på väg")
        .await
        .status()
        .is_success());
    let written = next(&mut feed).expect("the officer's message is announced");
    s.cancel(&anna, alarm, false).await;
    let cancelled = next(&mut feed).expect("the cancel is announced");
    assert_eq!(cancelled.0, varn_core::wire::AlarmStatus::Cancelled);
    assert_eq!(next(&mut feed), None);

    // Each announcement is the alarm as it then stood: the versions only go up.
    let versions = [created.1, after_word.1, acked.1, written.1, cancelled.1];
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}
