//! End-to-end tests of the real app in its real window (Xvfb + tauri-driver + WebKitWebDriver).

mod alarm;
mod checkin;
mod dashboard;
mod first_minute;
mod followup;
mod guard;
mod harness;
mod messages;
mod plan;
mod regions;
mod reports;
mod signin;
mod sync;
mod trust;
mod updates;

use harness::Desktop;

const ARROW_RIGHT: &str = "\u{E014}";
const ARROW_LEFT: &str = "\u{E012}";
const ENTER: &str = "\u{E007}";

#[tokio::test]
async fn app_opens_and_every_tab_is_reachable_by_click_and_keyboard() {
    let mut desk = Desktop::start("tabs");
    let app = desk.launch().await;

    assert_eq!(
        app.wait_for("#app-title").await.text().await.unwrap(),
        "Värn"
    );
    app.wait_text("#conn", "sparas lokalt").await;
    app.wait_text("#sos-112", "Ring 112").await;
    app.wait_text("#panic", "LARM").await;
    app.wait_for("#plan-search").await;
    app.screenshot("start").await;

    // By click: each tab shows its view and is marked selected.
    for (tab, heading) in [
        ("contacts", "Kontakter & larm"),
        ("reports", "Rapporter"),
        ("meeting", "Inför möte"),
    ] {
        app.click(&format!("[data-tab='{tab}']")).await;
        app.wait_attr(&format!("[data-tab='{tab}']"), "aria-selected", "true")
            .await;
        app.wait_text("#view h2", heading).await;
        app.screenshot(tab).await;
    }
    app.click("[data-tab='plan']").await;
    app.wait_attr("[data-tab='plan']", "aria-selected", "true")
        .await;
    app.wait_for("#plan-search").await;

    // By keyboard: arrow keys move along the tab bar, Enter activates a focused tab.
    let plan_tab = app.wait_for("[data-tab='plan']").await;
    plan_tab.send_keys(ARROW_RIGHT).await.unwrap();
    app.wait_attr("[data-tab='contacts']", "aria-selected", "true")
        .await;
    app.wait_text("#view h2", "Kontakter & larm").await;
    let focused = app.js("return document.activeElement.dataset.tab").await;
    assert_eq!(focused, "contacts", "focus follows the arrow key");
    app.wait_for("[data-tab='contacts']")
        .await
        .send_keys(ARROW_RIGHT)
        .await
        .unwrap();
    app.wait_attr("[data-tab='reports']", "aria-selected", "true")
        .await;
    app.wait_for("[data-tab='reports']")
        .await
        .send_keys(ARROW_RIGHT)
        .await
        .unwrap();
    app.wait_attr("[data-tab='meeting']", "aria-selected", "true")
        .await;
    app.wait_for("[data-tab='meeting']")
        .await
        .send_keys(ARROW_RIGHT)
        .await
        .unwrap();
    app.wait_attr("[data-tab='plan']", "aria-selected", "true")
        .await;
    app.wait_for("[data-tab='plan']")
        .await
        .send_keys(ARROW_LEFT)
        .await
        .unwrap();
    app.wait_attr("[data-tab='meeting']", "aria-selected", "true")
        .await;
    app.js("document.querySelector(\"[data-tab='reports']\").focus()")
        .await;
    app.wait_for("[data-tab='reports']")
        .await
        .send_keys(ENTER)
        .await
        .unwrap();
    app.wait_attr("[data-tab='reports']", "aria-selected", "true")
        .await;

    // Touch targets: every button in the chrome is at least 48 px high and wide.
    let small = app
        .js(
            "return [...document.querySelectorAll('.tabs button, .sos button, .topbar button')]
               .map(b => b.getBoundingClientRect())
               .filter(r => r.height < 48 || r.width < 48).length",
        )
        .await;
    assert_eq!(small, 0, "touch targets under 48 px");
    // Strict CSP: inline script must not run.
    let inline = app
        .js(
            "const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
             document.body.appendChild(s); return window.__inline === 1",
        )
        .await;
    assert_eq!(inline, false, "the CSP blocks inline script");
    app.quit().await;
}

#[tokio::test]
async fn smoke_flag_reports_ready_and_exits_0() {
    let desk = Desktop::start("smoke");
    let out = desk
        .command(env!("CARGO_BIN_EXE_varn"))
        .arg("--smoke")
        .arg("--data-dir")
        .arg(desk.data_dir.path())
        .output()
        .expect("run varn --smoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figure = |prefix: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix)?.strip_suffix(" ms")?.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix:?} line in {stdout:?}"))
    };
    let (shell, view) = (figure("ready in "), figure("view in "));
    assert!(shell > 0);
    assert!(
        view >= shell,
        "the shell is painted before the first view: {stdout:?}"
    );
}

#[tokio::test]
async fn language_switch_works_and_persists_across_a_restart() {
    let mut desk = Desktop::start("language");
    let app = desk.launch().await;
    app.wait_text("[data-tab='contacts']", "Kontakter & larm")
        .await;
    app.click("#settings-btn").await;
    app.wait_text("#view h2", "Inställningar").await;
    app.click("#lang-en").await;
    app.wait_text("#view h2", "Settings").await;
    app.wait_text("[data-tab='contacts']", "Contacts & alarm")
        .await;
    app.wait_text("#sos-112", "Call 112").await;
    let lang = app.js("return document.documentElement.lang").await;
    assert_eq!(lang, "en");
    app.screenshot("english").await;
    app.quit().await;

    let app = desk.launch().await;
    app.wait_text("[data-tab='contacts']", "Contacts & alarm")
        .await;
    app.wait_text("#conn", "saved locally").await;
    app.click("#settings-btn").await;
    app.click("#lang-sv").await;
    app.wait_text("[data-tab='contacts']", "Kontakter & larm")
        .await;
    app.quit().await;

    let app = desk.launch().await;
    app.wait_text("[data-tab='contacts']", "Kontakter & larm")
        .await;
    app.quit().await;
}
