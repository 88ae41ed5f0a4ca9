//! The region's follow-up end to end: a report with the follow-up fields written in the real
//! window and marked ready; the officer (headless Chromium) opens it, takes it with a message
//! and closes it; the app shows each state and the message. The statistics with their charts
//! and a table view; screenshots in `target/e2e/`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::json;
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

use crate::alarm::enroll;
use crate::dashboard::wait_text;
use crate::harness::{Browser, Desktop, WAIT};
use crate::reports::write_report;

const MESSAGE: &str = "Jag ringer dig i morgon förmiddag. /Hanna";

#[tokio::test]
async fn the_officer_takes_and_closes_a_report_and_the_person_sees_it() {
    let server = TestServer::start().await;
    server.add_officer("hanna", "Hanna Holm", "sormland").await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("followup");
    // A debug build's sync asks for follow-ups every half second instead of every 30 s.
    desk.env
        .push(("VARN_DEV_SYNC_TICK_MS".into(), "500".into()));
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;

    write_report(&app).await;
    app.open_section("inc-followup-fields").await;
    app.js(
        "for (const [id, v] of [['inc-repeated', 'yes'], ['inc-perpetrator', 'unknown_person']]) {
           const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change'));
         }",
    )
    .await;
    app.click("label[for='inc-cons-fear']").await;
    app.wait_js("return document.getElementById('save-status').textContent.includes('Sparat') && !document.getElementById('save-status').textContent.includes('sparas')", json!(true)).await;
    app.screenshot("fields").await;
    app.click("#mark-ready").await;

    // The server holds the fields as written.
    let start = Instant::now();
    let report = loop {
        let list = server.store.reports("sormland", 10).await.unwrap();
        if let Some(r) = list.into_iter().next() {
            break r;
        }
        assert!(
            start.elapsed() < WAIT,
            "the report never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let b = &report.body;
    assert_eq!(b["event"], "threat_harassment");
    assert_eq!(b["channel"], "in_person");
    assert_eq!(b["repeated"], true);
    assert_eq!(b["perpetrator"], "unknown_person");
    assert_eq!(b["consequences"], json!(["fear"]));
    let id = report.id;

    // The officer opens it, takes it with a message.
    let browser = Browser::start("followup-dashboard").await;
    browser
        .log_in(&server.url(), "hanna", OFFICER_PASSWORD)
        .await;
    wait_text(&browser, &format!("#report-{id}"), "NY").await;
    browser
        .wait_for(&format!("#report-{id} summary"))
        .await
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    browser.screenshot("opened").await;
    wait_text(
        &browser,
        &format!("#report-{id}"),
        "annan enskild person som jag inte känner",
    )
    .await;
    browser
        .wait_for(&format!("#fu-message-{id}"))
        .await
        .send_keys(MESSAGE)
        .await
        .unwrap();
    browser
        .wait_for(&format!("#fu-take-{id}"))
        .await
        .click()
        .await
        .unwrap();
    wait_text(&browser, &format!("#report-{id}"), "UNDER UPPFÖLJNING").await;
    wait_text(&browser, &format!("#audit-{id}"), "hanna läste rapporten").await;
    browser.screenshot("taken").await;

    // The app shows it was taken, by whom, and the message.
    app.click("[data-tab='reports']").await;
    app.wait_text("#incident-list", "Regionen har börjat följa upp rapporten")
        .await;
    app.wait_text("#incident-list", "Hanna Holm").await;
    app.wait_text("#incident-list", MESSAGE).await;
    app.screenshot("taken").await;

    // The officer closes it with a note for the region.
    browser
        .wait_for(&format!("#fu-note-{id}"))
        .await
        .send_keys("Samtal hållet.")
        .await
        .unwrap();
    browser
        .wait_for(&format!("#fu-close-{id}"))
        .await
        .click()
        .await
        .unwrap();
    wait_text(&browser, &format!("#report-{id}"), "AVSLUTAD").await;
    wait_text(
        &browser,
        &format!("#report-{id} .report-timeline"),
        "avslutad – Hanna Holm: Samtal hållet.",
    )
    .await;

    app.wait_text("#incident-list", "Uppföljningen är avslutad")
        .await;
    app.click("#incident-list a").await;
    app.wait_text("#incident-followup", MESSAGE).await;
    let page = app.js("return document.body.innerText").await;
    assert!(
        !page.as_str().unwrap_or("").contains("Samtal hållet"),
        "the region's note stays with the region"
    );
    app.screenshot("closed").await;

    // Closed reports removed 30 days after closing: this one was closed just now and stays.
    app.click("#settings-btn").await;
    app.js("const s = document.getElementById('closed-reports-days'); s.value = '30'; s.dispatchEvent(new Event('change'))").await;
    app.wait_text("#closed-reports", "Sparat").await;
    app.click("[data-tab='reports']").await;
    app.wait_text("#incident-list", "Uppföljningen är avslutad")
        .await;

    // The statistics: one report, hidden ("dold"), over whole months; a chart turns into a
    // table.
    browser
        .client
        .execute(
            "document.getElementById('statistics').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    wait_text(&browser, "#stat-reports", "dold").await;
    wait_text(&browser, "#stats-note", "Hela månader").await;
    let kind = browser
        .client
        .execute("return document.getElementById('stats-from').type", vec![])
        .await
        .unwrap();
    assert_eq!(kind, "month", "the period is chosen in whole months");
    wait_text(&browser, "#stats-event-chart", "Hot och trakasserier").await;
    browser.screenshot("statistics").await;
    browser
        .wait_for("#stats-event-chart .table-toggle")
        .await
        .click()
        .await
        .unwrap();
    let table = browser
        .client
        .find(Locator::Css("#stats-event-chart-table"))
        .await
        .unwrap();
    assert!(table.is_displayed().await.unwrap());
    assert!(table.text().await.unwrap().contains("dold"));
    browser.screenshot("statistics-table").await;
    // No figure reads "null" (or undefined, NaN): a missing one is a dash.
    let page = browser
        .client
        .execute(
            "return document.getElementById('statistics').innerText",
            vec![],
        )
        .await
        .unwrap();
    let page = page.as_str().unwrap_or_default().to_string();
    for bad in ["null", "undefined", "NaN"] {
        assert!(!page.contains(bad), "{bad} on the statistics page:\n{page}");
    }
    // The CSV the page links to, fetched as the officer's browser does: it opens in columns
    // in Swedish Excel (a byte-order mark, `;` between the fields).
    let csv = browser
        .client
        .execute_async(
            "const done = arguments[0];
             fetch(document.getElementById('stats-csv').href).then(r => r.arrayBuffer())
               .then(b => done(Array.from(new Uint8Array(b))));",
            vec![],
        )
        .await
        .unwrap();
    let bytes: Vec<u8> = serde_json::from_value(csv).unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "a UTF-8 byte-order mark");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("section;key;label;value\n"), "{text}");
    assert!(
        text.contains("event;threat_harassment;Hot och trakasserier;dold"),
        "{text}"
    );
    browser.quit().await;
    app.quit().await;
}
