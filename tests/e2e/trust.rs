//! Trust in the alarm, in the real window against the real server: a drill goes the whole way
//! marked TEST and comes back with its round trip, and an alarm nobody acknowledges escalates
//! and the app says to whom.

use std::time::{Duration, Instant};

use varn_core::profile::Profile;
use varn_server::clock::SystemClock;
use varn_server::testkit::{TestServer, ESCALATION_LIST, OFFICER_PASSWORD};

use crate::alarm::enroll;
use crate::harness::{Browser, Desktop, WAIT};

#[tokio::test]
async fn a_drill_goes_the_whole_way_marked_test_and_is_remembered() {
    let server = TestServer::start().await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("drill");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;

    // Never drilled: the meeting view says it is time.
    app.click("[data-tab='meeting']").await;
    app.wait_text("#drill-last", "inte gjort något testlarm")
        .await;
    app.wait_text("#drill-due", "Dags för ett testlarm").await;

    let b = Browser::start("drill-dashboard").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;

    app.click("#drill-start").await;
    app.wait_text("#drill-banner", "TESTLARM").await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let alarms = server.store.alarms("sormland", 10).await.unwrap();
    assert_eq!(alarms.len(), 1);
    assert!(alarms[0].drill, "the server holds it as a drill");
    let row = format!("#alarm-{}", alarms[0].id);
    let li = b.wait_for(&format!("{row}[data-drill='true']")).await;
    assert!(li.text().await.unwrap().contains("TEST"));
    // Never counted as a real alarm.
    let stats = b.wait_for("#alarm-stats").await.text().await.unwrap();
    assert!(
        stats.contains("Larm senaste 30 dagarna: 0 · testlarm: 1"),
        "{stats}"
    );
    b.screenshot("drill").await;
    b.wait_for(&format!("{row} button[data-ack]"))
        .await
        .click()
        .await
        .unwrap();
    app.wait_text("#alarm-title", "KVITTERAT av Hanna Handläggare")
        .await;
    app.wait_text("#round-trip", "tur och retur").await;
    app.screenshot("drill-acknowledged").await;
    b.quit().await;

    // Remembered: the meeting view shows it and no longer asks.
    app.click("#alarm-leave").await;
    app.click("[data-tab='meeting']").await;
    app.open_section("meeting-drill").await;
    app.wait_text("#drill-last", "kvitterat av Hanna Handläggare")
        .await;
    assert_eq!(app.count("#drill-due").await, 0);
    app.screenshot("drill-remembered").await;
    app.quit().await;
}

#[tokio::test]
async fn an_alarm_nobody_acknowledges_escalates_and_the_app_says_to_whom() {
    // A region that escalates after 5 s.
    let mut profile = Profile::embedded_default().unwrap();
    profile.alarm.ack_limit_seconds = 5;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_serving(
        dir.path().join("server.db"),
        std::sync::Arc::new(SystemClock),
        None,
        vec![varn_server::testkit::signed_for_tests(&profile)],
    )
    .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("escalation");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;

    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    app.wait_text("#alarm-detail", "ingen har kvitterat det ännu")
        .await;
    // 112 stays the largest thing while nobody has taken it.
    app.wait_attr("#alarm-call-112", "class", "alarm-112 largest")
        .await;
    let detail = app
        .wait_text(
            "#alarm-detail",
            "gått vidare till: Jourhavande säkerhetschef",
        )
        .await;
    assert!(detail.contains("Ring 112"), "{detail}");
    app.screenshot("escalated").await;
    let start = Instant::now();
    while server.notifier.sent().is_empty() {
        assert!(start.elapsed() < WAIT, "no alert was sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.notifier.sent()[0].to, ESCALATION_LIST[0].1);
    app.quit().await;
}
