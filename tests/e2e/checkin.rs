//! The check-in timer in the real window against the real server: check in → check out;
//! and a missed check-out, where the server (its clock moved by the test) raises the alarm
//! on its own and the dashboard in Chromium shows it — the app says nothing more to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use varn_core::wire::CheckinStatus;
use varn_server::clock::ManualClock;
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

use crate::alarm::enroll;
use crate::harness::{Browser, Desktop, WAIT};

async fn wait_status(server: &TestServer, status: CheckinStatus) -> varn_server::store::Checkin {
    let start = Instant::now();
    loop {
        if let Some(k) = server
            .store
            .open_checkins("sormland")
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            if k.status == status {
                return k;
            }
        }
        assert!(start.elapsed() < WAIT, "no check-in with status {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn check_in_then_check_out_all_calm() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("checkin");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;

    app.click("[data-tab='meeting']").await;
    app.click("#checkin-start").await;
    app.wait_text("#checkin-deadline", "Checka ut senast kl")
        .await;
    app.wait_text("#checkin-state", "Regionen har incheckningen")
        .await;
    let k = wait_status(&server, CheckinStatus::Active).await;
    let minutes = (k.deadline - k.started_at).num_minutes();
    assert_eq!(minutes, 60, "the default hour");
    app.screenshot("active").await;

    // One tap: 15 minutes more, and the region has the new deadline.
    app.click("#checkin-extend-15").await;
    let start = Instant::now();
    loop {
        let k = server
            .store
            .checkin("sormland", k.id)
            .await
            .unwrap()
            .unwrap();
        if k.revision == 2 {
            assert_eq!((k.deadline - k.started_at).num_minutes(), 75);
            break;
        }
        assert!(start.elapsed() < WAIT, "the extension never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    app.click("#checkout-calm").await;
    app.wait_text("#checkout-done", "Utcheckad").await;
    let start = Instant::now();
    loop {
        let k = server
            .store
            .checkin("sormland", k.id)
            .await
            .unwrap()
            .unwrap();
        if k.status == CheckinStatus::CheckedOut {
            break;
        }
        assert!(start.elapsed() < WAIT, "the check-out never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server
        .store
        .alarms("sormland", 10)
        .await
        .unwrap()
        .is_empty());
    app.quit().await;
}

#[tokio::test]
async fn a_missed_check_out_reaches_the_dashboard_as_an_alarm_without_the_app() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let server = TestServer::start_with(clock.clone()).await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("checkin-missed");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    let b = Browser::start("checkin-dashboard").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;

    app.click("[data-tab='meeting']").await;
    app.wait_for("#checkin-minutes").await;
    app.js("document.getElementById('checkin-minutes').value = '30'")
        .await;
    app.click("#checkin-start").await;
    app.wait_text("#checkin-state", "Regionen har incheckningen")
        .await;
    let k = wait_status(&server, CheckinStatus::Active).await;
    b.wait_for(&format!("#checkin-{}[data-soon='false']", k.id))
        .await;

    // Four minutes before the deadline the dashboard marks it, before anything escalates.
    clock.advance(chrono::Duration::minutes(26));
    let row = b
        .wait_for(&format!("#checkin-{}[data-soon='true']", k.id))
        .await;
    assert!(row.text().await.unwrap().contains("SNART"));
    b.screenshot("soon").await;
    assert!(server
        .store
        .alarms("sormland", 10)
        .await
        .unwrap()
        .is_empty());

    // The deadline passes on the server's clock; the app is not asked anything.
    clock.advance(chrono::Duration::minutes(5));
    let start = Instant::now();
    let alarm = loop {
        if let Some(a) = server.store.alarms("sormland", 10).await.unwrap().pop() {
            break a;
        }
        assert!(start.elapsed() < WAIT, "no alarm for the missed check-out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let li = b
        .wait_for(&format!("#alarm-{}[data-status='open']", alarm.id))
        .await;
    let text = li.text().await.unwrap();
    assert!(text.contains("Missad utcheckning"), "{text}");
    assert!(text.contains("Anna Andersson"), "{text}");
    b.wait_for(&format!("#checkin-{}[data-status='overdue']", k.id))
        .await;
    b.screenshot("missed").await;

    // "Något hände": a late check-out is recorded, the alarm stands, a report opens prefilled.
    app.click("#checkout-incident").await;
    app.wait_for("#incident-editor").await;
    let start = Instant::now();
    loop {
        let kinds: Vec<String> = server
            .store
            .alarm_events("sormland", alarm.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        if kinds.contains(&"checked_out".to_string()) {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "the late check-out never arrived: {kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = server
        .store
        .alarm("sormland", alarm.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.status,
        varn_core::wire::AlarmStatus::Open,
        "the alarm stands"
    );
    b.quit().await;
    app.quit().await;
}
