//! Officers sign in to the dashboard with the region's own identity provider, in a real
//! browser (headless Chromium) against a real, certified OpenID provider (oidc-provider): the
//! button, the provider's form, back to the dashboard; a läsare sees no button to act with;
//! a refusal is said in Swedish.

use std::sync::Arc;

use fantoccini::Locator;
use serde_json::json;
use varn_server::clock::SystemClock;
use varn_server::testkit::oidc::{TestProvider, HANDLERS, MFA, READERS};
use varn_server::testkit::TestServer;

use crate::dashboard::wait_text;
use crate::harness::Browser;

/// Visible elements matching `css`.
async fn shown(b: &Browser, css: &str) -> u64 {
    let script = format!(
        "return [...document.querySelectorAll({css:?})].filter((e) => e.offsetParent !== null).length;"
    );
    b.client
        .execute(&script, vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

async fn sign_in(b: &Browser, server: &str, account: &str) {
    b.client.goto(&format!("{server}/dashboard")).await.unwrap();
    // Another person at this browser: the provider's own session (a cookie for the same
    // host, 127.0.0.1) is forgotten, as when one officer hands over to the next.
    b.client.delete_all_cookies().await.unwrap();
    b.client.goto(&format!("{server}/dashboard")).await.unwrap();
    wait_text(b, "#oidc-sormland", "Logga in med regionens konto").await;
    b.wait_for("#oidc-sormland").await.click().await.unwrap();
    b.wait_for("#login").await.send_keys(account).await.unwrap();
    b.wait_for("#sign-in").await.click().await.unwrap();
}

#[tokio::test]
async fn an_officer_signs_in_with_the_regions_account_and_a_reader_sees_no_buttons_to_act() {
    let provider = TestProvider::start().await;
    let server =
        TestServer::start_with_oidc(vec![provider.region("sormland")], Arc::new(SystemClock)).await;
    provider.redirect_to(&server.url()).await;
    provider
        .account("lars", "Lars Läsare", &[READERS], MFA)
        .await;
    provider
        .account("hanna", "Hanna Handläggare", &[HANDLERS], MFA)
        .await;
    provider
        .account("nils", "Nils", &["another-group"], MFA)
        .await;
    let device = server.enroll("Anna Andersson").await;
    server
        .raise(&device, json!({ "triggered_at": chrono::Utc::now(), "meeting": "Fullmäktige", "place": "Stadshuset", "message": "" }))
        .await;

    let b = Browser::start("signin").await;
    b.client
        .goto(&format!("{}/dashboard", server.url()))
        .await
        .unwrap();
    wait_text(&b, "#oidc-sormland", "Logga in med regionens konto").await;
    // The region keeps only its break-glass account: the form says so and asks for the code.
    wait_text(&b, "#login-form", "Nödkonto").await;
    b.wait_for("#code").await;
    b.screenshot("login").await;

    // In no group of the region's: back at the login, told why, nobody signed in.
    sign_in(&b, &server.url(), "nils").await;
    wait_text(&b, "#provider-error", "ger inte behörighet").await;
    b.screenshot("no-group").await;

    // A läsare: the alarm, no acknowledge button, no message field, no export.
    sign_in(&b, &server.url(), "lars").await;
    wait_text(&b, "#alarm-list", "Anna Andersson").await;
    wait_text(&b, "#role", "läsare").await;
    wait_text(&b, "#reader-note", "kan inte kvittera").await;
    assert_eq!(
        shown(&b, ".ack").await,
        0,
        "a läsare has no acknowledge button"
    );
    assert_eq!(shown(&b, ".msg-field").await, 0);
    b.screenshot("reader").await;
    b.wait_for("#logout").await.click().await.unwrap();
    b.wait_for("#oidc-sormland").await;

    // A handläggare acknowledges with one click.
    sign_in(&b, &server.url(), "hanna").await;
    wait_text(&b, "#role", "handläggare").await;
    b.wait_for(".ack").await.click().await.unwrap();
    wait_text(&b, "#alarm-list", "Kvitterat av Hanna Handläggare").await;
    b.screenshot("handler").await;
    assert!(b.client.find(Locator::Css("#reader-note")).await.is_err());
    let text = b
        .client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("null") && !text.contains("undefined"),
        "{text}"
    );
    b.quit().await;
}
