//! The region server's dashboard in a real browser (headless Chromium): log in, see an alarm
//! arrive live, acknowledge it with one click.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use uuid::Uuid;
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

use crate::harness::{Browser, WAIT};

pub(crate) async fn wait_text(b: &Browser, css: &str, needle: &str) {
    let start = std::time::Instant::now();
    loop {
        if let Ok(el) = b.client.find(Locator::Css(css)).await {
            if el.text().await.map(|t| t.contains(needle)).unwrap_or(false) {
                return;
            }
        }
        assert!(start.elapsed() < WAIT, "{css} never showed {needle:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn officer_sees_a_live_alarm_and_acknowledges_it() {
    let server = TestServer::start().await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let http = reqwest::Client::new();
    let device: serde_json::Value = http
        .post(format!("{}/v1/enroll", server.url()))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = device["token"].as_str().unwrap().to_string();

    let b = Browser::start("dashboard").await;
    b.client
        .goto(&format!("{}/dashboard", server.url()))
        .await
        .unwrap();
    b.wait_for("#username")
        .await
        .send_keys("hanna")
        .await
        .unwrap();
    b.wait_for("#password")
        .await
        .send_keys("fel")
        .await
        .unwrap();
    b.wait_for("#login-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_text(&b, "#login-form .error", "Fel användarnamn eller lösenord").await;
    b.wait_for("#password")
        .await
        .send_keys(OFFICER_PASSWORD)
        .await
        .unwrap();
    b.wait_for("#login-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_text(&b, "#alarm-list", "Inga larm").await;
    wait_text(&b, "#live", "Live").await;

    // An alarm arrives while the officer watches.
    let id = Uuid::now_v7();
    http.put(format!("{}/v1/alarms/{id}", server.url()))
        .bearer_auth(&token)
        .json(&json!({ "triggered_at": chrono::Utc::now(), "meeting": "Fullmäktige", "place": "Stadshuset, Nyköping" }))
        .send()
        .await
        .unwrap();
    let row = format!("#alarm-{id}");
    wait_text(&b, &row, "Anna Andersson").await;
    wait_text(&b, &row, "NYTT LARM").await;
    wait_text(&b, &row, "Stadshuset, Nyköping").await;
    b.screenshot("new-alarm").await;

    b.wait_for(&format!("{row} button[data-ack]"))
        .await
        .click()
        .await
        .unwrap();
    wait_text(&b, &row, "KVITTERAT").await;
    wait_text(&b, &row, "Kvitterat av Hanna Handläggare").await;
    let receipt: serde_json::Value = http
        .get(format!("{}/v1/alarms/{id}", server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(receipt["status"], "acknowledged");
    assert_eq!(receipt["acknowledged_by"], "Hanna Handläggare");
    b.screenshot("acknowledged").await;
    let prompt = b
        .client
        .execute(
            &format!("return document.querySelectorAll('{row} .badge.late').length"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(prompt, 0, "a prompt alarm is not marked late");

    // An alarm pressed 38 s before it arrived: the person's screen has said RING 112 since
    // 15 s, and the officer is told so.
    let late = Uuid::now_v7();
    http.put(format!("{}/v1/alarms/{late}", server.url()))
        .bearer_auth(&token)
        .json(&json!({ "triggered_at": chrono::Utc::now() - chrono::Duration::seconds(38), "place": "Torget" }))
        .send()
        .await
        .unwrap();
    let late_row = format!("#alarm-{late}");
    wait_text(
        &b,
        &late_row,
        "FÖRSENAT 38 s – personen har uppmanats ringa 112",
    )
    .await;
    b.screenshot("late-alarm").await;
    b.quit().await;
    server.stop().await;
}

async fn banner_hidden(b: &Browser) -> serde_json::Value {
    b.client
        .execute(
            "return document.getElementById('sound-banner').hidden",
            vec![],
        )
        .await
        .unwrap()
}

/// The dashboard sounds by default: the login click lets it (under desktop Chrome's own
/// autoplay policy, which headless Chromium leaves off unless asked); where the browser holds sound
/// back (a reload, no click yet) or the officer turned it off, a banner says that new alarms
/// will not be heard until it is on.
#[tokio::test]
async fn the_dashboard_sounds_by_default_and_says_so_until_it_can() {
    let server = TestServer::start().await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let b = Browser::start_with(
        "dashboard-sound",
        &["--autoplay-policy=document-user-activation-required"],
    )
    .await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;
    let start = std::time::Instant::now();
    while banner_hidden(&b).await != json!(true) {
        assert!(
            start.elapsed() < WAIT,
            "the login click did not turn the sound on"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A page opened on a session without a click on it (another window, a restart): the
    // browser holds the sound back, and the page says so.
    let login = reqwest::Client::new()
        .post(format!("{}/dashboard/api/login", server.url()))
        .json(&json!({ "username": "hanna", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    b.quit().await;
    let b = Browser::start_with(
        "dashboard-sound",
        &["--autoplay-policy=document-user-activation-required"],
    )
    .await;
    b.client
        .goto(&format!("{}/dashboard", server.url()))
        .await
        .unwrap();
    b.wait_for("#login-form").await;
    b.client
        .execute(&format!("document.cookie = '{cookie}; path=/'"), vec![])
        .await
        .unwrap();
    b.client
        .goto(&format!("{}/dashboard", server.url()))
        .await
        .unwrap();
    b.wait_for("#alarm-list").await;
    wait_text(&b, "#sound-banner", "Nya larm hörs inte").await;
    b.screenshot("sound-banner").await;
    b.wait_for("#sound-enable").await.click().await.unwrap();
    let start = std::time::Instant::now();
    while banner_hidden(&b).await != json!(true) {
        assert!(
            start.elapsed() < WAIT,
            "the banner stayed after the sound was turned on"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Turned off on purpose: still said, in words.
    b.wait_for("#sound").await.click().await.unwrap();
    wait_text(&b, "#sound-banner", "Ljudet är avstängt").await;
    b.quit().await;
}

/// The alarm centre with a primary that does not answer and a backup that does: the alarm
/// goes through the backup, and the dashboard shows each receiver, the dead one in red.
#[tokio::test]
async fn the_dashboard_shows_each_receiver_of_the_alarm_centre() {
    use varn_server::testkit::sia::{centre_at, Receiver, KEY};
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let backup = Receiver::start(0, Some(KEY), 0);
    let mut c = centre_at(&[dead, backup.port], Some(KEY), Duration::from_secs(60));
    c.timeout = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_centres(
        varn_server::store::Database::Sqlite(dir.path().join("server.db")),
        vec![c],
    )
    .await;
    server.add_officer("hanna", "Hanna Holm", "sormland").await;
    let anna = server.device("Anna Andersson").await;
    server
        .raise(&anna, json!({ "triggered_at": chrono::Utc::now() }))
        .await;
    backup.wait_for(1).await;

    let b = Browser::start("dashboard-receivers").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;
    wait_text(&b, "#centre-receivers", "primär – SVARAR INTE sedan").await;
    wait_text(&b, "#centre-receivers", "reserv 1 – svarar").await;
    wait_text(&b, "#centre-receivers", "larmen skickas hit").await;
    wait_text(&b, "ul.alarms", "Larmcentralen har tagit emot larmet kl").await;
    let active = b
        .wait_for("#centre-receivers li[data-active='true']")
        .await
        .attr("data-receiver")
        .await
        .unwrap();
    assert_eq!(active.as_deref(), Some("reserv 1"));
    b.screenshot("receivers").await;
}
