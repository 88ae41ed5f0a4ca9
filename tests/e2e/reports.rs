//! Incident reports in the real window: written offline and kept across a restart, attachments
//! through the real file dialog, the export as PDF and text, statuses, deletion, the database
//! encrypted at rest, and the passphrase path when there is no keychain.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{files_under, App, Desktop, WAIT};

/// A phrase that must never appear on disk in clear.
const SECRET: &str = "Hotfull man vid Tornet";

pub(crate) async fn write_report(app: &App) {
    app.click("[data-tab='reports']").await;
    app.click("#new-incident").await;
    app.wait_for("#incident-editor").await;
    app.js("for (const [id, v] of [['inc-event', 'threat_harassment'], ['inc-channel', 'in_person']]) { const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); }").await;
    app.fill("#inc-place", "Torget, Nyköping").await;
    app.fill(
        "#inc-during",
        &format!("{SECRET} skrek och följde efter mig."),
    )
    .await;
    app.fill("#inc-actions", "Gick in i stadshuset, ringde vaktbolaget.")
        .await;
    app.open_section("inc-checklist").await;
    app.click("label[for='inc-tick-checklista-5']").await;
    app.wait_js("return document.getElementById('save-status').textContent.includes('Sparat') && !document.getElementById('save-status').textContent.includes('sparas')", json!(true)).await;
}

#[tokio::test]
async fn a_report_written_offline_is_kept_encrypted_with_its_attachment_and_exported() {
    let mut desk = Desktop::start("report");
    let app = desk.launch().await;
    write_report(&app).await;
    app.screenshot("editor").await;

    // Too long (pasted past the field's limit): a clear message, nothing already saved is lost.
    app.js("const t = document.getElementById('inc-witnesses'); t.value = 'x'.repeat(150000); t.dispatchEvent(new Event('input'))").await;
    app.wait_text("#save-status", "högst 100000 tecken").await;
    // Invisible control characters in a paste are dropped; the words are saved.
    app.js("const t = document.getElementById('inc-witnesses'); t.value = 'Kalle\\u0007 Ank\\u0000'; t.dispatchEvent(new Event('input'))").await;
    app.wait_js("return document.getElementById('save-status').textContent.includes('Sparat') && !document.getElementById('save-status').textContent.includes('sparas')", json!(true)).await;

    // An attachment through the real file dialog.
    let files = tempfile::tempdir().unwrap();
    let photo = files.path().join("skärmdump.png");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&photo, &bytes).unwrap();
    app.click("#add-attachment").await;
    desk.answer_file_dialog("Välj bilagor", &photo);
    app.wait_text("#attachments", "skärmdump.png").await;
    let sha = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(&bytes))
    };
    app.wait_text("#attachments", &sha[..12]).await;
    // The original is not needed afterwards.
    std::fs::remove_file(&photo).unwrap();

    // Nothing of it is on disk in clear: not the report text, not the attachment's bytes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for f in files_under(desk.data_dir.path()) {
        let data = std::fs::read(&f).unwrap_or_default();
        assert!(
            !data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "plaintext in {}",
            f.display()
        );
        assert!(
            !data.windows(64).any(|w| w == &bytes[1000..1064]),
            "attachment bytes in {}",
            f.display()
        );
    }

    // Export: the PDF and text are written where the person chooses.
    let out = files.path().join("polisanmalan.pdf");
    app.click("#export-incident").await;
    desk.answer_file_dialog("Spara export", &out);
    app.wait_text("#export-status", "polisanmalan.pdf").await;
    let text = std::process::Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    for needle in [
        "Händelserapport",
        "Hot och trakasserier",
        "Direkt kontakt, på plats",
        "Torget, Nyköping",
        SECRET,
        "Vad gjorde vi",
        "Dokumentera händelsen",
        "skärmdump.png",
        &sha[..32],
        "förtroendevald",
        "11414",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} missing from the PDF:\n{text}"
        );
    }
    let plain = std::fs::read_to_string(out.with_extension("txt")).unwrap();
    assert!(
        plain.contains(&sha),
        "the text export has the whole checksum"
    );
    app.quit().await;

    // After a restart it is all there.
    let app = desk.launch().await;
    app.click("[data-tab='reports']").await;
    app.wait_text("#incident-list", "Hot och trakasserier")
        .await;
    app.wait_text("#incident-list", "Utkast").await;
    app.click("#incident-list a").await;
    let during = app
        .js("return document.getElementById('inc-during').value")
        .await;
    assert_eq!(
        during,
        json!(format!("{SECRET} skrek och följde efter mig."))
    );
    let witnesses = app
        .js("return document.getElementById('inc-witnesses').value")
        .await;
    assert_eq!(witnesses, json!("Kalle Ank"));
    let ticked = app
        .js("return document.getElementById('inc-tick-checklista-5').checked")
        .await;
    assert_eq!(ticked, json!(true));
    app.wait_text("#attachments", "skärmdump.png").await;

    // Ready to send, then deleted with a confirm.
    app.click("#mark-ready").await;
    app.wait_text("#incident-status", "Klar att skicka").await;
    app.click("[data-tab='reports']").await;
    app.wait_text("#incident-list", "Klar att skicka").await;
    app.screenshot("list").await;
    app.click("#incident-list a").await;
    app.click("#delete-incident").await;
    app.click("#confirm-yes").await;
    app.wait_text("#view", "Inga händelser ännu").await;
    app.quit().await;
}

#[tokio::test]
async fn a_report_from_the_alarm_screen_starts_with_its_time_and_place() {
    let mut desk = Desktop::start("report-from-alarm");
    let app = desk.launch().await;
    app.click("[data-tab='meeting']").await;
    app.open_section("meeting-place").await;
    app.fill("#current-place", "Sessionssalen").await;
    app.click("#place-form button[type=submit]").await;
    app.wait_text("#place-form", "Sparat").await;
    app.hold("#panic", Duration::from_millis(1900)).await;
    app.wait_for("#alarm-report").await;
    app.click("#alarm-report").await;
    app.wait_for("#incident-editor").await;
    let place = app
        .js("return document.getElementById('inc-place').value")
        .await;
    assert_eq!(place, json!("Sessionssalen"));
    let start = app
        .js("return document.getElementById('inc-started_at').value")
        .await;
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    assert!(start.as_str().unwrap_or("").starts_with(&today), "{start}");
    app.quit().await;
}

#[tokio::test]
async fn without_a_keychain_a_passphrase_protects_the_reports() {
    let mut desk = Desktop::start_without_keychain("passphrase");
    let app = desk.launch().await;
    app.wait_text("#unlock", "Välj en lösenfras").await;
    app.fill("#passphrase", "kort").await;
    app.fill("#passphrase-again", "kort").await;
    app.click("#unlock-submit").await;
    app.wait_text("#unlock-status", "minst 12 tecken").await;
    app.fill("#passphrase", "min långa hemliga fras").await;
    app.fill("#passphrase-again", "min långa hemliga fras")
        .await;
    app.click("#unlock-submit").await;
    app.wait_js(
        "return !document.body.classList.contains('locked') && !document.getElementById('unlock') && !!document.querySelector('[data-tab]')",
        json!(true),
    )
    .await;
    // The first start goes on to the guide once the passphrase is chosen.
    app.skip_welcome().await;
    write_report(&app).await;
    app.quit().await;

    let app = desk.launch().await;
    app.wait_text("#unlock", "Värn är låst").await;
    // 112 and the plan work while locked.
    app.wait_for("#sos-112").await;
    app.fill("#passphrase", "fel fras som inte stämmer").await;
    app.click("#unlock-submit").await;
    app.wait_text("#unlock-status", "Fel lösenfras. Vänta 1 s")
        .await;
    app.fill("#passphrase", "fel fras igen inte heller").await;
    app.click("#unlock-submit").await;
    app.wait_text("#unlock-status", "Vänta").await;
    app.screenshot("locked").await;
    let start = Instant::now();
    let is_open =
        "return !document.body.classList.contains('locked') && !document.getElementById('unlock')";
    loop {
        // Opened (the page reloads after a right passphrase): done. Else try again once the
        // wait after the wrong ones has passed (Argon2id takes a while on a busy machine).
        // Scripts may fail while the page reloads; that is only "not yet".
        if app.client.execute(is_open, vec![]).await.ok() == Some(json!(true)) {
            break;
        }
        assert!(start.elapsed() < WAIT, "never unlocked");
        // In one script, so a reload in between cannot leave a step waiting for a form
        // that is gone.
        let submit = "const b = document.getElementById('unlock-submit');
             const p = document.getElementById('passphrase');
             if (b && p && !b.disabled) {
               p.value = 'min långa hemliga fras';
               document.getElementById('unlock-form').requestSubmit();
             }";
        let _ = app.client.execute(submit, vec![]).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app.click("[data-tab='reports']").await;
    app.wait_text("#incident-list", "Hot och trakasserier")
        .await;
    app.quit().await;
    assert!(desk.data_dir.path().join("varn.key.json").exists());
}
