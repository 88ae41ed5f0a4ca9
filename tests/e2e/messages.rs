//! The silent conversation in the real window with the dashboard in Chromium: the person's
//! instructions reach the officer with the alarm; the officer's quick text shows on the alarm
//! screen within a second or so; the person's one-tap answer reaches the dashboard; both
//! timelines hold the exchange in order; the region's alarm centre (pysiaalarm) confirms the
//! alarm on the alarm screen and the dashboard. Screenshots `messages-*.png` in `target/e2e/`.

use std::time::{Duration, Instant};

use varn_server::store::Database;
use varn_server::testkit::sia::{centre, Receiver, KEY};
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

use crate::alarm::{enroll, wait_alarms, HOLD};
use crate::dashboard::wait_text;
use crate::harness::{Browser, Desktop};

#[tokio::test]
async fn the_officer_and_the_person_write_silently_during_an_alarm() {
    // The region has a 24/7 alarm centre too: pysiaalarm as its receiver.
    let rx = Receiver::start(0, Some(KEY), 0);
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_centres(
        Database::Sqlite(dir.path().join("server.db")),
        vec![centre(rx.port, Some(KEY), Duration::from_secs(60))],
    )
    .await;
    server.add_officer("hanna", "Hanna Holm", "sormland").await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("messages");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;

    // What responders should know, sent from Inställningar.
    app.click("#settings-btn").await;
    app.fill("#instructions", "Ring inte tillbaka. Kodord: blåbär.")
        .await;
    app.click("#instructions-form button[type=submit]").await;
    app.wait_text("#instructions-form", "Sparat hos regionen")
        .await;
    // A number the region may ring: without it, "Ring mig" is not offered (below).
    app.fill("#callback-number", "abc").await;
    app.click("#callback-form button[type=submit]").await;
    app.wait_text("#callback-status", "bara siffror").await;
    app.click("[data-tab='plan']").await;

    let b = Browser::start("messages-dashboard").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let id = wait_alarms(&server, 1).await[0].id;
    let row = format!("#alarm-{id}");
    wait_text(&b, &row, "Ring inte tillbaka. Kodord: blåbär.").await;
    // The alarm centre has it: on the alarm screen and on the dashboard.
    rx.wait_for(1).await;
    app.wait_text("#alarm-centre", "har tagit emot larmet kl")
        .await;
    wait_text(&b, &row, "Larmcentralen har tagit emot larmet kl").await;
    // Nothing to write on until the region has it; now the answers are there — but no
    // "Ring mig" without a number to ring.
    app.wait_for("#quick-cannot_talk").await;
    assert_eq!(app.count("#quick-call_me").await, 0);

    // The officer asks with a quick text; the alarm screen shows it.
    let asked = Instant::now();
    b.wait_for(&format!("{row} button[data-quick='can_you_talk']"))
        .await
        .click()
        .await
        .unwrap();
    app.wait_text("#alarm-messages", "Kan du prata? Svara med text")
        .await;
    eprintln!("officer → alarm screen: {:?}", asked.elapsed());
    app.wait_text("#alarm-messages", "Hanna Holm").await;
    app.screenshot("asked").await;
    // On the desktop only that there is news, never the officer's words.
    let start = Instant::now();
    let notes = loop {
        let notes = desk.notifications();
        if notes.iter().any(|n| n == "Nytt besked i Värn")
            || start.elapsed() > Duration::from_secs(10)
        {
            break notes;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(notes.iter().any(|n| n == "Nytt besked i Värn"), "{notes:?}");
    assert!(
        !notes.iter().any(|n| n.contains("Kan du prata")),
        "{notes:?}"
    );

    // The person answers in one tap; the dashboard shows it.
    let answered = Instant::now();
    app.click("#quick-cannot_talk").await;
    wait_text(&b, &format!("#messages-{id}"), "Jag kan inte prata").await;
    eprintln!("alarm screen → dashboard: {:?}", answered.elapsed());
    app.wait_js(
        "return [...document.querySelectorAll('#alarm-messages li')].map(l => l.dataset.from + (l.classList.contains('sending') ? '…' : '')).join(',')",
        serde_json::json!("officer,person"),
    )
    .await;
    // Free text too.
    app.fill("#alarm-msg-field", "Jag är i källaren under scenen")
        .await;
    app.click("#alarm-msg-send").await;
    wait_text(
        &b,
        &format!("#messages-{id}"),
        "Jag är i källaren under scenen",
    )
    .await;
    b.screenshot("conversation").await;
    app.screenshot("answered").await;

    // With a number given in Inställningar, "Ring mig" carries it to the officer.
    app.click("#alarm-leave").await;
    app.click("#settings-btn").await;
    app.fill("#callback-number", "070-123 45 67").await;
    app.click("#callback-form button[type=submit]").await;
    app.wait_text("#callback-status", "Sparat").await;
    app.click("#alarm-banner").await;
    app.click("#quick-call_me").await;
    wait_text(&b, &format!("#messages-{id}"), "Ring mig: 070-123 45 67").await;
    b.screenshot("call-me").await;

    // Both timelines hold the exchange, in order.
    app.click("#alarm-timeline-btn").await;
    app.wait_text("#alarm-timeline", "Ditt meddelande").await;
    let shown = app
        .js("return [...document.querySelectorAll('#alarm-timeline li')].map(l => l.dataset.kind).filter(k => k.startsWith('message_')).join(',')")
        .await;
    assert_eq!(
        shown,
        "message_to_person,message_from_person,message_from_person,message_from_person"
    );
    b.wait_for(&format!("{row} .show-timeline"))
        .await
        .click()
        .await
        .unwrap();
    wait_text(
        &b,
        &format!("{row} .timeline"),
        "meddelande från personen – Anna Andersson: Jag kan inte prata",
    )
    .await;
    wait_text(
        &b,
        &format!("{row} .timeline"),
        "meddelande till personen – Hanna Holm: Kan du prata?",
    )
    .await;
    b.screenshot("timeline").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.quit().await;
    app.quit().await;
}
