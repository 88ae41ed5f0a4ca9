//! Duress cancels, the alarm timeline (device and dashboard views, notes, "shown"), and the
//! automatic drill responder, on the real server (127.0.0.1:0, real SQLite file).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use varn_core::profile::Profile;
use varn_core::wire::{AlarmReceipt, AlarmStatus, TimelineEntry};
use varn_server::clock::{Clock, ManualClock, SystemClock};
use varn_server::testkit::device::Device;
use varn_server::testkit::TestServer;

async fn device_timeline(d: &Device, id: Uuid) -> reqwest::Response {
    d.get(&format!("/v1/alarms/{id}/timeline")).await
}

fn kinds(events: &[TimelineEntry]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

/// POST to the dashboard as the page does (same origin).
async fn dashboard_post(
    s: &TestServer,
    officer: &reqwest::Client,
    path: &str,
    body: Value,
) -> reqwest::Response {
    officer
        .post(format!("{}{path}", s.url()))
        .header("origin", s.url())
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_duress_cancel_looks_like_a_cancel_to_the_device_but_the_alarm_stands_and_escalates() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let said = d
        .put(
            varn_core::paths::INSTRUCTIONS,
            &json!({ "text": "Ring inte tillbaka. Kodord: blåsippa." }),
        )
        .await;
    assert!(said.status().is_success(), "{}", said.status());
    let officer = s
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    let id = s
        .raise(
            &d,
            json!({ "triggered_at": clock.now(), "stored_at": clock.now(), "place": "Torget" }),
        )
        .await;

    let r = s.cancel(&d, id, true).await;
    assert_eq!(
        r.status,
        AlarmStatus::Open,
        "a duress cancel does not cancel"
    );
    assert!(r.duress);
    // Sent again (a retry) and then a plain cancel: neither changes anything.
    let again = s.cancel(&d, id, true).await;
    assert_eq!(again.version, r.version);
    let plain = s.cancel(&d, id, false).await;
    assert_eq!(plain.status, AlarmStatus::Open, "the duress stands");
    assert_eq!(plain.version, r.version);

    // The dashboard sees it marked, first in line.
    let a = s.dashboard_alarm(&officer, id).await;
    assert!(a["duress_at"].is_string(), "{a}");
    assert_eq!(a["status"], "open");

    // Nobody acknowledges: it escalates like any open alarm.
    clock.advance(chrono::Duration::seconds(61));
    let start = Instant::now();
    while s.notifier.sent().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "no escalation");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The mail says not to call, and carries what the person asked.
    let mail = &s.notifier.sent()[0];
    assert!(
        mail.subject.contains("ring inte personen"),
        "{}",
        mail.subject
    );
    assert!(mail.body.contains("RING INTE PERSONEN"), "{}", mail.body);
    assert!(mail.body.contains("Kodord: blåsippa"), "{}", mail.body);
    assert!(!mail.body.contains("eller ring personen"), "{}", mail.body);

    // The device's timeline ends with a plain cancel; the dashboard's says duress.
    let res = device_timeline(&d, id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mine: Vec<TimelineEntry> = res.json().await.unwrap();
    assert_eq!(
        kinds(&mine),
        ["triggered", "stored", "received", "cancelled"]
    );
    assert!(mine
        .iter()
        .all(|e| e.kind != "duress" && e.kind != "escalated"));
    let full: Vec<TimelineEntry> = s
        .officer_json(&officer, &format!("/dashboard/api/alarms/{id}/timeline"))
        .await;
    assert_eq!(
        kinds(&full),
        ["triggered", "stored", "received", "duress", "escalated"]
    );
    s.stop().await;
}

#[tokio::test]
async fn every_step_is_on_the_timeline_once_in_order_with_notes_and_a_text_export() {
    let s = TestServer::start_with(Arc::new(SystemClock)).await;
    let d = s.device("Anna Andersson").await;
    let other = s.device("Bo Bengtsson").await;
    let officer = s
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    let body = json!({ "triggered_at": Utc::now(), "stored_at": Utc::now(), "meeting": "Fullmäktige", "place": "Stora salen" });
    let id = s.raise(&d, body.clone()).await;
    // Retries of the same alarm (lost answers) add nothing.
    for _ in 0..3 {
        let res = d.put(&format!("/v1/alarms/{id}"), &body).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Shown twice by the same officer (two page loads): recorded once.
    for _ in 0..2 {
        let res = dashboard_post(
            &s,
            &officer,
            &format!("/dashboard/api/alarms/{id}/shown"),
            json!({}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    for _ in 0..2 {
        let res = dashboard_post(
            &s,
            &officer,
            &format!("/dashboard/api/alarms/{id}/ack"),
            json!({}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = dashboard_post(
        &s,
        &officer,
        &format!("/dashboard/api/alarms/{id}/notes"),
        json!({ "text": "Ringt polisen.\nPatrull på väg." }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // An empty note and a foreign field are refused with a clear problem.
    for bad in [
        json!({ "text": "   " }),
        json!({ "text": "x", "actor": "någon annan" }),
    ] {
        let res = dashboard_post(
            &s,
            &officer,
            &format!("/dashboard/api/alarms/{id}/notes"),
            bad,
        )
        .await;
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    s.cancel(&d, id, false).await;

    let res = device_timeline(&d, id).await;
    let events: Vec<TimelineEntry> = res.json().await.unwrap();
    assert_eq!(
        kinds(&events),
        [
            "triggered",
            "stored",
            "received",
            "shown",
            "acknowledged",
            "note",
            "cancelled"
        ]
    );
    assert_eq!(events[3].actor, "Hanna Handläggare");
    assert_eq!(events[5].detail, "Ringt polisen.\nPatrull på väg.");
    assert!(
        events.windows(2).skip(2).all(|w| w[0].at <= w[1].at),
        "server times never go backwards: {events:?}"
    );

    // Another device of the region cannot read it; an officer of another region neither.
    assert_eq!(
        device_timeline(&other, id).await.status(),
        StatusCode::NOT_FOUND
    );
    let stranger = s.officer_client("olle", "Olle Other", "uppsala").await;
    let res = dashboard_post(
        &s,
        &stranger,
        &format!("/dashboard/api/alarms/{id}/notes"),
        json!({ "text": "hej" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = stranger
        .get(format!(
            "{}/dashboard/api/alarms/{id}/timeline.txt",
            s.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The text export, one line per event.
    let res = officer
        .get(format!(
            "{}/dashboard/api/alarms/{id}/timeline.txt",
            s.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = res.text().await.unwrap();
    assert!(text.contains("Person: Anna Andersson"), "{text}");
    assert!(text.contains("Plats: Stora salen"));
    assert!(text.contains("Visat i regionens larmvy – Hanna Handläggare"));
    assert!(text.contains("Anteckning – Hanna Handläggare: Ringt polisen. Patrull på väg."));
    s.stop().await;
}

#[tokio::test]
async fn a_region_that_allows_it_gets_drills_acknowledged_automatically_and_only_drills() {
    let dir = tempfile::tempdir().unwrap();
    let mut profile = Profile::embedded_default().unwrap();
    profile.alarm.drill_auto_ack = true;
    let s = TestServer::start_serving(
        dir.path().join("server.db"),
        Arc::new(SystemClock),
        None,
        vec![varn_server::testkit::signed_for_tests(&profile)],
    )
    .await;
    let d = s.device("Anna Andersson").await;
    let drill = s
        .raise(&d, json!({ "triggered_at": Utc::now(), "drill": true }))
        .await;
    let real = s.raise(&d, json!({ "triggered_at": Utc::now() })).await;
    let receipt = |id: Uuid| {
        let d = &d;
        async move {
            d.get(&format!("/v1/alarms/{id}"))
                .await
                .json::<AlarmReceipt>()
                .await
                .unwrap()
        }
    };
    let start = Instant::now();
    loop {
        let r = receipt(drill).await;
        if r.status == AlarmStatus::Acknowledged {
            assert_eq!(
                r.acknowledged_by.as_deref(),
                Some(varn_server::api::DRILL_RESPONDER)
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        receipt(real).await.status,
        AlarmStatus::Open,
        "a real alarm waits for a person"
    );
    s.stop().await;
}
