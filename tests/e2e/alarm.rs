//! The panic path in the real window against the real region server: hold the button, the
//! alarm reaches the dashboard, an officer acknowledges, the app shows it — and the same
//! through a network that fails in every way the fault proxy knows.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use varn_core::wire::AlarmStatus;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

use crate::harness::{files_under, App, Browser, Desktop, KeyStep, WAIT};

/// Longer than the 1.5 s the button needs.
pub(crate) const HOLD: Duration = Duration::from_millis(1900);

/// Links the app to the server at `url` through the settings screen.
pub(crate) async fn enroll(app: &App, url: &str, code: &str) {
    app.click("#settings-btn").await;
    app.fill("#server-url", url).await;
    app.fill("#enroll-code", code).await;
    app.click("#link-submit").await;
    app.wait_text("#link-info", "Kopplad som").await;
    app.wait_text("#conn", "Kopplad till regionen").await;
    app.click("[data-tab='plan']").await;
}

async fn alarms(server: &TestServer) -> Vec<varn_server::store::Alarm> {
    server
        .store
        .alarms("sormland", 100)
        .await
        .expect("list alarms")
}

/// Waits until the server holds `n` alarms.
pub(crate) async fn wait_alarms(server: &TestServer, n: usize) -> Vec<varn_server::store::Alarm> {
    let start = Instant::now();
    loop {
        let list = alarms(server).await;
        if list.len() == n {
            return list;
        }
        assert!(list.len() < n, "more alarms than expected: {}", list.len());
        assert!(start.elapsed() < WAIT, "the server never held {n} alarm(s)");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn holding_the_button_raises_an_alarm_that_an_officer_acknowledges() {
    let server = TestServer::start().await;
    server
        .add_officer("hanna", "Hanna Handläggare", "sormland")
        .await;
    let code = server.enrollment_code("Anna Andersson").await;
    let mut desk = Desktop::start("alarm");
    let app = desk.launch().await;
    // A risk inventory for an appearance now: its meeting and place go with the alarm.
    app.click("[data-tab='meeting']").await;
    app.open_section("meeting-inventories").await;
    app.click("#new-inventory").await;
    app.fill("#inv-what", "Torgmöte om vården").await;
    app.fill("#inv-where", "Stora torget, Nyköping").await;
    app.wait_text("#save-status", "Sparat").await;
    enroll(&app, &server.url(), &code).await;

    // The token is in the keychain, and nowhere in the data directory.
    let key = format!("device-token:{}", token_key_suffix(desk.data_dir.path()));
    let token = desk
        .keychain_lookup(&key)
        .expect("the device token is in the keychain");
    assert!(token.len() >= 43);
    for entry in files_under(desk.data_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token in {}",
            entry.display()
        );
    }

    // The officer watches the dashboard in a real browser.
    let b = Browser::start("alarm-dashboard").await;
    b.log_in(&server.url(), "hanna", OFFICER_PASSWORD).await;

    // Letting go early sends nothing.
    app.hold("#panic", Duration::from_millis(600)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        alarms(&server).await.is_empty(),
        "a short press raised an alarm"
    );
    app.wait_for("#plan-search").await;

    // Holding raises it.
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let list = wait_alarms(&server, 1).await;
    assert_eq!(list[0].who, "Anna Andersson");
    assert_eq!(list[0].meeting, "Torgmöte om vården");
    assert_eq!(list[0].place, "Stora torget, Nyköping");
    let row = format!("#alarm-{}", list[0].id);
    let ack = b.wait_for(&format!("{row} button[data-ack]")).await;
    b.screenshot("alarm-arrived").await;
    app.screenshot("received").await;
    ack.click().await.unwrap();
    app.wait_text("#alarm-title", "KVITTERAT av Hanna Handläggare")
        .await;
    app.screenshot("acknowledged").await;
    b.quit().await;

    // The alarm screen can be left; the bar brings it back.
    app.click("#alarm-leave").await;
    app.wait_text("#alarm-banner", "Larmet är kvitterat").await;
    app.click("#alarm-banner-link").await;
    app.wait_text("#alarm-title", "KVITTERAT").await;
    app.quit().await;
    assert_eq!(alarms(&server).await.len(), 1);
}

/// The suffix of the keychain entry: the app's `device_token_key` for this data directory.
fn token_key_suffix(dir: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    hex::encode(&digest[..12])
}

/// An officer acknowledges through the dashboard's API (as the page does).
async fn acknowledge(server: &TestServer, id: impl std::fmt::Display) {
    server.add_officer("olof", "Olof Officer", "sormland").await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    c.post(format!("{}/dashboard/api/login", server.url()))
        .json(&json!({ "username": "olof", "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    let res = c
        .post(format!("{}/dashboard/api/alarms/{id}/ack", server.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
}

#[tokio::test]
async fn the_global_shortcut_raises_the_alarm_and_its_notification_follows_it() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Gun Gran").await;
    let mut desk = Desktop::start("alarm-shortcut");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    app.click("[data-tab='contacts']").await;
    // From anywhere: the default shortcut.
    desk.press_keys("ctrl+alt+shift+l");
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let list = wait_alarms(&server, 1).await;
    acknowledge(&server, list[0].id).await;
    app.wait_text("#alarm-title", "KVITTERAT av Olof Officer")
        .await;
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < WAIT {
        seen.extend(desk.notifications());
        if seen.iter().any(|n| n == "Nytt besked i Värn") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The alarm's one notification follows it, discreetly: it says there is news, not who
    // acknowledged it (first_minute.rs turns the text on and reads it).
    assert!(
        seen.iter().any(|n| n == "Nytt besked i Värn"),
        "notifications: {seen:?}"
    );
    assert!(
        !seen.iter().any(|n| n.contains("Olof Officer")),
        "notifications: {seen:?}"
    );

    // The shortcut can be changed; a one-modifier shortcut is refused.
    app.click("#settings-btn").await;
    app.fill("#alarm-shortcut", "Ctrl+L").await;
    app.click("#shortcut-form button[type=submit]").await;
    app.wait_text("#shortcut-form", "minst två").await;
    app.fill("#alarm-shortcut", "Ctrl+Alt+K").await;
    app.click("#shortcut-form button[type=submit]").await;
    app.wait_text("#shortcut-form", "Sparat: Ctrl+Alt+K").await;
    desk.press_keys("ctrl+alt+k");
    wait_alarms(&server, 2).await;
    app.quit().await;
}

#[tokio::test]
async fn a_second_start_brings_the_first_instance_forward() {
    let mut desk = Desktop::start("single-instance");
    let app = desk.launch().await;
    let other = tempfile::tempdir().unwrap();
    let mut second = desk
        .command(env!("CARGO_BIN_EXE_varn"))
        .arg("--data-dir")
        .arg(other.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > WAIT {
            let _ = second.kill();
            panic!("the second instance kept running");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success());
    // The first one is still there and answers.
    app.click("[data-tab='contacts']").await;
    app.wait_text("#view h2", "Kontakter & larm").await;
    app.quit().await;
}

/// The region's server is down (connections refused): the app knows at its first try, and
/// the screen says RING 112 at once instead of a spinner for 15 s; it keeps sending, and the
/// alarm arrives once when the server is back.
#[tokio::test]
async fn a_link_known_to_be_down_says_ring_112_at_once_and_the_alarm_arrives_once_later() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let code = server.enrollment_code("Bo Berg").await;
    let mut desk = Desktop::start("alarm-down");
    let app = desk.launch().await;
    enroll(&app, &proxy.url(), &code).await;

    proxy.set(Fault::Refuse);
    app.hold("#panic", HOLD).await;
    let pressed = Instant::now();
    app.wait_text("#alarm-title", "LARMET ÄR INTE BEKRÄFTAT – RING 112")
        .await;
    let shown = pressed.elapsed();
    assert!(
        shown <= Duration::from_secs(5),
        "RING 112 only after {shown:?}, with the link known to be down"
    );
    app.wait_for("#alarm-call-112.largest").await;
    app.wait_text("#conn", "Ingen kontakt – sparas lokalt")
        .await;
    app.screenshot("unconfirmed").await;
    assert!(alarms(&server).await.is_empty());

    // The server comes back: the alarm arrives, once, and the screen says so.
    proxy.set(Fault::Pass);
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    wait_alarms(&server, 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(alarms(&server).await.len(), 1);
    app.quit().await;
}

/// The keyboard's way: Tab reaches the skip link first, Enter puts focus on LARM, holding
/// Space raises the alarm — three keys. Focus then lands on the alarm's heading.
#[tokio::test]
async fn the_keyboard_reaches_larm_in_three_keys_and_lands_on_the_alarm() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Kim Knapp").await;
    let mut desk = Desktop::start("alarm-keyboard");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    app.click("[data-tab='plan']").await;
    app.js("document.activeElement?.blur(); document.body.focus(); return true")
        .await;
    // The three keys: Tab, Enter, Space held.
    app.keys(&[KeyStep::Press(TAB)]).await;
    app.wait_js(
        "return document.activeElement?.id",
        serde_json::json!("skip-to-alarm"),
    )
    .await;
    app.wait_text("#skip-to-alarm", "Till LARM (Alt+L)").await;
    let shown = app
        .js(
            "const r = document.getElementById('skip-to-alarm').getBoundingClientRect();
             return [r.top >= 0 && r.bottom <= innerHeight, r.top]",
        )
        .await;
    assert_eq!(
        shown[0], true,
        "the focused skip link is on screen: {shown}"
    );
    app.screenshot("skip-link").await;
    app.keys(&[KeyStep::Press(ENTER)]).await;
    app.wait_js(
        "return document.activeElement?.id",
        serde_json::json!("panic"),
    )
    .await;
    app.keys(&[KeyStep::Hold(' ', HOLD + Duration::from_millis(300))])
        .await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    app.wait_js(
        "return document.activeElement?.id",
        serde_json::json!("alarm-title"),
    )
    .await;
    wait_alarms(&server, 1).await;
    app.screenshot("keyboard-alarm").await;
    // Alt+L from anywhere puts focus on LARM.
    app.click("#alarm-leave").await;
    app.js("document.activeElement?.blur(); return true").await;
    app.keys(&[KeyStep::Chord(ALT, 'l')]).await;
    app.wait_js(
        "return document.activeElement?.id",
        serde_json::json!("panic"),
    )
    .await;
    app.quit().await;
}

/// WebDriver's codes for the keys the keyboard test presses.
const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';
const ALT: char = '\u{E00A}';

#[tokio::test]
async fn lost_answers_never_make_a_second_alarm() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let code = server.enrollment_code("Cia Carlsson").await;
    let mut desk = Desktop::start("alarm-lost");
    let app = desk.launch().await;
    enroll(&app, &proxy.url(), &code).await;

    // The server gets the alarm, the app never hears back, and retries.
    proxy.set(Fault::DropResponse);
    app.hold("#panic", HOLD).await;
    let list = wait_alarms(&server, 1).await;
    let start = Instant::now();
    while proxy.cut() < 3 {
        assert!(start.elapsed() < WAIT, "the app did not retry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_text("#alarm-title", "RING 112").await;
    proxy.set(Fault::Pass);
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let again = alarms(&server).await;
    assert_eq!(again.len(), 1, "one alarm however many retries");
    assert_eq!(again[0].id, list[0].id);
    app.quit().await;
}

#[tokio::test]
async fn an_alarm_survives_the_app_being_killed_right_after_the_trigger() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let code = server.enrollment_code("Dan Dahl").await;
    let mut desk = Desktop::start("alarm-kill");
    let app = desk.launch().await;
    enroll(&app, &proxy.url(), &code).await;

    proxy.set(Fault::Refuse);
    app.hold("#panic", HOLD).await;
    // Stored (the screen has its id); with the server refusing, it already says RING 112.
    app.wait_for("#alarm-screen[data-alarm]").await;
    desk.kill_app();
    drop(app);
    assert!(alarms(&server).await.is_empty());

    proxy.set(Fault::Pass);
    let app = desk.launch().await;
    // Delivered after the restart, exactly once, and the app shows it.
    app.wait_text("#alarm-banner", "Regionens server har larmet")
        .await;
    wait_alarms(&server, 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(alarms(&server).await.len(), 1);
    app.quit().await;
}

#[tokio::test]
async fn a_false_alarm_is_cancelled_after_a_confirm() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Eva Ek").await;
    let mut desk = Desktop::start("alarm-cancel");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-title", "MOTTAGET").await;
    app.click("#cancel-alarm").await;
    // The two answers say what they do: never two "cancel"s.
    app.wait_text("#confirm-no", "Larmet ska fortsätta").await;
    app.wait_text("#confirm-yes", "Avbryt larmet").await;
    app.screenshot("cancel-dialog").await;
    app.click("#confirm-no").await;
    app.wait_text("#alarm-title", "MOTTAGET").await;
    app.click("#cancel-alarm").await;
    app.click("#confirm-yes").await;
    app.wait_text("#alarm-title", "Larmet är avbrutet").await;
    let list = wait_alarms(&server, 1).await;
    let start = Instant::now();
    loop {
        let a = &alarms(&server).await[0];
        if a.status == AlarmStatus::Cancelled {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "the cancel never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(list.len(), 1);
    app.quit().await;
}

#[tokio::test]
async fn an_unlinked_app_or_a_revoked_device_says_so_and_offers_112() {
    let server = TestServer::start().await;
    let mut desk = Desktop::start("alarm-blocked");
    let app = desk.launch().await;
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-detail", "inte kopplat till regionens server")
        .await;
    app.wait_for("#alarm-call-112.largest").await;
    app.screenshot("not-enrolled").await;
    app.click("#alarm-leave").await;

    let code = server.enrollment_code("Fia Fors").await;
    enroll(&app, &server.url(), &code).await;
    // The alarm that could not be sent goes out once the app is linked (it was never
    // cancelled): exactly once.
    app.wait_text("#alarm-banner", "Regionens server har larmet")
        .await;
    let first = wait_alarms(&server, 1).await;
    let devices = server.store.devices(None).await.unwrap();
    server
        .store
        .revoke_device(
            devices[0].id,
            chrono::Utc::now(),
            varn_server::store::Revoker::Region,
        )
        .await
        .unwrap();
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-detail", "godtar inte längre den här enheten")
        .await;
    app.wait_for("#alarm-call-112.largest").await;
    // Away from the alarm: the app says it is no longer linked and offers to link again.
    app.click("#alarm-leave").await;
    app.wait_text("#conn", "Bortkopplad").await;
    app.wait_text("#protection", "har kopplats bort").await;
    app.wait_text("#protection-action", "Koppla igen").await;
    app.screenshot("revoked").await;
    app.quit().await;
    // The revoked device's alarm did not reach the server.
    let after = alarms(&server).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, first[0].id);
}

#[tokio::test]
async fn without_a_tel_handler_the_number_is_shown_large() {
    let mut desk = Desktop::start("calls");
    let app = desk.launch().await;
    app.click("#sos-112").await;
    app.wait_text("#number-huge", "112").await;
    app.wait_text(".dialog", "Ring från din mobil").await;
    app.screenshot("no-dialer").await;
    app.click("#number-close").await;
    app.click("[data-tab='contacts']").await;
    app.click("[data-contact='guard']").await;
    app.wait_text("#number-huge", "010-470 55 64").await;
    app.quit().await;
}

#[tokio::test]
async fn a_tel_handler_gets_the_number() {
    // A desktop with a program for tel: links: it writes what it was given to a file.
    let mut desk = Desktop::start("calls-handler");
    let home = tempfile::tempdir().unwrap();
    let got = home.path().join("dialed.txt");
    let apps = home.path().join("data/applications");
    std::fs::create_dir_all(&apps).unwrap();
    let script = home.path().join("dialer.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> {}\n", got.display()),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        apps.join("fake-dialer.desktop"),
        format!("[Desktop Entry]\nType=Application\nName=Fake dialer\nExec={} %u\nMimeType=x-scheme-handler/tel;\n", script.display()),
    )
    .unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config/mimeapps.list"),
        "[Default Applications]\nx-scheme-handler/tel=fake-dialer.desktop\n",
    )
    .unwrap();
    desk.env = vec![
        (
            "XDG_DATA_HOME".into(),
            home.path().join("data").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME".into(),
            home.path().join("config").display().to_string(),
        ),
    ];
    let app = desk.launch().await;
    app.click("[data-tab='contacts']").await;
    app.click("[data-contact='guard']").await;
    let start = Instant::now();
    loop {
        if std::fs::read_to_string(&got)
            .unwrap_or_default()
            .contains("tel:0104705564")
        {
            break;
        }
        assert!(start.elapsed() < WAIT, "the dialer never got the number");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.count(".dialog").await,
        0,
        "no fallback when a dialer took the call"
    );
    app.quit().await;
}

#[tokio::test]
async fn own_contacts_are_added_edited_reordered_and_deleted() {
    let mut desk = Desktop::start("own-contacts");
    let app = desk.launch().await;
    app.click("[data-tab='contacts']").await;
    app.click("#add-contact").await;
    app.fill("#own-name", "Gruppledare").await;
    app.fill("#own-number", "ring mig").await;
    app.click("#save-contact").await;
    app.wait_text("#contact-form", "inget telefonnummer").await;
    app.fill("#own-number", "070-111 22 33").await;
    app.click("#save-contact").await;
    app.wait_text("#own-contacts", "Gruppledare").await;
    app.click("#add-contact").await;
    app.fill("#own-name", "Partikansliet").await;
    app.fill("#own-number", "08-123 456").await;
    app.click("#save-contact").await;
    app.wait_text("#own-contacts", "Partikansliet").await;
    let order =
        || app.js("return [...document.querySelectorAll('.own-contact')].map(e => e.dataset.own)");
    assert_eq!(order().await, json!(["Gruppledare", "Partikansliet"]));
    app.click("[aria-label='Flytta upp Partikansliet']").await;
    app.wait_js(
        "return [...document.querySelectorAll('.own-contact')].map(e => e.dataset.own).join()",
        json!("Partikansliet,Gruppledare"),
    )
    .await;
    app.screenshot("own").await;
    app.quit().await;

    // Kept across a restart, then deleted with a confirm.
    let app = desk.launch().await;
    app.click("[data-tab='contacts']").await;
    app.wait_js(
        "return [...document.querySelectorAll('.own-contact')].map(e => e.dataset.own).join()",
        json!("Partikansliet,Gruppledare"),
    )
    .await;
    let buttons: Value = app
        .js("return [...document.querySelectorAll('.own-contact .btn.danger')].length")
        .await;
    assert_eq!(buttons, json!(2));
    app.js("document.querySelector('.own-contact .btn.danger').click()")
        .await;
    app.click("#confirm-yes").await;
    app.wait_js(
        "return [...document.querySelectorAll('.own-contact')].map(e => e.dataset.own).join()",
        json!("Gruppledare"),
    )
    .await;
    app.quit().await;
}

/// Raising the alarm makes no sound unless the person chose a tone (the alarm button's
/// WebAudio is watched in the real window), and its notifications say only that there is
/// news in Värn, never what: the person may be hiding, or watched.
#[tokio::test]
async fn raising_an_alarm_is_silent_and_its_notifications_discreet_by_default() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Gun Gran").await;
    let mut desk = Desktop::start("alarm-silent");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    let earlier = desk.notifications();
    // Every sound the page could make goes through an AudioContext: count them.
    let spy = "window.__audio = 0; const A = window.AudioContext; \
               window.AudioContext = function (...a) { window.__audio += 1; return new A(...a); }; \
               window.webkitAudioContext = window.AudioContext; return true";
    app.js(spy).await;
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    let list = wait_alarms(&server, 1).await;
    acknowledge(&server, list[0].id).await;
    app.wait_text("#alarm-title", "KVITTERAT av Olof Officer")
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.js("return window.__audio").await, 0, "no sound");
    let mut seen = desk.notifications();
    seen.retain(|n| !earlier.contains(n));
    assert!(
        seen.iter().any(|n| n == "Nytt besked i Värn"),
        "a discreet notification: {seen:?}"
    );
    for n in &seen {
        for said in ["mottaget", "kvitterat", "Olof", "larm"] {
            assert!(
                !n.to_lowercase().contains(&said.to_lowercase()),
                "{said} in {n:?}"
            );
        }
    }
    app.click("#cancel-alarm").await;
    app.click("#confirm-yes").await;
    app.wait_text("#alarm-title", "Larmet är avbrutet").await;
    app.click("#alarm-leave").await;

    // The person turns the tone on: the next alarm sounds (the spy does see it).
    app.click("#settings-btn").await;
    app.click("#alarm-sound").await;
    app.wait_text("#discretion", "Sparat").await;
    app.screenshot("discretion").await;
    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-title", "MOTTAGET av regionens server kl")
        .await;
    assert_eq!(app.js("return window.__audio").await, 1, "the chosen tone");
    app.quit().await;
}
