//! Sync in the real window: reports written while the region server is down wait in the queue
//! (the badge and the list say so), and go out by themselves when it comes back; the list shows
//! "Mottagen" with the time, and a notification says so.

use std::time::{Duration, Instant};

use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::TestServer;

use crate::alarm::enroll;
use crate::harness::{Desktop, WAIT};
use crate::reports::write_report;

#[tokio::test]
async fn queued_reports_go_out_when_the_server_comes_back() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let code = server.enrollment_code("Siv Synk").await;
    let mut desk = Desktop::start("sync");
    let app = desk.launch().await;
    enroll(&app, &proxy.url(), &code).await;

    // The server goes down; two reports are written and marked ready.
    proxy.set(Fault::Refuse);
    for _ in 0..2 {
        write_report(&app).await;
        app.click("#mark-ready").await;
        app.wait_js(
            "return document.getElementById('mark-ready').hidden",
            serde_json::json!(true),
        )
        .await;
    }
    app.click("[data-tab='reports']").await;
    app.wait_text("#sync-badge", "2").await;
    app.wait_text("#sync-count", "2 i kö").await;
    app.wait_text("#sync-panel", "svarar inte").await;
    app.wait_text("#incident-list", "I kö").await;
    app.wait_text("#conn", "Ingen kontakt – sparas lokalt")
        .await;
    app.screenshot("queued").await;
    assert!(server
        .store
        .reports("sormland", 10)
        .await
        .unwrap()
        .is_empty());

    // The server comes back: the reports go without anyone pressing anything.
    proxy.set(Fault::Pass);
    let back = Instant::now();
    let start = Instant::now();
    loop {
        let n = app
            .js("return document.querySelectorAll('#incident-list [data-status=received]').length")
            .await;
        if n == 2 {
            break;
        }
        assert!(
            start.elapsed() < WAIT + Duration::from_secs(20),
            "the reports were not received after the server came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("received {:?} after the server came back", back.elapsed());
    app.wait_text("#incident-list", "Mottagen").await;
    app.wait_text("#sync-panel", "Allt är skickat").await;
    app.wait_js(
        "return document.getElementById('sync-badge') === null",
        serde_json::json!(true),
    )
    .await;
    app.wait_text("#conn", "Kopplad till regionen").await;
    app.screenshot("received").await;
    assert_eq!(server.store.reports("sormland", 10).await.unwrap().len(), 2);
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < WAIT
        && !seen
            .iter()
            .any(|n: &String| n.contains("har kommit fram till regionens server"))
    {
        seen.extend(desk.notifications());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        seen.iter()
            .any(|n| n.contains("2 rapporter har kommit fram till regionens server")),
        "notifications: {seen:?}"
    );
    app.quit().await;
}
