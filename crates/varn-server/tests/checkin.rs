//! The check-in dead man's switch on the real server (127.0.0.1:0, real SQLite file) with a
//! clock the test moves and the server's own background check (every second): a missed
//! check-out raises one alarm on time with no further word from the device.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use varn_core::wire::{AlarmStatus, CheckinReceipt, CheckinStatus};
use varn_server::clock::ManualClock;
use varn_server::testkit::device::Device;
use varn_server::testkit::{http_client as client, TestServer};

/// Longer than two of the server's checks.
const TWO_CHECKS: Duration = Duration::from_millis(2500);

async fn put(s: &TestServer, d: &Device, id: Uuid, minutes: i64, revision: u32) -> CheckinReceipt {
    let started = s.clock.now();
    let res = client()
        .put(format!("{}/v1/checkins/{id}", s.url()))
        .bearer_auth(&d.token)
        .json(&json!({
            "started_at": started,
            "deadline": started + chrono::Duration::minutes(minutes),
            "meeting": "Medborgardialog",
            "place": "Folkets hus",
            "revision": revision,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn checkout(s: &TestServer, d: &Device, id: Uuid) -> CheckinReceipt {
    let res = d
        .post(
            &format!("/v1/checkins/{id}/checkout"),
            &json!({ "at": s.clock.now(), "outcome": "calm" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn alarms(s: &TestServer) -> Vec<varn_server::store::Alarm> {
    s.store.alarms("sormland", 100).await.unwrap()
}

async fn wait_alarms(s: &TestServer, n: usize) -> Vec<varn_server::store::Alarm> {
    let start = Instant::now();
    loop {
        let list = alarms(s).await;
        assert!(list.len() <= n, "more alarms than expected: {list:?}");
        if list.len() == n {
            return list;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no alarm raised");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_missed_check_out_raises_one_alarm_on_time_and_a_late_check_out_does_not_end_it() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let officer = s
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    let id = Uuid::now_v7();
    let r = put(&s, &d, id, 60, 1).await;
    assert_eq!(r.status, CheckinStatus::Active);
    // The dashboard lists it with its deadline.
    let answer: Value = s.officer_json(&officer, "/dashboard/api/checkins").await;
    let list = answer["checkins"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["who"], "Anna Andersson");
    assert_eq!(list[0]["status"], "active");

    // One second before the deadline: nothing.
    clock.advance(chrono::Duration::minutes(60) - chrono::Duration::seconds(1));
    tokio::time::sleep(TWO_CHECKS).await;
    assert!(alarms(&s).await.is_empty());
    // At the deadline, without a word from the device: one alarm, whoever looks how often.
    clock.advance(chrono::Duration::seconds(1));
    let raised = wait_alarms(&s, 1).await;
    tokio::time::sleep(TWO_CHECKS).await;
    assert_eq!(alarms(&s).await.len(), 1, "exactly once");
    let alarm = &raised[0];
    assert_eq!(alarm.status, AlarmStatus::Open);
    assert_eq!(alarm.meeting, "Medborgardialog");
    assert_eq!(alarm.place, "Folkets hus");
    assert!(
        alarm.message.contains("Missad utcheckning"),
        "{}",
        alarm.message
    );
    let r = d
        .get(&format!("/v1/checkins/{id}"))
        .await
        .json::<CheckinReceipt>()
        .await
        .unwrap();
    assert_eq!(r.status, CheckinStatus::Overdue);
    assert_eq!(r.alarm_id, Some(alarm.id));

    // An extension after the deadline is too late: nothing moves.
    let late = put(&s, &d, id, 120, 2).await;
    assert_eq!(late.status, CheckinStatus::Overdue);
    assert_eq!(late.revision, 1);

    // A late check-out is recorded; the alarm stays until a person acknowledges it.
    let out = checkout(&s, &d, id).await;
    assert!(out.checked_out_at.is_some());
    assert_eq!(out.status, CheckinStatus::Overdue);
    let a = s.store.alarm("sormland", alarm.id).await.unwrap().unwrap();
    assert_eq!(a.status, AlarmStatus::Open);
    let kinds: Vec<String> = s
        .store
        .alarm_events("sormland", alarm.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["checked_in", "checkin_overdue", "checked_out"]);
    // An hour has passed on the server's clock with no dashboard open: a new login.
    let officer = s.login("hanna").await;
    let res = officer
        .post(format!("{}/dashboard/api/alarms/{}/ack", s.url(), alarm.id))
        .header("origin", s.url())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let a = s.store.alarm("sormland", alarm.id).await.unwrap().unwrap();
    assert_eq!(a.status, AlarmStatus::Acknowledged);
    s.stop().await;
}

#[tokio::test]
async fn a_check_out_in_time_or_an_extension_prevents_the_alarm() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let other = s.device("Bo Bengtsson").await;

    // Checked out after 30 of 60 minutes.
    let calm = Uuid::now_v7();
    put(&s, &d, calm, 60, 1).await;
    // Extended to 90 minutes; a late copy of revision 1 does not move it back.
    let extended = Uuid::now_v7();
    put(&s, &d, extended, 60, 1).await;
    let r = put(&s, &d, extended, 90, 2).await;
    assert_eq!(r.revision, 2);
    let stale = put(&s, &d, extended, 60, 1).await;
    assert_eq!(
        stale.revision, 2,
        "an older revision never moves the deadline back"
    );
    assert_eq!(stale.deadline, r.deadline);
    // Another device cannot touch it.
    let res = other
        .post(
            &format!("/v1/checkins/{calm}/checkout"),
            &json!({ "at": s.clock.now(), "outcome": "calm" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    clock.advance(chrono::Duration::minutes(30));
    let out = checkout(&s, &d, calm).await;
    assert_eq!(out.status, CheckinStatus::CheckedOut);
    assert_eq!(checkout(&s, &d, calm).await, out, "idempotent");
    clock.advance(chrono::Duration::minutes(40));
    tokio::time::sleep(TWO_CHECKS).await;
    assert!(
        alarms(&s).await.is_empty(),
        "checked out and extended: no alarm"
    );
    // The extended one runs out at 90 minutes.
    clock.advance(chrono::Duration::minutes(20));
    wait_alarms(&s, 1).await;

    // Bad input gets a clear problem.
    let res = client()
        .put(format!("{}/v1/checkins/{}", s.url(), Uuid::now_v7()))
        .bearer_auth(&d.token)
        .json(&json!({ "started_at": s.clock.now(), "deadline": s.clock.now(), "revision": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("deadline"), "{p}");
    s.stop().await;
}
