//! Updates from the region, in the real window against the real server: a bundle signed with
//! another key is refused and the running app stays; nothing is installed while an alarm is
//! open, not even when the UI is bypassed; a bundle with the right signature passes the check
//! and then meets the installer (which a development build, not installed from a package,
//! cannot be replaced by: the whole install is `scripts/package --check`'s).

use std::time::Duration;

use serde_json::json;
use varn_server::releases::{publish, NewRelease};
use varn_server::testkit::update_key::UpdateKey;
use varn_server::testkit::TestServer;

use crate::alarm::enroll;
use crate::harness::{App, Desktop};

const HOLD: Duration = Duration::from_millis(1900);
/// What the updater calls a development build: it was not installed from a bundle.
const PLATFORM: &str = "linux-x86_64-unknown";

/// Publishes `version` as `varn-server release add` does, signed with `key`.
async fn release(server: &TestServer, key: &UpdateKey, version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join(format!("varn_{version}.bin"));
    let bytes = format!("not an app, version {version}").into_bytes();
    std::fs::write(&bundle, &bytes).unwrap();
    let signature = dir.path().join("bundle.sig");
    std::fs::write(&signature, key.sign(&bytes, "bundle", Some(version))).unwrap();
    publish(
        server.store.as_ref(),
        NewRelease {
            bundle: &bundle,
            signature: &signature,
            notes: format!("Version {version}: rättelser."),
            version: None,
            platform: Some(PLATFORM.into()),
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
}

async fn look_for_update(app: &App) {
    app.click("#settings-btn").await;
    app.click("#update-check").await;
}

/// Calls the install command directly, past the UI; returns `kind:message` or `ok`.
async fn install_bypassing_the_ui(app: &App, version: &str) -> String {
    app.js(&format!(
        "window.__r = null;
         window.__TAURI__.core.invoke('update_install', {{ version: '{version}', pin: null }})
           .then(() => window.__r = 'ok', (e) => window.__r = e.kind + ':' + e.message);"
    ))
    .await;
    let start = std::time::Instant::now();
    loop {
        let r = app.js("return window.__r").await;
        if let Some(s) = r.as_str() {
            return s.to_string();
        }
        assert!(
            start.elapsed() < crate::harness::WAIT,
            "the install never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_bundle_signed_with_another_key_is_refused_and_the_app_keeps_running() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Anna Andersson").await;
    let (trusted, other) = (UpdateKey::generate(), UpdateKey::generate());
    let mut desk = Desktop::start("update-refused");
    desk.env
        .push(("VARN_DEV_UPDATE_PUBKEY".into(), trusted.public()));

    // Not linked: nowhere to ask.
    let app = desk.launch().await;
    look_for_update(&app).await;
    app.wait_text("#update-error", "kan inte hämtas här").await;
    app.wait_text("#update-error", "koppla").await;
    enroll(&app, &server.url(), &code).await;

    // Linked, nothing newer published.
    look_for_update(&app).await;
    app.wait_text("#update-none", "senaste versionen (0.1.0)")
        .await;

    release(&server, &other, "0.9.0").await;
    look_for_update(&app).await;
    app.wait_text("#update-offer", "Version 0.9.0 finns").await;
    app.wait_text("#update-notes", "Version 0.9.0: rättelser.")
        .await;
    let pids = desk.app_pids();
    app.click("#update-install").await;
    app.wait_text("#update-error", "inte signerad för Värn")
        .await;
    app.screenshot("update-refused").await;
    // The same app, still answering.
    assert_eq!(desk.app_pids(), pids);
    app.click("[data-tab='plan']").await;
    app.wait_text("#panic", "LARM").await;
    app.quit().await;
}

#[tokio::test]
async fn nothing_is_installed_while_an_alarm_is_open() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("Bo Berg").await;
    let key = UpdateKey::generate();
    let mut desk = Desktop::start("update-held");
    desk.env
        .push(("VARN_DEV_UPDATE_PUBKEY".into(), key.public()));
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;
    release(&server, &key, "0.9.0").await;

    app.hold("#panic", HOLD).await;
    app.wait_text("#alarm-title", "MOTTAGET").await;
    look_for_update(&app).await;
    app.wait_text("#update-offer", "Version 0.9.0 finns").await;
    app.wait_text("#update-hold", "när larmet är avslutat")
        .await;
    assert_eq!(
        app.js("return document.querySelector('#update-install').disabled")
            .await,
        json!(true)
    );
    app.screenshot("update-held").await;
    // Past the UI, the command itself refuses.
    assert_eq!(
        install_bypassing_the_ui(&app, "0.9.0").await,
        "update_held:alarm"
    );

    // The alarm cancelled, the signed bundle passes the signature check and reaches the
    // installer, which refuses to put it in place of a development build.
    app.click("[data-tab='plan']").await;
    app.click("#alarm-banner-link").await;
    app.click("#cancel-alarm").await;
    app.click("#confirm-yes").await;
    app.wait_text("#alarm-title", "Larmet är avbrutet").await;
    look_for_update(&app).await;
    app.wait_text("#update-offer", "Version 0.9.0 finns").await;
    assert_eq!(app.count("#update-hold").await, 0);
    let r = install_bypassing_the_ui(&app, "0.9.0").await;
    assert_eq!(r, "update_failed:invalid updater binary format", "{r}");
    // A version that is not offered is not installed.
    let r = install_bypassing_the_ui(&app, "0.9.1").await;
    assert!(r.starts_with("not_found:"), "{r}");
    app.quit().await;
}
