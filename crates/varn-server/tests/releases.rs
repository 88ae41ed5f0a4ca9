//! App updates from the region: `release add` refuses what the app would refuse, the feed
//! offers only a newer version for the device's platform, and the bundle a device downloads
//! is byte for byte the signed one. Runs on SQLite and, with `VARN_TEST_DATABASE=postgres`,
//! on PostgreSQL; the CLI test runs the built binary on SQLite.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;
use varn_core::wire::{UpdateOffer, BUNDLE_PATH_PREFIX, UPDATE_PATH};
use varn_server::releases::{publish, NewRelease, PublishError};
use varn_server::testkit::update_key::UpdateKey;
use varn_server::testkit::{http_client as client, TestServer};

/// A bundle and its signature written as `scripts/package` leaves them.
fn bundle(
    dir: &Path,
    key: &UpdateKey,
    name: &str,
    bytes: &[u8],
    version: Option<&str>,
) -> (PathBuf, PathBuf) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let sig = dir.join(format!("{name}.sig"));
    std::fs::write(&sig, key.sign(bytes, name, version)).unwrap();
    (path, sig)
}

fn release<'a>(b: &'a (PathBuf, PathBuf), notes: &str, key: &'a str) -> NewRelease<'a> {
    NewRelease {
        bundle: &b.0,
        signature: &b.1,
        notes: notes.into(),
        version: None,
        platform: None,
        update_key: key,
    }
}

fn update_url(base: &str, current: &str, bundle_type: &str) -> String {
    format!("{base}{UPDATE_PATH}?current_version={current}&target=linux&arch=x86_64&bundle_type={bundle_type}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_offered_the_newest_signed_release_for_its_platform_and_gets_its_exact_bytes() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = UpdateKey::generate();
    let public = key.public();
    let store = s.store.as_ref();
    let now = chrono::Utc::now();

    let new_deb: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let deb = bundle(
        dir.path(),
        &key,
        "Värn_0.2.0_amd64.deb",
        &new_deb,
        Some("0.2.0"),
    );
    let r = publish(store, release(&deb, "Rättelser i planen.", &public), now)
        .await
        .unwrap();
    assert_eq!(
        (r.version.as_str(), r.platform.as_str()),
        ("0.2.0", "linux-x86_64-deb")
    );
    // Published later but older: never offered over 0.2.0.
    let old = bundle(
        dir.path(),
        &key,
        "Värn_0.1.5_amd64.deb",
        b"old",
        Some("0.1.5"),
    );
    publish(store, release(&old, "Äldre.", &public), now)
        .await
        .unwrap();

    // What the app would refuse is refused here first.
    let again = publish(store, release(&deb, "Igen.", &public), now)
        .await
        .unwrap_err();
    assert!(matches!(again, PublishError::Exists { .. }), "{again}");
    let mut other_version = release(&deb, "Fel version.", &public);
    other_version.version = Some("0.3.0".into());
    let e = publish(store, other_version, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("bound to version 0.2.0, not 0.3.0"), "{e}");
    let unbound = bundle(dir.path(), &key, "Värn_0.4.0_amd64.deb", b"x", None);
    let e = publish(store, release(&unbound, "Utan version.", &public), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("--app-version"), "{e}");
    let exe = bundle(dir.path(), &key, "varn.exe", b"x", Some("0.5.0"));
    let e = publish(store, release(&exe, "Fel plattform.", &public), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("--platform"), "{e}");
    let mut empty_notes = release(&exe, " ", &public);
    empty_notes.platform = Some("linux-x86_64-deb".into());
    assert!(publish(store, empty_notes, now).await.is_err());
    // Signed with another key, or changed after signing: the app would refuse it, so the
    // region never publishes it.
    let stranger = UpdateKey::generate();
    let foreign = bundle(
        dir.path(),
        &stranger,
        "Värn_0.6.0_amd64.deb",
        b"y",
        Some("0.6.0"),
    );
    let e = publish(store, release(&foreign, "Främmande.", &public), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("does not verify with the app's update key"),
        "{e}"
    );
    let changed = bundle(
        dir.path(),
        &key,
        "Värn_0.7.0_amd64.deb",
        b"original",
        Some("0.7.0"),
    );
    std::fs::write(&changed.0, b"changed!").unwrap();
    let e = publish(store, release(&changed, "Ändrad.", &public), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not verify"), "{e}");
    let e = publish(
        store,
        release(&deb, "Trasig nyckel.", "inte en nyckel"),
        now,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("update key"), "{e}");

    let device = s.enroll("Anna").await;
    let base = s.url();
    let get = |url: String| client().get(url).bearer_auth(&device.token).send();

    let res = get(update_url(&base, "0.1.0", "deb")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let offer: UpdateOffer = res.json().await.unwrap();
    assert_eq!(offer.version, "0.2.0");
    assert_eq!(offer.notes, "Rättelser i planen.");
    let path = offer.url.split_once("://").unwrap().1;
    let path = &path[path.find('/').unwrap()..];
    assert_eq!(path, format!("{BUNDLE_PATH_PREFIX}0.2.0/linux-x86_64-deb"));
    assert_eq!(offer.signature, std::fs::read_to_string(&deb.1).unwrap());

    // The downloaded bytes are the signed ones (read twice: from the database, then memory).
    for _ in 0..2 {
        let res = get(format!("{base}{path}")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        assert_eq!(bytes.as_ref(), new_deb.as_slice());
        assert!(key.verifies(&bytes, &offer.signature));
        assert!(!UpdateKey::generate().verifies(&bytes, &offer.signature));
    }

    // Up to date, another platform, an unknown one: nothing to offer.
    for (current, kind) in [("0.2.0", "deb"), ("0.1.0", "rpm"), ("0.1.0", "unknown")] {
        let res = get(update_url(&base, current, kind)).await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{current} {kind}");
    }
    // Bad queries get problem+json; no token, no feed and no bundle.
    for bad in [
        update_url(&base, "latest", "deb"),
        update_url(&base, "0.1.0", "../deb"),
        format!("{base}{UPDATE_PATH}?current_version=0.1.0"),
    ] {
        let res = get(bad.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    for url in [update_url(&base, "0.1.0", "deb"), format!("{base}{path}")] {
        let res = client().get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{url}");
    }
    // A device gets a few bundles a day (two taken above): then 429 with the wait.
    for _ in 2..10 {
        assert_eq!(
            get(format!("{base}{path}")).await.unwrap().status(),
            StatusCode::OK
        );
    }
    let res = get(format!("{base}{path}")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("app bundle downloads"),
        "{problem}"
    );
    // Another device is not held back by it.
    let other = s.enroll("Bo").await;
    let res = client()
        .get(format!("{base}{path}"))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(format!("{base}{BUNDLE_PATH_PREFIX}9.9.9/linux-x86_64-deb"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let problem: Value = res.json().await.unwrap();
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("no such release"));
}

#[test]
fn the_cli_publishes_and_lists_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let key = UpdateKey::generate();
    let deb = bundle(
        dir.path(),
        &key,
        "Värn_0.2.0_amd64.deb",
        b"bundle bytes",
        Some("0.2.0"),
    );
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_varn-server"))
            .env_remove("VARN_SERVER_DATABASE")
            .env_remove("VARN_SERVER_CONFIG")
            .args(args)
            .arg("--database")
            .arg(&db)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (b, s) = (deb.0.to_str().unwrap(), deb.1.to_str().unwrap());
    let public = dir.path().join("varn-update.key.pub");
    std::fs::write(&public, key.public()).unwrap();
    let add = [
        "release",
        "add",
        "--bundle",
        b,
        "--signature",
        s,
        "--notes",
        "Nytt.",
        "--update-key",
        public.to_str().unwrap(),
    ];
    // Without the key there is nothing to verify against: refused, saying why.
    let (ok, _, err) = run(&add[..8]);
    assert!(!ok && err.contains("--update-key"), "{err}");
    // Another key's public half: the signature does not verify.
    let stranger = dir.path().join("stranger.pub");
    std::fs::write(&stranger, UpdateKey::generate().public()).unwrap();
    let mut wrong = add;
    wrong[9] = stranger.to_str().unwrap();
    let (ok, _, err) = run(&wrong);
    assert!(!ok && err.contains("does not verify"), "{err}");
    let (ok, _, err) = run(&add);
    assert!(ok, "{err}");
    assert!(
        err.contains("Published version 0.2.0 for linux-x86_64-deb"),
        "{err}"
    );
    let (ok, _, err) = run(&add);
    assert!(!ok);
    assert!(err.contains("never replaced"), "{err}");
    let (ok, out, err) = run(&["release", "list"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("0.2.0\tlinux-x86_64-deb\t12 bytes\t"),
        "{out}"
    );
}

/// The description's update parameters are the names the server takes, and no other.
#[test]
fn the_documented_update_parameters_are_the_servers() {
    let doc: Value =
        serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON");
    let params = doc["paths"][UPDATE_PATH]["get"]["parameters"]
        .as_array()
        .expect("the update route's parameters");
    let documented = |name: &str| -> Vec<String> {
        params
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["schema"]["enum"].as_array())
            .unwrap_or_else(|| panic!("{name} is an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    use varn_core::update::{ARCHES, BUNDLE_TYPES, TARGETS};
    assert_eq!(documented("target"), TARGETS);
    assert_eq!(documented("arch"), ARCHES);
    assert_eq!(documented("bundle_type"), BUNDLE_TYPES);
    let bundles = format!("{BUNDLE_PATH_PREFIX}{{version}}/{{platform}}");
    assert!(
        doc["paths"][&bundles].is_object(),
        "{bundles} is documented"
    );
}
