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

/// Local time as the app's forms take it, `minutes` from now.
fn local_in(minutes: i64) -> String {
    (chrono::Local::now() + chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// How many notifications dunst has shown that contain `needle`.
fn count_notifications(desk: &Desktop, needle: &str) -> usize {
    desk.notifications()
        .iter()
        .filter(|n| n.contains(needle))
        .count()
}

#[tokio::test]
async fn an_election_period_prompts_every_appearance_and_its_reminder_fires_once() {
    // The region switches on an election period covering today (a newer profile).
    let mut profile = varn_core::profile::Profile::embedded_default().unwrap();
    profile.version += 1;
    let today = chrono::Local::now().date_naive();
    profile.election = Some(varn_core::profile::ElectionPeriod {
        from: (today - chrono::Duration::days(1)).to_string(),
        to: (today + chrono::Duration::days(1)).to_string(),
        note: varn_core::profile::Text {
            sv: "Valrörelse pågår – skärpt risk.".into(),
            en: "Election campaign – heightened risk.".into(),
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_serving(
        dir.path().join("server.db"),
        Arc::new(varn_server::clock::SystemClock),
        None,
        vec![varn_server::testkit::signed_for_tests(&profile)],
    )
    .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("appearance");
    // Signed with the tests' key for Sörmland, which this debug build is told to trust.
    desk.trust_test_key("sormland");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    // The home screen says so once the newer profile is in.
    app.wait_text("#election-banner", "Valrörelse pågår").await;

    app.click("[data-tab='meeting']").await;
    app.wait_for("#checkin-suggested").await;
    app.fill("#appearance-title", "Medborgardialog").await;
    app.fill("#appearance-place", "Folkets hus, Flen").await;
    // Typed as a person types them: ÅÅÅÅ-MM-DD and TT:MM.
    let (start, end) = (local_in(10), local_in(70));
    app.fill("#appearance-start-date", &start[..10]).await;
    app.fill("#appearance-start-time", &start[11..16]).await;
    app.fill("#appearance-end-date", &end[..10]).await;
    app.fill("#appearance-end-time", &end[11..16]).await;
    app.js("document.getElementById('appearance-remind').value = '15';")
        .await;
    app.click("#appearance-save").await;
    // Election period: straight to the risk inventory, filled in from the appearance.
    app.wait_js(
        "return document.getElementById('inv-what')?.value",
        serde_json::json!("Medborgardialog"),
    )
    .await;
    app.screenshot("inventory-prompted").await;

    // No inventory was made: the reminder fires (start in 10 min, remind 15 min before).
    let start = Instant::now();
    while count_notifications(&desk, "Medborgardialog") == 0 {
        assert!(start.elapsed() < Duration::from_secs(40), "no reminder");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app.quit().await;
    // Not again after a restart, however long it runs.
    let app = desk.launch().await;
    tokio::time::sleep(varn_app::runners::reminders::LOOK_EVERY + Duration::from_secs(3)).await;
    assert_eq!(
        count_notifications(&desk, "Medborgardialog"),
        1,
        "the reminder fired once and not again after the restart"
    );

    // Check in for the appearance: until its end, with its title and place.
    app.click("[data-tab='meeting']").await;
    app.wait_text("[data-inventory-state='missing']", "Riskinventering saknas")
        .await;
    app.screenshot("appearance").await;
    app.click("[data-checkin-for]").await;
    app.wait_text("#checkin-state", "Regionen har incheckningen")
        .await;
    let k = wait_status(&server, CheckinStatus::Active).await;
    assert_eq!(k.meeting, "Medborgardialog");
    assert_eq!(k.place, "Folkets hus, Flen");
    let minutes = (k.deadline - k.started_at).num_minutes();
    assert!((68..=70).contains(&minutes), "{minutes}");
    app.quit().await;
}

#[tokio::test]
async fn a_check_in_the_region_never_received_says_so_with_112() {
    let server = TestServer::start().await;
    let proxy = varn_server::testkit::proxy::FaultProxy::start(
        server.running.addr,
        varn_server::testkit::proxy::Fault::Pass,
    )
    .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("checkin-down");
    let app = desk.launch().await;
    enroll(&app, &proxy.url(), &code).await;

    proxy.set(varn_server::testkit::proxy::Fault::Refuse);
    app.click("[data-tab='meeting']").await;
    app.click("#checkin-start").await;
    app.wait_text("#checkin-state", "Skickar incheckningen")
        .await;
    // After 15 s without a receipt: the region does not know — it will not raise an alarm.
    app.wait_text("#checkin-state", "Regionen har inte fått incheckningen")
        .await;
    app.wait_for("#checkin-112").await;
    app.screenshot("unconfirmed").await;
    assert!(server
        .store
        .open_checkins("sormland")
        .await
        .unwrap()
        .is_empty());

    // The region is back: the check-in arrives and the card says the region has it.
    proxy.set(varn_server::testkit::proxy::Fault::Pass);
    app.wait_text("#checkin-state", "Regionen har incheckningen")
        .await;
    wait_status(&server, CheckinStatus::Active).await;
    assert_eq!(app.count("#checkin-112").await, 0);
    app.quit().await;
}
