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
    app.open_section("meeting-inventories").await;
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

    // VEM and VAD are open questions: a note, no rating.
    assert_eq!(app.count("#question-vem input[type='radio']").await, 0);
    assert_eq!(app.count("#question-vad input[type='radio']").await, 0);
    app.wait_for("#note-vem")
        .await
        .send_keys("Säkerhetshandläggaren")
        .await
        .unwrap();
    for q in ["hur", "spanningar", "tidigare-hot"] {
        rate(&app, q, "moderate").await;
    }
    app.wait_text("#risk-counts", "MÅTTLIG eller högre: 3")
        .await;
    // Three answers of nine: no verdict yet, in either direction.
    app.wait_text("#risk-verdict", "Besvara alla frågor (6 kvar)")
        .await;
    assert_eq!(app.count("#risk-result.ok").await, 0);
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
    app.open_section("meeting-inventories").await;
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
            "q-hur-moderate",
            "q-var-nar-moderate",
            "q-spanningar-moderate",
            "q-tidigare-hot-moderate"
        ])
    );
    let note = app
        .js("return document.getElementById('note-vem').value")
        .await;
    assert_eq!(note, "Säkerhetshandläggaren");
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

/// The case: help is poor and trust is low. Read literally those are "low", which gave
/// a green all-clear; read as risk, as the screen now asks ("Hur stor är risken?", with the
/// hint on the two questions that run the other way), they are HÖG and the plan's advice
/// comes. The buttons carry no colour of their own before the verdict, and rating a question
/// moves nothing below it.
#[tokio::test]
async fn the_risk_scale_reads_as_risk_and_poor_help_and_little_trust_advise_measures() {
    let mut desk = Desktop::start("risk-scale");
    let app = desk.launch().await;
    app.click("[data-tab='meeting']").await;
    app.open_section("meeting-inventories").await;
    app.click("#new-inventory").await;
    app.wait_for("#inv-what")
        .await
        .send_keys("Medborgardialog")
        .await
        .unwrap();
    app.wait_text("#save-status", "Sparat").await;
    app.wait_text("#q-hur-prompt", "Hur stor är risken?").await;
    app.wait_text("#q-hur-prompt", "Värns hjälp").await;
    app.wait_text("#q-hur-hint", "Små möjligheter till hjälp = HÖG risk")
        .await;
    app.wait_text("#q-fortroende-hint", "Lågt förtroende = HÖG risk")
        .await;
    let unrated = app
        .js("const b = getComputedStyle(document.querySelector(\"label[for='q-hur-low']\")).backgroundColor;
             return [...document.querySelectorAll('.level')].every(l => getComputedStyle(l).backgroundColor === b)")
        .await;
    assert_eq!(
        unrated, true,
        "no level has a colour of its own before it is chosen"
    );
    // Where the next question sits in the page (scrolling aside: the view may scroll to the
    // chosen button, which moves nothing under the finger relative to the page).
    let below = "const q = document.getElementById('question-var-nar');
                 const v = document.getElementById('view');
                 return Math.round(q.getBoundingClientRect().top + v.scrollTop)";
    let before = app.js(below).await;
    // Poor help and little trust, read as the hints say; two more moderate answers.
    rate(&app, "hur", "high").await;
    assert_eq!(
        app.js(below).await,
        before,
        "the next question stayed under the finger"
    );
    rate(&app, "fortroende", "high").await;
    rate(&app, "spanningar", "moderate").await;
    rate(&app, "grupperingar", "moderate").await;
    app.wait_text("#risk-verdict", "Överväg förebyggande åtgärder")
        .await;
    app.wait_text("#risk-result", "förebyggande åtgärder enligt sidan 4")
        .await;
    // Page 4 of the printed plan: the three sections, "ta del av" among them.
    let measures = app
        .js("return [...document.querySelectorAll('.measure-links a')].map(a => a.textContent)")
        .await;
    assert_eq!(
        measures,
        serde_json::json!([
            "Förebyggande arbete som Förtroendevald kontinuerligt skall ta del av",
            "Förebyggande arbete som Förtroendevald ALLTID skall göra",
            "Förebyggande arbete som Förtroendevald ALLTID kan göra"
        ])
    );
    let chosen = app
        .js("return getComputedStyle(document.querySelector(\"label[for='q-hur-high']\")).backgroundColor
             === getComputedStyle(document.querySelector(\"label[for='q-spanningar-moderate']\")).backgroundColor")
        .await;
    assert_eq!(chosen, true, "a chosen HÖG and a chosen MÅTTLIG look alike");
    app.screenshot("risk-scale").await;
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
        .replace("version = 2", "version = 3")
        .replace("number = \"010-470 55 64\"", "number = \"ring vakten\"");
    std::fs::write(desk.data_dir.path().join("region-profile.toml"), bad).unwrap();
    let app = desk.launch().await;
    app.wait_text("#banner", "contacts[1].number").await;
    app.wait_text("#banner", "senast godkända profilen (version 2)")
        .await;
    app.wait_for("[data-card='pdv']").await;
    app.click("[data-tab='contacts']").await;
    app.wait_text("#contact-guard", "010-470 55 64").await;
    app.screenshot("refused").await;
    app.quit().await;
}

/// What is not the region's plan is marked as such: Värn's help for the 112 call, the other
/// sources' supporting material (with its source), the English translation; the PDV card's
/// "prata tyst" only on that card; 11414 marked not urgent and TiB via the switchboard.
#[tokio::test]
async fn what_is_not_the_plan_is_marked_and_pdv_advice_stays_on_its_card() {
    let mut desk = Desktop::start("plan-marks");
    let app = desk.launch().await;
    // Supporting material under FÖRE, with its source.
    app.click("[data-phase='before']").await;
    app.click("#stod-hot-pa-jobbet summary").await;
    app.wait_text("#stod-hot-pa-jobbet .supplement-tag", "STÖDMATERIAL")
        .await;
    app.wait_text("#stod-hot-pa-jobbet", "Variera dagliga rutiner")
        .await;
    app.wait_text(
        "#stod-hot-pa-jobbet .supplement-source",
        "Inte regionens plan. Källa: Partsrådet",
    )
    .await;
    app.screenshot("supplement").await;
    // From the PDV card, 112 comes with the plan's LARMA sentence…
    app.click("[data-card='pdv']").await;
    app.click(".card-calls [data-contact='sos']").await;
    app.wait_text("#call-script", "prata tyst").await;
    // The plan's advice ("sätt telefonen i flygplansläge") is advice, not words to say.
    app.wait_text("#call-plan-title", "Tänk på när du ringer (ur planen)")
        .await;
    let pdv = app
        .js("return document.getElementById('call-script').innerText")
        .await;
    assert!(
        !pdv.as_str().unwrap_or_default().contains("Det här"),
        "{pdv}"
    );
    app.screenshot("pdv-112").await;
    app.click("#number-close").await;
    // …and from anywhere else, without it: only Värn's help, marked as Värn's.
    app.click("#sos-112").await;
    let script = app
        .wait_text("#call-script", "Värns stöd – inte ur regionens plan")
        .await;
    assert!(!script.contains("prata tyst"), "{script}");
    assert_eq!(app.count("#call-script .script-plan").await, 0);
    app.screenshot("112-script").await;
    app.click("#number-close").await;
    // 11414 is not for emergencies; TiB through the switchboard — on every button.
    app.click("[data-tab='contacts']").await;
    app.wait_text("[data-contact='police']", "11414 · ej akut")
        .await;
    app.wait_text("[data-contact='tib']", "016-103000 · via växeln")
        .await;
    app.click("[data-tab='plan']").await;
    app.click("[data-card='telefon']").await;
    app.wait_text(".card-calls [data-contact='police']", "ej akut")
        .await;
    // In English the card says it is a translation of the region's Swedish plan.
    app.click("#settings-btn").await;
    app.click("#lang-en").await;
    app.js("location.hash = '#/card/hotsituation'").await;
    app.wait_text(
        ".translation-note",
        "Translated for Värn from the region's Swedish plan",
    )
    .await;
    app.screenshot("card-en").await;
    app.quit().await;
}

/// The 112 call's line "Jag är på …" names only where the person is: at 20:00, tomorrow
/// morning's meeting is not it (its risk inventory is 12 h away, within the old ±12 h); a
/// place typed a moment ago is.
#[tokio::test]
async fn the_112_line_names_no_place_from_tomorrows_meeting() {
    let mut desk = Desktop::start("script-place");
    let app = desk.launch().await;
    app.click("[data-tab='meeting']").await;
    app.open_section("meeting-inventories").await;
    app.click("#new-inventory").await;
    app.wait_for("#inv-what")
        .await
        .send_keys("Morgonmöte")
        .await
        .unwrap();
    app.fill("#inv-where", "Stadshuset, Nyköping").await;
    let soon = chrono::Local::now() + chrono::Duration::hours(10);
    app.fill("#inv-when-date", &soon.format("%Y-%m-%d").to_string())
        .await;
    app.fill("#inv-when-time", &soon.format("%H:%M").to_string())
        .await;
    rate(&app, "hur", "low").await;
    app.wait_text("#save-status", "Sparat").await;

    app.click("#sos-112").await;
    app.wait_text("#number-huge", "112").await;
    app.wait_text("#script-own", "Jag är på …").await;
    let script = app
        .js("return document.getElementById('call-script').innerText")
        .await;
    assert!(
        !script.as_str().unwrap_or_default().contains("Stadshuset"),
        "tomorrow's place read out as where the person is: {script}"
    );
    // Advice from the plan is not under "Det här kan du säga".
    app.wait_text("#call-script-title", "Det här kan du säga")
        .await;
    app.screenshot("script-no-place").await;
    app.click("#number-close").await;

    app.click("[data-tab='meeting']").await;
    app.open_section("meeting-place").await;
    app.fill("#current-place", "Stora torget").await;
    app.click("#place-form button[type=submit]").await;
    app.wait_text("#place-form", "Sparat").await;
    app.click("#sos-112").await;
    app.wait_text("#script-own", "Jag är på Stora torget").await;
    app.quit().await;
}

/// The plan's "Egna anteckningar" page: a note the person keeps, saved as they type, still
/// there after a restart, and not in the database file as plain text (encrypted like the
/// rest).
#[tokio::test]
async fn own_notes_are_kept_encrypted_across_a_restart() {
    let mut desk = Desktop::start("own-notes");
    let app = desk.launch().await;
    app.click("[data-phase='after']").await;
    app.click("#egna-anteckningar summary").await;
    app.wait_text("#egna-anteckningar", "Egna anteckningar")
        .await;
    app.fill("#own-notes", "Kodord med partikansliet: lingon")
        .await;
    app.wait_text("#own-notes-status", "Sparat").await;
    app.screenshot("own-notes").await;
    app.quit().await;

    let app = desk.launch().await;
    app.click("[data-phase='after']").await;
    app.click("#egna-anteckningar summary").await;
    let kept = app
        .js("return document.getElementById('own-notes').value")
        .await;
    assert_eq!(kept, "Kodord med partikansliet: lingon");
    app.quit().await;
    for file in crate::harness::files_under(desk.data_dir.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(6).any(|w| w == b"lingon"),
            "{} holds the note in plain text",
            file.display()
        );
    }
}
