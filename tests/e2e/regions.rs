//! A second region runs Värn without a code change: one server hosts Sörmland and the test
//! region "exempel" (its profile signed with its own key); the app linked to "exempel" shows
//! the key's fingerprint to compare with the region's letter, and once confirmed shows that
//! region's plan, numbers, scripts and report name. A newer profile's changed number is shown
//! once before it is called; a Sörmland profile is refused by the app of "exempel".

use std::sync::Arc;

use varn_core::profile::Profile;
use varn_server::clock::SystemClock;
use varn_server::testkit::{
    embedded_unsigned, example_region_profile, signed_for_tests, test_region_key, TestServer,
};

use crate::alarm::enroll;
use crate::harness::{App, Desktop};

/// Closes the dialog that shows a number large.
async fn close_number(app: &App) {
    app.click("#number-close").await;
    while app.count(".dialog").await > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_second_region_runs_on_its_own_signed_profile_once_the_person_confirms_its_key() {
    let exempel = example_region_profile();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_serving(
        dir.path().join("server.db"),
        Arc::new(SystemClock),
        None,
        vec![embedded_unsigned(), signed_for_tests(&exempel)],
    )
    .await;
    let code = server.enrollment_code_in("exempel", "Eva Exempel").await;
    let mut desk = Desktop::start("second-region");
    let app = desk.launch().await;
    enroll(&app, &server.url(), &code).await;

    // The key came with the link, but nothing of the region's is used before the person has
    // compared its fingerprint with the region's letter.
    app.wait_text("#key-banner", "Bekräfta regionens nyckel (exempel)")
        .await;
    assert_eq!(app.count("[data-card='ex-hot']").await, 0);
    app.click("#key-banner a").await;
    app.wait_for("#key-check").await;
    let shown = app
        .js("return document.getElementById('key-fingerprint').textContent")
        .await;
    assert_eq!(
        shown.as_str(),
        Some(test_region_key("exempel").public().fingerprint().as_str())
    );
    app.screenshot("key-compare").await;
    app.click("#key-confirm").await;
    app.wait_text("#key-confirmed", "bekräftad").await;
    // Fetched again at once: the region's own profile.
    app.wait_text("#profile-info", "Exempelregionen (testdata)")
        .await;
    assert_eq!(app.count("#key-banner").await, 0);

    // Its plan, its numbers and its card's script for the call.
    app.click("[data-tab='plan']").await;
    app.click("[data-card='ex-hot']").await;
    app.wait_text("#card-title", "Testdata: vid hot").await;
    app.click("#ex-hot [data-contact='ex-vakt']").await;
    app.wait_text("#number-huge", "070-174 06 05").await;
    app.wait_text(
        "#call-script",
        "Testdata: säg att det är hot i Exempelhuset",
    )
    .await;
    app.screenshot("second-region-card").await;
    close_number(&app).await;
    // 112 is 112, and the region's help for the call is marked as Värn's, not the plan's.
    app.click("#sos-112").await;
    app.wait_text("#number-huge", "112").await;
    app.wait_text("#script-own", "Värns stöd – inte ur regionens plan")
        .await;
    app.wait_text("#script-own", "Eva Exempel i Exempelregionen (testdata)")
        .await;
    close_number(&app).await;
    // 11414 says it is not for emergencies; the region's roles are offered for own contacts.
    app.click("[data-tab='contacts']").await;
    app.wait_text("[data-contact='ex-polis']", "ej akut").await;
    app.click("#add-contact").await;
    app.click("#role-suggestions [data-role='Gruppledare']")
        .await;
    let typed = app
        .js("return document.getElementById('own-name').value")
        .await;
    assert_eq!(typed.as_str(), Some("Gruppledare "));
    // The region's name for the report.
    app.click("[data-tab='reports']").await;
    app.click("#new-incident").await;
    app.wait_text("#incident-title", "Avvikelserapport").await;

    // The region publishes a newer profile with another number for its guards: the person
    // sees the change once, before the new number is called.
    let mut newer = exempel.clone();
    newer.version += 1;
    newer
        .contacts
        .iter_mut()
        .find(|c| c.id == "ex-vakt")
        .unwrap()
        .number = Some("070-174 06 08".into());
    server.publish(&signed_for_tests(&newer)).await.unwrap();
    app.quit().await;
    let app = desk.launch().await; // the profile is checked at start
    app.click("[data-tab='contacts']").await;
    app.wait_text("[data-contact='ex-vakt']", "070-174 06 08")
        .await;
    app.click("[data-contact='ex-vakt']").await;
    app.wait_text(
        "#notice-title",
        "Numret till Testdata: vaktbolag har ändrats",
    )
    .await;
    app.wait_text("#notice-old", "070-174 06 05").await;
    app.wait_text("#notice-new", "070-174 06 08").await;
    app.screenshot("number-changed").await;
    app.click("#notice-call").await;
    app.wait_text("#number-huge", "070-174 06 08").await;
    close_number(&app).await;
    app.click("[data-contact='ex-vakt']").await;
    app.wait_text("#number-huge", "070-174 06 08").await;
    assert_eq!(app.count("#notice-title").await, 0, "shown once");
    close_number(&app).await;
    app.quit().await;

    // A Sörmland profile — even one signed with a key this build trusts for Sörmland — is
    // refused by the app of "exempel", and the region's own stays.
    desk.trust_test_key("sormland");
    let mut sormland = Profile::embedded_default().unwrap();
    sormland.version += 1;
    std::fs::write(
        desk.data_dir.path().join("region-profile.json"),
        signed_for_tests(&sormland).to_json(),
    )
    .unwrap();
    let app = desk.launch().await;
    app.wait_text("#banner", "gäller en annan region").await;
    app.wait_for("[data-card='ex-hot']").await;
    app.screenshot("other-region-refused").await;
    app.quit().await;
}
