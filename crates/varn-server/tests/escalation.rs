//! Escalation when nobody acknowledges, on the real server (127.0.0.1:0, real SQLite file)
//! with a clock the test moves and the server's own background check (every second). The
//! notifier records instead of mailing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;
use varn_server::clock::{Clock, ManualClock};
use varn_server::escalation::{self, Notice};
use varn_server::testkit::device::Device;
use varn_server::testkit::{TestServer, ESCALATION_LIST};

/// Longer than two of the server's checks.
const TWO_CHECKS: Duration = Duration::from_millis(2500);

async fn raise(s: &TestServer, d: &Device, drill: bool) -> Uuid {
    s.raise(
        d,
        json!({ "triggered_at": s.clock.now(), "place": "Stora torget", "drill": drill }),
    )
    .await
}

async fn officer(s: &TestServer) -> Client {
    s.officer_client("hanna", "Hanna Handläggare", "sormland")
        .await
}

async fn timeline(s: &TestServer, officer: &Client, id: Uuid) -> Vec<Value> {
    s.officer_json(officer, &format!("/dashboard/api/alarms/{id}/timeline"))
        .await
}

/// Waits (real time) until the notifier has recorded `n` alerts; returns them.
async fn wait_notices(s: &TestServer, n: usize) -> Vec<Notice> {
    let start = Instant::now();
    loop {
        let sent = s.notifier.sent();
        assert!(sent.len() <= n, "more alerts than expected: {sent:?}");
        if sent.len() == n {
            return sent;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "only {} of {n} alerts: {sent:?}",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the server's check run a few times and asserts nothing new was alerted.
async fn still(s: &TestServer, n: usize) {
    tokio::time::sleep(TWO_CHECKS).await;
    assert_eq!(s.notifier.sent().len(), n, "{:?}", s.notifier.sent());
}

fn manual() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Utc::now()))
}

#[tokio::test]
async fn an_unacknowledged_alarm_escalates_on_time_down_the_list_once_per_step() {
    let clock = manual();
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let o = officer(&s).await;
    let id = raise(&s, &d, false).await;
    let first = s.receipt(&d, id).await;
    assert!(first.escalated_to.is_empty());

    // One second short of the limit (60 s in the embedded profile): nothing.
    clock.advance(chrono::Duration::seconds(59));
    still(&s, 0).await;

    // At the limit: the first on the list, once, with no word from the device.
    clock.advance(chrono::Duration::seconds(1));
    let sent = wait_notices(&s, 1).await;
    assert_eq!(
        (sent[0].to.as_str(), sent[0].alarm, sent[0].step),
        (ESCALATION_LIST[0].1, id, 1)
    );
    assert!(
        sent[0].subject.contains("inte kvitterat"),
        "{}",
        sent[0].subject
    );
    still(&s, 1).await;
    let r = s.receipt(&d, id).await;
    assert_eq!(r.escalated_to, vec![ESCALATION_LIST[0].0.to_string()]);
    assert!(r.version > first.version, "the device's long-poll wakes");

    // Every further limit: the next on the list, then everyone again.
    clock.advance(chrono::Duration::seconds(60));
    let sent = wait_notices(&s, 2).await;
    assert_eq!(
        (sent[1].to.as_str(), sent[1].step),
        (ESCALATION_LIST[1].1, 2)
    );
    clock.advance(chrono::Duration::seconds(60));
    let sent = wait_notices(&s, 4).await;
    let third: Vec<_> = sent[2..].iter().map(|n| (n.to.as_str(), n.step)).collect();
    assert_eq!(
        third,
        vec![(ESCALATION_LIST[0].1, 3), (ESCALATION_LIST[1].1, 3)]
    );
    let r = s.receipt(&d, id).await;
    assert_eq!(
        r.escalated_to,
        vec![
            ESCALATION_LIST[0].0.to_string(),
            ESCALATION_LIST[1].0.to_string()
        ]
    );

    // The dashboard has the steps; the timeline has each once, in order.
    let list: Vec<Value> = s.officer_json(&o, "/dashboard/api/alarms").await;
    assert_eq!(list[0]["escalation_step"], 3);
    let kinds: Vec<String> = timeline(&s, &o, id)
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "triggered",
            "received",
            "escalated",
            "escalated",
            "escalated"
        ]
    );

    // An acknowledgement stops it.
    let res = o
        .post(format!("{}/dashboard/api/alarms/{id}/ack", s.url()))
        .header("origin", s.url())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    clock.advance(chrono::Duration::seconds(600));
    still(&s, 4).await;
}

#[tokio::test]
async fn concurrent_looks_record_each_step_once() {
    let clock = manual();
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let ids = [raise(&s, &d, false).await, raise(&s, &d, false).await];
    clock.advance(chrono::Duration::seconds(61));
    // Eight looks at once, plus the server's own loop.
    let state = &s.running.state;
    let looks = futures_util::future::join_all((0..8).map(|_| escalation::tick(state))).await;
    let recorded: usize = looks.into_iter().map(|r| r.unwrap().len()).sum();
    assert!(recorded <= 2, "a step recorded twice: {recorded}");
    let sent = wait_notices(&s, 2).await;
    let mut alarms: Vec<Uuid> = sent.iter().map(|n| n.alarm).collect();
    alarms.sort();
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(alarms, expected);
    still(&s, 2).await;
}

#[tokio::test]
async fn cancelled_alarms_and_drills_never_escalate() {
    let clock = manual();
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let cancelled = raise(&s, &d, false).await;
    let res = d
        .post(
            &format!("/v1/alarms/{cancelled}/cancel"),
            &json!({ "cancelled_at": clock.now(), "reason": "falsklarm" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let drill = raise(&s, &d, true).await;
    assert!(s.receipt(&d, drill).await.drill);
    clock.advance(chrono::Duration::seconds(3600));
    still(&s, 0).await;
}

#[tokio::test]
async fn escalation_goes_on_after_a_restart() {
    let clock = manual();
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let id = raise(&s, &d, false).await;
    let database = s.database.clone();
    let dir = s.stop().await;
    // Down for five minutes: one step per check until it has caught up, none twice.
    clock.advance(chrono::Duration::seconds(300));
    let s = TestServer::start_at(database, clock.clone(), None).await;
    let sent = wait_notices(&s, 2 + 2 * 3).await;
    assert!(sent.iter().all(|n| n.alarm == id));
    let steps: Vec<u32> = sent.iter().map(|n| n.step).collect();
    assert_eq!(steps, [1, 2, 3, 3, 4, 4, 5, 5]);
    still(&s, 8).await;
    drop(dir);
}

#[tokio::test]
async fn an_alert_that_cannot_be_sent_is_in_the_timeline() {
    let clock = manual();
    let s = TestServer::start_with(clock.clone()).await;
    *s.notifier.fail_for.lock().unwrap() = Some(ESCALATION_LIST[0].1.to_string());
    let d = s.device("Anna Andersson").await;
    let o = officer(&s).await;
    let id = raise(&s, &d, false).await;
    clock.advance(chrono::Duration::seconds(60));
    let start = Instant::now();
    loop {
        let events = timeline(&s, &o, id).await;
        if let Some(e) = events.iter().find(|e| e["kind"] == "notify_failed") {
            assert!(e["detail"]
                .as_str()
                .unwrap()
                .starts_with(ESCALATION_LIST[0].0));
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{events:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(s.notifier.sent().is_empty());
}

/// What the dashboard may claim: an alarm that reached the server after the app told the
/// person to call 112 (15 s) is marked late with its seconds, a prompt one is not; and a
/// region without an alarm centre is told it has none (the escalation line says so).
#[tokio::test]
async fn the_dashboard_is_told_a_late_alarm_and_that_no_alarm_centre_is_connected() {
    let clock = manual();
    let s = TestServer::start_with(clock.clone()).await;
    let d = s.device("Anna Andersson").await;
    let o = officer(&s).await;
    let prompt = raise(&s, &d, false).await;
    let late = s
        .raise(
            &d,
            json!({ "triggered_at": s.clock.now() - chrono::Duration::seconds(38), "place": "Torget" }),
        )
        .await;
    let list: Vec<Value> = s.officer_json(&o, "/dashboard/api/alarms").await;
    let of = |id: Uuid| {
        list.iter()
            .find(|a| a["id"] == id.to_string())
            .cloned()
            .unwrap()
    };
    assert_eq!(of(prompt)["late_seconds"], Value::Null);
    assert_eq!(of(late)["late_seconds"], 38);
    let whole: Value = s
        .officer_json(&o, &format!("/dashboard/api/alarms/{late}"))
        .await;
    assert_eq!(whole["late_seconds"], 38);
    let centre: Value = s.officer_json(&o, "/dashboard/api/centre").await;
    assert_eq!(centre["configured"], false, "{centre}");
    assert_eq!(centre["down_since"], Value::Null);
}
