//! The action plan in the real window: search, action cards, risk inventory, checklist, profile.

use crate::harness::Desktop;

#[tokio::test]
async fn search_pdv_opens_the_card_with_its_four_steps() {
    let mut desk = Desktop::start("plan-search");
    let app = desk.launch().await;
    let search = app.wait_for("#plan-search").await;
    search.send_keys("PDV").await.unwrap();
    app.wait_text("#search-results .hit-count", "1 träff").await;
    assert!(
        app.count("#search-results mark").await >= 1,
        "hits are highlighted"
    );
    app.screenshot("hits").await;
    app.click("#search-results a.hit").await;
    app.wait_text("#card-title", "PDV (Pågående Dödligt Våld eller Terrordåd)")
        .await;
    assert_eq!(app.count(".steps .step").await, 4);
    let labels = app
        .js("return [...document.querySelectorAll('.step-label')].map(e => e.textContent)")
        .await;
    assert_eq!(
        labels,
        serde_json::json!(["FLY", "SÖK SKYDD", "LARMA", "POLIS"])
    );
    app.wait_text("#pdv-step-1", "minst 500 m").await;
    // The card offers the call that matters.
    app.wait_for(".card-calls [data-contact='sos']").await;
    app.screenshot("pdv-card").await;

    // A query without Swedish letters finds them, and the match is marked.
    app.click("[data-tab='plan']").await;
    let search = app.wait_for("#plan-search").await;
    search.send_keys("valdssituation").await.unwrap();
    app.wait_text("#search-results mark", "våldssituation")
        .await;

    // A hit in the plan text opens its section and scrolls to it.
    search.clear().await.unwrap();
    search.send_keys("11414").await.unwrap();
    app.wait_text("#search-results", "11414").await;
    app.click("#search-results a.hit[data-anchor='efter-polisanmalan-2']")
        .await;
    app.wait_attr("#efter-polisanmalan", "open", "true").await;
    app.wait_text("#efter-polisanmalan-2", "11414").await;
    app.quit().await;
}

#[tokio::test]
async fn every_card_is_two_taps_from_any_view() {
    let mut desk = Desktop::start("plan-cards");
    let app = desk.launch().await;
    for card in [
        "hotsituation",
        "telefon",
        "brev",
        "mail-sms",
        "sociala-medier",
        "valdssituation",
        "pdv",
    ] {
        app.click("[data-tab='meeting']").await;
        app.wait_text("#view h2", "Inför möte").await;
        app.click("[data-tab='plan']").await; // tap 1
        app.click(&format!("[data-card='{card}']")).await; // tap 2
        app.wait_for(&format!("article#{card} #card-title")).await;
    }
    app.quit().await;
}

async fn rate(app: &crate::harness::App, question: &str, level: &str) {
    app.click(&format!("label[for='q-{question}-{level}']"))
        .await;
}

#[tokio::test]
async fn inventory_with_four_moderate_advises_measures_and_survives_a_restart() {
    let mut desk = Desktop::start("inventory");
    let app = desk.launch().await;
    app.click("[data-tab='meeting']").await;
    app.click("#new-inventory").await;
    app.wait_for("#inv-what")
        .await
        .send_keys("Torgmöte om vården")
        .await
        .unwrap();
    app.wait_for("#inv-where")
        .await
        .send_keys("Stora torget, Nyköping")
        .await
        .unwrap();
    app.wait_text("#save-status", "Sparat").await;

    for q in ["vem", "vad", "hur"] {
        rate(&app, q, "moderate").await;
    }
    app.wait_text("#risk-counts", "MÅTTLIG eller högre: 3")
        .await;
    app.wait_text("#risk-verdict", "inga särskilda åtgärder")
        .await;
    rate(&app, "var-nar", "moderate").await;
    app.wait_text("#risk-counts", "MÅTTLIG eller högre: 4")
        .await;
    app.wait_text("#risk-verdict", "Överväg förebyggande åtgärder")
        .await;
    app.wait_for("#advice-calls [data-contact='security-officer']")
        .await;
    app.wait_text(
        "#risk-result",
        "Får du MÅTTLIG på fyra eller HÖG på fler än två",
    )
    .await;
    app.wait_text("#save-status", "Sparat").await;
    app.screenshot("advice").await;
    app.quit().await;

    let app = desk.launch().await;
    app.click("[data-tab='meeting']").await;
    app.wait_text(".inventory-row", "Torgmöte om vården").await;
    app.wait_text(".inventory-row .badge", "Åtgärder").await;
    app.click(".inventory-row").await;
    app.wait_text("#risk-verdict", "Överväg förebyggande åtgärder")
        .await;
    let checked = app
        .js("return [...document.querySelectorAll('.questions input:checked')].map(i => i.id)")
        .await;
    assert_eq!(
        checked,
        serde_json::json!([
            "q-vem-moderate",
            "q-vad-moderate",
            "q-hur-moderate",
            "q-var-nar-moderate"
        ])
    );
    let place = app
        .js("return document.getElementById('inv-where').value")
        .await;
    assert_eq!(place, "Stora torget, Nyköping");

    // Delete needs a confirm step.
    app.click("#delete-inventory").await;
    app.click("#confirm-yes").await;
    app.wait_text("#view h2", "Inför möte").await;
    app.wait_text("#view", "Inga riskinventeringar ännu").await;
    app.quit().await;
}

#[tokio::test]
async fn checklist_ticks_are_saved_with_time_and_can_be_reset() {
    let mut desk = Desktop::start("checklist");
    let app = desk.launch().await;
    app.click("[data-phase='after']").await;
    assert_eq!(app.count("#checklista .check-item").await, 8);
    app.click("label[for='tick-checklista-1']").await;
    app.wait_text("#checklista-1 .ticked-at", "Bockad").await;
    app.click("label[for='tick-checklista-5']").await;
    app.wait_text("#checklista-5 .ticked-at", "Bockad").await;
    app.screenshot("ticked").await;
    app.quit().await;

    let app = desk.launch().await;
    app.click("[data-phase='after']").await;
    app.wait_text("#checklista-1 .ticked-at", "Bockad").await;
    let checked = app
        .js("return document.getElementById('tick-checklista-5').checked")
        .await;
    assert_eq!(checked, true);
    app.click("#checklist-reset").await;
    app.click("#confirm-yes").await;
    app.wait_js(
        "return document.querySelectorAll('.checklist input').length === 8 &&
                ![...document.querySelectorAll('.checklist input')].some(i => i.checked)",
        serde_json::json!(true),
    )
    .await;
    app.quit().await;
}

#[tokio::test]
async fn an_invalid_profile_is_refused_by_field_and_the_plan_stays() {
    let mut desk = Desktop::start("profile");
    let bad = varn_core::profile::DEFAULT_PROFILE_TOML
        .replace("version = 1", "version = 2")
        .replace("number = \"010-470 55 64\"", "number = \"ring vakten\"");
    std::fs::write(desk.data_dir.path().join("region-profile.toml"), bad).unwrap();
    let app = desk.launch().await;
    app.wait_text("#banner", "contacts[1].number").await;
    app.wait_text("#banner", "senast godkända profilen (version 1)")
        .await;
    app.wait_for("[data-card='pdv']").await;
    app.click("[data-tab='contacts']").await;
    app.wait_text("#contact-guard", "010-470 55 64").await;
    app.screenshot("refused").await;
    app.quit().await;
}
