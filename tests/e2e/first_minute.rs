//! The first minute and the worst minute: the guide at the first start; whether Värn can
//! protect, on the home view and on the LARM button (not linked, no drill yet, protected, the
//! region not answering); the hold that counts down and a short press that says how.

use std::sync::Arc;
use std::time::{Duration, Instant};

use varn_core::profile::Profile;
use varn_server::clock::SystemClock;
use varn_server::testkit::{signed_for_tests, TestServer};

use crate::harness::{App, Desktop, WAIT};

/// A server whose region acknowledges drills itself (no staffed dashboard in these tests).
async fn drilling_server(dir: &tempfile::TempDir) -> TestServer {
    let mut profile = Profile::embedded_default().unwrap();
    profile.alarm.drill_auto_ack = true;
    TestServer::start_serving(
        dir.path().join("server.db"),
        Arc::new(SystemClock),
        None,
        vec![signed_for_tests(&profile)],
    )
    .await
}

/// Waits until the home view's protection block is in `state`; returns its text.
async fn protection(app: &App, state: &str) -> String {
    let css = format!("#protection[data-state='{state}']");
    let start = Instant::now();
    while app.count(&css).await == 0 {
        assert!(
            start.elapsed() < WAIT * 2,
            "protection never became {state}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.wait_text(&css, "").await
}

#[tokio::test]
async fn the_first_start_guides_through_language_link_and_drill_and_ends_on_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let server = drilling_server(&dir).await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("first-run");
    desk.keep_welcome = true;
    let app = desk.launch().await;
    app.wait_text("#welcome h2", "Välkommen till Värn").await;
    app.screenshot("guide-language").await;
    // English, and back to Swedish: the guide follows at once.
    app.click("#welcome-lang-en").await;
    app.wait_text("#welcome h2", "Welcome to Värn").await;
    app.click("#welcome-lang-sv").await;
    app.wait_text("#welcome h2", "Välkommen till Värn").await;
    app.click("#welcome-next").await;
    // Link (the settings' own form, inside the guide).
    app.wait_text("#welcome h2", "Koppla till regionen").await;
    app.fill("#server-url", &server.url()).await;
    // A wrong code: what to do, in Swedish, in the error colour, no server English.
    app.fill("#enroll-code", "ABCD-EFGH").await;
    app.click("#link-submit").await;
    let said = app
        .wait_text("#enroll-error", "Regionens server godtog inte koden")
        .await;
    assert!(said.contains("be säkerhetshandläggaren om en ny"), "{said}");
    for english in ["code", "invalid", "expired", "enrollment", "not found"] {
        assert!(!said.to_lowercase().contains(english), "{said}");
    }
    let colour = app
        .js("return getComputedStyle(document.getElementById('enroll-error')).color")
        .await;
    assert_eq!(colour, "rgb(179, 18, 29)", "the error colour (--red)");
    app.screenshot("guide-wrong-code").await;
    app.fill("#enroll-code", &code).await;
    app.click("#link-submit").await;
    app.wait_text("#link-info", "Kopplad som").await;
    app.wait_text("#link-info", "Region Sörmland").await;
    app.screenshot("guide-linked").await;
    app.click("#welcome-next").await;
    // The PIN: later.
    app.wait_text("#welcome h2", "Välj en PIN").await;
    app.wait_for("#pin-form").await;
    app.click("#welcome-later").await;
    // The drill goes the whole way and the plan then says Värn protects.
    app.wait_text("#welcome h2", "Gör ett testlarm").await;
    app.click("#welcome-drill").await;
    app.wait_text("#alarm-title", "KVITTERAT").await;
    app.click("#alarm-leave").await;
    let text = protection(&app, "protected").await;
    assert!(text.contains("Larmet fungerar"), "{text}");
    assert_eq!(app.count("#welcome").await, 0);
    app.screenshot("guide-done").await;
    app.quit().await;
    // Not again.
    let app = desk.launch().await;
    protection(&app, "protected").await;
    assert_eq!(app.count("#welcome").await, 0, "the guide is shown once");
    app.quit().await;
}

#[tokio::test]
async fn the_app_says_when_it_cannot_protect_on_the_home_view_and_on_the_larm_button() {
    let mut desk = Desktop::start("protection");
    let app = desk.launch().await;
    // Not linked: impossible to miss, and the button says it too.
    let text = protection(&app, "unprotected").await;
    assert!(
        text.contains("Larmet går ingenstans – Värn är inte kopplat"),
        "{text}"
    );
    app.wait_text("#panic-hint", "Går ingenstans – ring 112")
        .await;
    app.wait_attr("#panic", "data-protection", "unprotected")
        .await;
    app.screenshot("unprotected").await;

    // A short press raises nothing and says how.
    app.hold("#panic", Duration::from_millis(200)).await;
    app.wait_text("#panic-hint", "Håll in för att larma").await;
    assert_eq!(app.count("#alarm-title").await, 0, "no alarm from a tap");
    app.screenshot("short-press").await;

    // Held: the button counts down in its hint, then the alarm screen says it went nowhere.
    app.js(
        "window.__hints = []; const el = document.getElementById('panic-hint');
         new MutationObserver(() => window.__hints.push(el.textContent))
           .observe(el, { childList: true, characterData: true, subtree: true });",
    )
    .await;
    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_text("#alarm-detail", "inte kopplat").await;
    let hints: Vec<String> =
        serde_json::from_value(app.js("return window.__hints ?? []").await).unwrap();
    assert!(
        hints.iter().any(|h| h.contains("Håll kvar … 1,")),
        "the countdown was shown: {hints:?}"
    );
    assert!(
        hints.iter().any(|h| h.contains("Håll kvar … 0,")),
        "down to under a second: {hints:?}"
    );
    // Cancelled, it ends here (the region never had it): no "cancelling" for ever.
    app.click("#cancel-alarm").await;
    app.click("#confirm-yes").await;
    app.wait_text("#alarm-detail", "nådde aldrig regionen")
        .await;
    app.screenshot("cancel-unlinked").await;
    app.click("#alarm-leave").await;
    app.wait_for("#protection").await;
    assert_eq!(
        app.js("return document.getElementById('alarm-banner').hidden")
            .await,
        serde_json::json!(true),
        "no alarm bar left behind"
    );

    // The connection pill opens where the link is made.
    app.click("#conn").await;
    app.wait_for("#link-form").await;

    // Linked, no drill yet: limited, with the drill one tap away.
    let dir = tempfile::tempdir().unwrap();
    let server = drilling_server(&dir).await;
    let code = server.enrollment_code("Anna Andersson").await;
    crate::alarm::enroll(&app, &server.url(), &code).await;
    let text = protection(&app, "limited").await;
    assert!(text.contains("gör ett testlarm"), "{text}");
    app.wait_text("#panic-hint", "Testlarm saknas").await;
    app.screenshot("drill-due").await;

    // The drill, one tap from the home view, makes it whole.
    app.click("#protection-action").await;
    app.wait_text("#alarm-title", "KVITTERAT").await;
    app.click("#alarm-leave").await;
    protection(&app, "protected").await;
    app.wait_text("#panic-hint", "Håll in 1,5 s").await;
    app.screenshot("protected").await;
    app.quit().await;

    // The region stops answering: limited, and the button says so.
    server.stop().await;
    let app = desk.launch().await;
    let text = protection(&app, "limited").await;
    assert!(text.contains("regionen svarar inte"), "{text}");
    app.wait_text("#panic-hint", "Regionen svarar inte").await;
    app.screenshot("not-answering").await;
    app.quit().await;
}

/// One notification per alarm: "sent" becomes "received" in place (one on the desktop, not
/// two), and the cancel withdraws it; what the history keeps is the last state only.
#[tokio::test]
async fn an_alarms_notification_is_replaced_at_every_change_and_withdrawn_when_it_ends() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("notices");
    let app = desk.launch().await;
    crate::alarm::enroll(&app, &server.url(), &code).await;
    // The person chose notifications that say what happened (discreet by default: see
    // alarm.rs).
    app.click("#settings-btn").await;
    app.click("#alarm-notification-text").await;
    app.wait_text("#discretion", "Sparat").await;
    app.click("[data-tab='plan']").await;
    // The link's own notice out of the way first.
    let _ = desk.notifications();
    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_text("#alarm-title", "MOTTAGET").await;
    // Give the daemon the update (it follows the receipt within milliseconds).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        desk.displayed_notifications(),
        1,
        "one notification for the alarm"
    );
    app.click("#cancel-alarm").await;
    app.click("#confirm-yes").await;
    app.wait_text("#alarm-title", "avbrutet").await;
    let start = Instant::now();
    while desk.displayed_notifications() != 0 {
        assert!(start.elapsed() < WAIT, "the notification was not withdrawn");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let history = desk.notifications();
    assert!(
        history
            .iter()
            .any(|n| n.contains("Regionens server har tagit emot larmet")),
        "{history:?}"
    );
    assert!(
        !history
            .iter()
            .any(|n| n.contains("skickas till regionens server")),
        "the first state was replaced, not kept: {history:?}"
    );
    app.quit().await;
}

/// Dates and times in Swedish: ÅÅÅÅ-MM-DD and a 24-hour TT:MM, tidied when typed short, a
/// wrong date said in words, and a calendar in the page (weeks from Monday, with their ISO
/// numbers); in English the same in English.
#[tokio::test]
async fn dates_and_times_are_swedish_with_a_monday_first_calendar() {
    let mut desk = Desktop::start("dates");
    let app = desk.launch().await;
    app.click("[data-tab='meeting']").await;
    // No appearances yet: the form is open.
    app.fill("#appearance-start-date", "20261229").await;
    app.fill("#appearance-start-time", "1830").await;
    app.click("#appearance-title").await; // leaves the time field
    assert_eq!(
        app.js("return document.getElementById('appearance-start').value")
            .await,
        serde_json::json!("2026-12-29T18:30")
    );
    assert_eq!(
        app.js("return document.getElementById('appearance-start-date').value")
            .await,
        serde_json::json!("2026-12-29")
    );
    app.fill("#appearance-end-date", "2026-02-30").await;
    app.wait_text("#appearance-end-error", "ÅÅÅÅ-MM-DD").await;
    // The calendar opens in the page: December 2026, Monday first, week 53 at the end.
    app.click("#appearance-start-cal").await;
    app.wait_text("#appearance-start-calendar .cal-title", "December 2026")
        .await;
    let heads = app
        .js("return [...document.querySelectorAll('#appearance-start-calendar thead th')].map(e => e.textContent)")
        .await;
    assert_eq!(heads[0], serde_json::json!("V."));
    assert!(heads[1].as_str().unwrap().starts_with("mån"), "{heads}");
    assert!(heads[7].as_str().unwrap().starts_with("sön"), "{heads}");
    let weeks = app
        .js("return [...document.querySelectorAll('#appearance-start-calendar tbody th')].map(e => e.textContent)")
        .await;
    assert_eq!(weeks[0], serde_json::json!("49"), "{weeks}");
    assert!(
        weeks.as_array().unwrap().contains(&serde_json::json!("53")),
        "{weeks}"
    );
    assert_eq!(
        app.js("return getComputedStyle(document.getElementById('appearance-start-calendar')).position").await,
        serde_json::json!("static"),
        "in the page's flow, not floating over it"
    );
    app.screenshot("calendar-sv").await;
    app.click("#appearance-start-calendar button[data-date='2026-12-31']")
        .await;
    assert_eq!(
        app.js("return document.getElementById('appearance-start').value")
            .await,
        serde_json::json!("2026-12-31T18:30")
    );
    // English.
    app.click("#settings-btn").await;
    app.click("#lang-en").await;
    app.click("[data-tab='meeting']").await;
    app.wait_for("#appearance-start-date[placeholder='YYYY-MM-DD']")
        .await;
    app.click("#appearance-start-cal").await;
    let heads = app
        .js("return [...document.querySelectorAll('#appearance-start-calendar thead th')].map(e => e.textContent)")
        .await;
    assert_eq!(heads[1], serde_json::json!("Mon"), "{heads}");
    app.screenshot("calendar-en").await;
    app.quit().await;
}

/// The checks a layout must pass wherever it is: nothing wider than the window, the top
/// bar's buttons inside it, no text under 14 px, no control under 48 px.
async fn layout_problems(app: &App) -> Vec<String> {
    let v = app
        .js(
            "const out = [];
             let controls = 0;
             const W = window.innerWidth;
             if (document.documentElement.scrollWidth > W + 1) out.push('wider than the window: ' + document.documentElement.scrollWidth);
             for (const id of ['settings-btn', 'hide-btn', 'conn', 'sos-112', 'panic']) {
               const r = document.getElementById(id).getBoundingClientRect();
               if (r.right > W + 1 || r.left < -1) out.push(id + ' cut off');
             }
             for (const el of document.querySelectorAll('body *')) {
               const r = el.getBoundingClientRect();
               if (r.width === 0 || r.height === 0) continue;
               const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
               const fs = parseFloat(getComputedStyle(el).fontSize);
               if (own && fs < 14) out.push('text ' + fs + 'px: ' + el.textContent.trim().slice(0, 30));
               if (!el.matches('button, input:not([type=radio]):not([type=checkbox]), select, a.btn')) continue;
               controls += 1;
               if (r.height < 47.5) out.push('control ' + Math.round(r.height) + 'px: ' + (el.id || el.textContent.trim().slice(0, 30)));
             }
             if (controls < 8) out.push('only ' + controls + ' controls seen');
             return out;",
        )
        .await;
    serde_json::from_value(v).unwrap()
}

/// A 1366×768 laptop: the window opens inside the screen; at 340 px wide nothing is cut
/// off and *Ring 112* stays on one line; at 1280 px the cards stand beside the plan.
#[tokio::test]
async fn the_window_fits_a_laptop_and_works_from_340_to_1280_px_wide() {
    let mut desk = Desktop::start_on_screen("layout", "1366x768");
    let app = desk.launch().await;
    let height = app.js("return window.outerHeight").await.as_f64().unwrap();
    assert!(
        height <= 768.0 * 0.9,
        "the window is {height} px high on a 768 px screen"
    );
    let problems = layout_problems(&app).await;
    assert!(problems.is_empty(), "at the start: {problems:?}");

    app.client.set_window_size(340, 680).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.js("return window.innerWidth").await,
        serde_json::json!(340)
    );
    let problems = layout_problems(&app).await;
    assert!(problems.is_empty(), "at 340 px: {problems:?}");
    let lines = app
        .js("const b = document.getElementById('sos-112'); const s = b.querySelector('span');
             return Math.round(s.getBoundingClientRect().height / parseFloat(getComputedStyle(s).lineHeight))")
        .await;
    assert_eq!(lines, serde_json::json!(1), "Ring 112 on one line");
    app.screenshot("340").await;
    app.click("[data-tab='meeting']").await;
    let problems = layout_problems(&app).await;
    assert!(problems.is_empty(), "Inför möte at 340 px: {problems:?}");
    app.click("#settings-btn").await;
    let problems = layout_problems(&app).await;
    assert!(problems.is_empty(), "Inställningar at 340 px: {problems:?}");
    app.screenshot("340-settings").await;

    app.client.set_window_size(1280, 700).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    app.click("[data-tab='plan']").await;
    let columns = app
        .js("return getComputedStyle(document.querySelector('.plan-body')).gridTemplateColumns.split(' ').length")
        .await;
    assert_eq!(columns, serde_json::json!(2), "the cards beside the plan");
    let problems = layout_problems(&app).await;
    assert!(problems.is_empty(), "at 1280 px: {problems:?}");
    app.screenshot("1280").await;
    app.quit().await;
}
