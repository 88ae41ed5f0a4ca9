//! The PIN, the duress PIN, "Dölj", the lock screen and call scripts, in the real window
//! against the real server: a cancel needs the PIN; the duress PIN looks like a cancel on
//! screen while the dashboard shows the alarm as under duress; wrong PINs are delayed; the
//! lock screen keeps the alarm and 112 and nothing else; the lock survives a restart and
//! quitting behind it needs the PIN; unlinking needs the PIN and reaches the region.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use varn_server::clock::ManualClock;
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

use crate::alarm::enroll;
use crate::harness::{App, Browser, Desktop, WAIT};

const PIN: &str = "2580";
const DURESS: &str = "1590";

async fn set_pins(app: &App) {
    app.click("#settings-btn").await;
    app.wait_text("#pin-state", "Ingen PIN är vald").await;
    app.fill("#pin-new", PIN).await;
    app.fill("#pin-duress", DURESS).await;
    app.click("#pin-save").await;
    app.wait_text("#pin-save-status", "PIN sparad").await;
    let state = app.wait_text("#pin-state", "PIN är vald").await;
    // Whether a duress PIN is set is never shown.
    assert!(!state.to_lowercase().contains("hot-pin"), "{state}");
}

/// Enters a PIN in the open PIN dialog.
async fn enter_pin(app: &App, pin: &str) {
    app.fill("#pin-entry", pin).await;
    app.click("#pin-submit").await;
}

#[tokio::test]
async fn the_duress_pin_cancels_on_screen_while_the_dashboard_holds_the_alarm() {
    let server = TestServer::start().await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("duress");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    set_pins(&app).await;
    app.click("[data-tab='plan']").await;

    let b = Browser::start("duress-dashboard").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;

    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    app.click("#cancel-alarm").await;
    app.wait_text("#pin-title", "Ange PIN").await;

    // Wrong PINs: two free tries, then a growing wait that even the right PIN must respect.
    enter_pin(&app, "0000").await;
    app.wait_text("#pin-status", "Fel PIN. Försök igen.").await;
    enter_pin(&app, "0001").await;
    app.wait_text("#pin-status", "Fel PIN. Försök igen.").await;
    enter_pin(&app, "0002").await;
    app.wait_text("#pin-status", "Nästa försök om 5 sekunder")
        .await;
    enter_pin(&app, DURESS).await;
    app.wait_text("#pin-status", "För många fel").await;
    assert_eq!(
        server.store.alarms("sormland", 10).await.unwrap()[0].duress_at,
        None,
        "nothing reached the server while waiting"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    enter_pin(&app, DURESS).await;

    // On screen: exactly a cancel.
    app.wait_text("#alarm-title", "Larmet är avbrutet (falsklarm).")
        .await;
    // As after a plain cancel of a received alarm: not "never reached the region", and where
    // it went.
    let detail = app
        .js("return document.getElementById('alarm-detail')?.textContent ?? ''")
        .await;
    assert!(
        !detail.as_str().unwrap_or("").contains("nådde aldrig"),
        "{detail}"
    );
    app.wait_for("#alarm-region-host").await;
    app.screenshot("duress-device").await;

    // On the server and the dashboard: open, under duress, first in line.
    let start = Instant::now();
    let alarm = loop {
        let a = server.store.alarms("sormland", 10).await.unwrap()[0].clone();
        if a.duress_at.is_some() {
            break a;
        }
        assert!(
            start.elapsed() < WAIT,
            "the duress never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(alarm.status, varn_core::wire::AlarmStatus::Open);
    let row = format!("#alarm-{}[data-duress='true']", alarm.id);
    let li = b.wait_for(&row).await;
    let text = li.text().await.unwrap();
    assert!(text.contains("UNDER TVÅNG"), "{text}");
    assert!(text.contains("NYTT LARM"), "{text}");
    b.screenshot("duress").await;

    // The app's timeline from the region ends with a plain cancel.
    app.click("#alarm-timeline-btn").await;
    let timeline = app
        .wait_text("#alarm-timeline", "Avbrutet – Anna Andersson")
        .await;
    assert!(timeline.contains("Larmet utlöstes"), "{timeline}");
    assert!(timeline.contains("Sparat i appen"), "{timeline}");
    assert!(
        timeline.contains("Visat i regionens larmvy – Hanna Handläggare"),
        "{timeline}"
    );
    assert!(!timeline.to_lowercase().contains("tvång"), "{timeline}");
    app.screenshot("duress-timeline").await;
    b.quit().await;
    app.quit().await;
}

#[tokio::test]
async fn hide_shows_a_neutral_screen_and_the_lock_keeps_only_the_alarm_and_112() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("lock");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    set_pins(&app).await;
    app.click("[data-tab='plan']").await;

    app.click("#hide-btn").await;
    app.wait_for("#neutral").await;
    // Nothing behind it says Värn: not the window's title, not a tooltip left hanging.
    let start = Instant::now();
    loop {
        let titles = desk.window_titles();
        if titles.iter().any(|t| t == "Klocka") && !titles.iter().any(|t| t.contains("Värn")) {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "window titles while hidden: {titles:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.js("return document.getElementById('hide-btn').title")
            .await,
        ""
    );
    assert_eq!(
        app.js("return getComputedStyle(document.getElementById('view')).visibility")
            .await,
        "hidden"
    );
    app.screenshot("hidden").await;
    app.click("#neutral").await;
    app.wait_for("#lockscreen").await;
    assert_eq!(app.count("#neutral").await, 0);
    let start = Instant::now();
    while !desk.window_titles().iter().any(|t| t == "Värn") {
        assert!(
            start.elapsed() < WAIT,
            "the title came back: {:?}",
            desk.window_titles()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Reports are behind the PIN, in the UI and in Rust.
    app.js("location.hash = '#/reports'").await;
    app.wait_for("#lockscreen").await;
    let refused = app
        .js("return window.__TAURI_INTERNALS__.invoke('incidents').then(() => 'ok', (e) => e.kind)")
        .await;
    assert_eq!(refused, "screen_locked");
    assert_eq!(
        app.js("return getComputedStyle(document.getElementById('tabs')).display")
            .await,
        "none"
    );
    app.screenshot("locked").await;

    // 112 works without the PIN, with the region's script (no dialer here: the number).
    app.click("#sos-112").await;
    app.wait_text("#number-huge", "112").await;
    let script = app.wait_text("#call-script", "Säg vem du är").await;
    assert!(
        script.contains("Jag heter Anna Andersson och är förtroendevald i Region Sörmland"),
        "{script}"
    );
    // The plan's PDV advice belongs to the PDV card, not to every 112 call.
    assert!(!script.contains("prata tyst"), "{script}");
    app.screenshot("call-script").await;
    app.click("#number-close").await;

    // The alarm works without the PIN and its screen shows over the lock.
    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let alarms = server.store.alarms("sormland", 10).await.unwrap();
    assert_eq!(alarms.len(), 1);
    app.click("#alarm-leave").await;
    app.wait_for("#lockscreen").await;

    // The duress PIN opens the lock like the PIN does; a wrong one does not.
    app.fill("#lock-pin", "9999").await;
    app.click("#lock-submit").await;
    app.wait_text("#lock-status", "Fel PIN").await;
    app.fill("#lock-pin", PIN).await;
    app.click("#lock-submit").await;
    app.wait_for("#plan-search").await;
    app.click("[data-tab='reports']").await;
    app.wait_for("#new-incident").await;
    app.quit().await;
}

#[tokio::test]
async fn the_lock_survives_a_restart_and_quitting_behind_it_needs_the_pin() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("restart-lock");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    set_pins(&app).await;
    app.quit().await;

    // The next start is behind the lock: nothing but the alarm, 112 and the PIN.
    let app = desk.launch().await;
    app.wait_for("#lockscreen").await;
    let refused = app
        .js("return window.__TAURI_INTERNALS__.invoke('set_current_place', { place: 'x' }).then(() => 'ok', (e) => e.kind)")
        .await;
    assert_eq!(refused, "screen_locked");
    let refused = app
        .js("return window.__TAURI_INTERNALS__.invoke('unlink', { pin: null }).then(() => 'ok', (e) => e.kind)")
        .await;
    assert_eq!(refused, "screen_locked", "unlinking is behind the lock");
    app.screenshot("locked-after-restart").await;

    // Quitting asks for the PIN; a wrong one leaves the app running.
    app.click("#lock-quit").await;
    app.wait_text("#pin-title", "avsluta Värn").await;
    enter_pin(&app, "0000").await;
    app.wait_text("#pin-status", "Fel PIN").await;
    assert_eq!(desk.app_pids().len(), 1, "still running");
    app.screenshot("quit-needs-pin").await;
    enter_pin(&app, PIN).await;
    let start = Instant::now();
    while !desk.app_pids().is_empty() {
        assert!(start.elapsed() < WAIT, "the app did not quit with the PIN");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn unlinking_needs_the_pin_reaches_the_region_and_is_notified() {
    let server = TestServer::start().await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("unlink");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    let linked = desk.notifications();
    assert!(
        linked
            .iter()
            .any(|n| n.contains("Värn är nu kopplat till Region Sörmland på 127.0.0.1")),
        "{linked:?}"
    );
    set_pins(&app).await;

    // The receipt says where the alarm went.
    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    app.wait_text("#alarm-region-host", "127.0.0.1").await;
    app.screenshot("receipt-host").await;
    app.click("#cancel-alarm").await;
    enter_pin(&app, PIN).await;
    app.wait_text("#alarm-title", "Larmet är avbrutet").await;

    app.click("#settings-btn").await;
    app.wait_text("#link-host", "Dina larm går till 127.0.0.1")
        .await;
    app.click("#unlink").await;
    app.click("#confirm-yes").await;
    app.wait_text("#pin-title", "koppla från").await;
    enter_pin(&app, "0000").await;
    app.wait_text("#pin-status", "Fel PIN").await;
    assert!(server.store.devices(None).await.unwrap()[0]
        .revoked_at
        .is_none());
    enter_pin(&app, PIN).await;
    app.wait_for("#link-form").await;
    app.screenshot("unlinked").await;
    let device = server.store.devices(None).await.unwrap()[0].clone();
    assert_eq!(device.revoked_by, Some(varn_server::store::Revoker::Person));
    let notes = desk.notifications();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("inte längre kopplat till någon region")),
        "{notes:?}"
    );
    let b = Browser::start("unlink-dashboard").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;
    let row = b
        .wait_for(&format!("#device-{}[data-revoked-by='person']", device.id))
        .await;
    let text = row.text().await.unwrap();
    assert!(text.contains("AVKOPPLAD av personen"), "{text}");
    b.screenshot("device-unlinked").await;
    b.quit().await;
    app.quit().await;
}

/// A PIN change with the duress field left empty keeps the duress PIN, and says so once;
/// removing it is its own action, behind the person's own PIN. An unlink with the duress PIN
/// looks exactly like a real one (the settings, the notification, the top bar), while the
/// device stays linked and the region gets a silent alarm, whose escalation mail says not to
/// call the person.
#[tokio::test]
async fn a_pin_change_keeps_the_duress_pin_and_a_duress_unlink_looks_real() {
    const NEW: &str = "3691";
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let server = TestServer::start_with(clock.clone()).await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("duress-pins");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    set_pins(&app).await;

    // The real PIN changed, the duress field empty: the duress PIN stays, and is said to.
    app.fill("#pin-current", PIN).await;
    app.fill("#pin-new", NEW).await;
    app.click("#pin-save").await;
    app.wait_text("#pin-save-status", "PIN sparad. Hot-PIN är kvar som förut.")
        .await;
    app.screenshot("pin-changed").await;
    // Removing it needs the person's own PIN (the duress PIN would only pretend).
    app.click("#pin-remove-duress").await;
    app.wait_text("#pin-title", "Ta bort hot-PIN").await;
    app.click("#pin-cancel").await;

    // Unlinking with the duress PIN: on screen, a real unlink.
    let _ = desk.notifications();
    app.click("#unlink").await;
    app.click("#confirm-yes").await;
    app.wait_text("#pin-title", "koppla från").await;
    enter_pin(&app, DURESS).await;
    app.wait_for("#link-form").await;
    app.wait_text("#conn", "Inte kopplad").await;
    let start = Instant::now();
    let notes = loop {
        let notes = desk.notifications();
        if !notes.is_empty() || start.elapsed() > WAIT {
            break notes;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        notes
            .iter()
            .any(|n| n.contains("inte längre kopplat till någon region")),
        "{notes:?}"
    );
    app.screenshot("duress-unlinked").await;

    // The region: the device is still linked, and the silent alarm is there, under duress.
    let start = Instant::now();
    let alarm = loop {
        let list = server.store.alarms("sormland", 10).await.unwrap();
        if let Some(a) = list.into_iter().find(|a| a.duress_at.is_some()) {
            break a;
        }
        assert!(start.elapsed() < WAIT, "the silent alarm never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let device = server.store.devices(None).await.unwrap()[0].clone();
    assert!(device.revoked_at.is_none(), "not unlinked for real");
    assert_eq!(alarm.status, varn_core::wire::AlarmStatus::Open);
    // Nobody acknowledges: the escalation mail says not to call.
    clock.advance(chrono::Duration::seconds(61));
    let start = Instant::now();
    while server.notifier.sent().is_empty() {
        assert!(start.elapsed() < WAIT, "no escalation");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = &server.notifier.sent()[0];
    assert!(mail.body.contains("RING INTE PERSONEN"), "{}", mail.body);
    assert!(!mail.body.contains("eller ring personen"), "{}", mail.body);

    // After a restart too, the app shows itself unlinked.
    app.quit().await;
    let app = desk.launch().await;
    app.wait_for("#lockscreen").await;
    app.fill("#lock-pin", NEW).await;
    app.click("#lock-submit").await;
    app.wait_for("#plan-search").await;
    app.wait_text("#conn", "Inte kopplad").await;
    app.quit().await;
}
