//! Serving: TLS with a real certificate, the refusal of plain HTTP on a public address, the
//! CLI (enroll, officer add, devices, revoke), and logs free of personal data and secrets.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;
use varn_server::clock::SystemClock;
use varn_server::server::{self, Parts};
use varn_server::store::sqlite::SqliteStore;
use varn_server::testkit::TestServer;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_varn-server"));
    c.env_remove("VARN_SERVER_DATABASE")
        .env_remove("VARN_SERVER_BIND")
        .env_remove("VARN_SERVER_CONFIG");
    c
}

#[tokio::test]
async fn serves_tls_with_a_pem_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &key_pem).unwrap();
    let tls = server::tls_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem"))
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("s.db")).unwrap());
    let running = server::start(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        Parts {
            store,
            clock: Arc::new(SystemClock),
            profiles: vec![varn_server::testkit::embedded_unsigned()],
            escalation: Default::default(),
            limits: Default::default(),
            secret: varn_server::testkit::test_secret(),
            retention: Default::default(),
            centres: Vec::new(),
            front: Default::default(),
            oidc: Vec::new(),
        },
        Some(tls),
    )
    .await
    .unwrap();
    assert!(running.url().starts_with("https://"));
    let store = running.state.store();
    let officer = varn_server::store::Officer {
        id: Uuid::now_v7(),
        region_id: "sormland".into(),
        username: "hanna".into(),
        display_name: "Hanna".into(),
        password_hash: varn_server::auth::hash_password(varn_server::testkit::OFFICER_PASSWORD)
            .unwrap(),
        disabled_at: None,
        role: varn_server::store::OfficerRole::Handler,
        subject: None,
        totp: None,
    };
    store.create_officer(&officer, Utc::now()).await.unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .resolve("localhost", running.addr)
        .build()
        .unwrap();
    let res = client
        .get(format!("https://localhost:{}/health", running.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.version(),
        reqwest::Version::HTTP_11,
        "HTTP/2 is not offered"
    );
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000",
        "HSTS over TLS"
    );
    // The session cookie is a __Host- cookie: Secure, this host only, every path.
    let res = client
        .post(format!(
            "https://localhost:{}/dashboard/api/login",
            running.addr.port()
        ))
        .json(&json!({ "username": "hanna", "password": varn_server::testkit::OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-varn_session=")
            && cookie.contains("Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("__Host-varn_session=")
        .to_string();
    let me = |name: &'static str| {
        let (client, token) = (client.clone(), token.clone());
        let url = format!("https://localhost:{}/dashboard/api/me", running.addr.port());
        async move {
            client
                .get(url)
                .header("cookie", format!("{name}={token}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me("__Host-varn_session").await, 200);
    assert_eq!(
        me("varn_session").await,
        401,
        "over TLS only the __Host- cookie opens a session"
    );

    // Plain HTTP to the TLS port gets nothing useful.
    let plain = reqwest::get(format!("http://{}/health", running.addr)).await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    running.stop().await.unwrap();
}

/// HTTP/2 with prior knowledge (its connection preface on a plain connection) is not
/// spoken: the connection is answered as a bad HTTP/1.1 request and closed.
#[tokio::test]
async fn http2_is_not_offered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start().await;
    let mut c = tokio::net::TcpStream::connect(s.running.addr)
        .await
        .unwrap();
    c.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        out.is_empty() || text.starts_with("HTTP/1.1 4"),
        "no HTTP/2 answer: {text}"
    );
}

#[test]
fn a_missing_certificate_is_reported_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
            "--database",
        ])
        .arg(dir.path().join("s.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}

#[test]
fn plain_http_on_a_public_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["serve", "--bind", "0.0.0.0:0", "--database"])
        .arg(dir.path().join("s.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve plain HTTP") && err.contains("--insecure-dev"),
        "{err}"
    );
}

#[test]
fn insecure_dev_warns_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let child = bin()
        .args([
            "serve",
            "--bind",
            "0.0.0.0:0",
            "--insecure-dev",
            "--database",
        ])
        .arg(dir.path().join("s.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INSECURE"), "{err}");
    assert!(out.status.success(), "SIGTERM shuts down cleanly: {err}");
}

#[test]
fn cli_enrolls_adds_officers_lists_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let out = bin()
        .args([
            "enroll",
            "--name",
            "Åsa Öberg",
            "--role",
            "förtroendevald",
            "--database",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(code.len(), 9, "a short typeable code: {code}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("valid until"));

    let out = bin()
        .args(["enroll", "--name", "X", "--role", "admin", "--database"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));

    // An officer with a password from stdin; a short one is refused.
    let mut child = bin()
        .args([
            "officer",
            "add",
            "--username",
            "hanna",
            "--name",
            "Hanna H",
            "--password-stdin",
            "--database",
        ])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ett mycket hemligt losenord\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "a given password is not printed");
    let out = bin()
        .args([
            "officer",
            "add",
            "--username",
            "hanna",
            "--name",
            "Again",
            "--database",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "usernames are unique");
    let out = bin()
        .args([
            "officer",
            "add",
            "--username",
            "olle",
            "--name",
            "Olle",
            "--database",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim().len(),
        20,
        "a generated password, shown once"
    );

    // Officers are disabled, enabled, given a new password and removed by username.
    let officer = |args: &[&str]| {
        let out = bin()
            .arg("officer")
            .args(args)
            .arg("--database")
            .arg(&db)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, list, _) = officer(&["list"]);
    assert!(
        ok && list.contains("hanna") && list.contains("active"),
        "{list}"
    );
    let (ok, _, said) = officer(&["disable", "--username", "hanna"]);
    assert!(ok && said.contains("logged out"), "{said}");
    let (_, list, _) = officer(&["list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("hanna") && l.contains("disabled")),
        "{list}"
    );
    let (ok, _, _) = officer(&["enable", "--username", "hanna"]);
    assert!(ok);
    let (ok, password, _) = officer(&["passwd", "--username", "hanna"]);
    assert!(
        ok && password.trim().len() == 20,
        "a new generated password, shown once"
    );
    let (ok, _, _) = officer(&["remove", "--username", "olle"]);
    assert!(ok);
    let (_, list, _) = officer(&["list"]);
    assert!(!list.contains("olle"), "{list}");
    let (ok, _, said) = officer(&["disable", "--username", "nobody"]);
    assert!(!ok && said.contains("no officer"), "{said}");

    // The code is stored under the server's secret, made beside the database on first use
    // and readable by the server's user only.
    let secret_file = dir.path().join("s.db.secret");
    let secret = varn_server::auth::ServerSecret::load_or_create(&secret_file, false).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Redeem the code through the API, then list and revoke.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let device_id = rt.block_on(async {
        let store: Arc<dyn varn_server::store::Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let d = store
            .enroll(
                &[secret.code_hash(&varn_core::wire::normalize_code(&code))],
                &varn_server::auth::hash_secret("token"),
                Uuid::now_v7(),
                Utc::now(),
            )
            .await
            .unwrap();
        d.id
    });
    let out = bin()
        .args(["devices", "--database"])
        .arg(&db)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        list.contains(&device_id.to_string())
            && list.contains("Åsa Öberg")
            && list.contains("active"),
        "{list}"
    );
    let out = bin()
        .args(["revoke", "--device", &device_id.to_string(), "--database"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = bin()
        .args(["revoke", "--device", &device_id.to_string(), "--database"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "revoking twice says so");
    let out = bin()
        .args(["devices", "--database"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked"));
}

/// A writer that keeps what the server logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_hold_no_names_places_or_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = TestServer::start().await;
    let code = s.enrollment_code("Hemliga Hjördis").await;
    let c = reqwest::Client::new();
    let e: varn_core::wire::EnrollResponse = c
        .post(format!("{}/v1/enroll", s.url()))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = Uuid::now_v7();
    c.put(format!("{}/v1/alarms/{id}", s.url()))
        .bearer_auth(&e.token)
        .json(&json!({ "triggered_at": Utc::now(), "place": "Lönngatan 7", "meeting": "Hemligt möte", "message": "hjälp" }))
        .send()
        .await
        .unwrap();
    c.get(format!("{}/v1/me", s.url()))
        .bearer_auth("fel-token-12345")
        .send()
        .await
        .unwrap();
    // A plain cancel and a cancel under duress leave the same line: the log is no place to
    // learn who is under duress.
    let forced = Uuid::now_v7();
    c.put(format!("{}/v1/alarms/{forced}", s.url()))
        .bearer_auth(&e.token)
        .json(&json!({ "triggered_at": Utc::now() }))
        .send()
        .await
        .unwrap();
    for (alarm, duress) in [(id, false), (forced, true)] {
        let res = c
            .post(format!("{}/v1/alarms/{alarm}/cancel", s.url()))
            .bearer_auth(&e.token)
            .json(&json!({ "cancelled_at": Utc::now(), "reason": "Falsklarm", "duress": duress }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    s.stop().await;
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    assert!(
        logs.contains("alarm received"),
        "the test saw the logs:\n{logs}"
    );
    let line_of = |alarm: Uuid| -> String {
        logs.lines()
            .find(|l| l.contains(&alarm.to_string()) && l.contains("cancel"))
            .map(|l| {
                // Without the time and the id, the lines must be the same.
                let rest = l
                    .split_once("INFO")
                    .or_else(|| l.split_once("WARN"))
                    .map(|(_, rest)| rest.replace(&alarm.to_string(), "ID"))
                    .unwrap_or_else(|| panic!("a line with a level: {l}"));
                assert!(rest.contains("cancel"), "{rest}");
                rest
            })
            .unwrap_or_else(|| panic!("no cancel line for {alarm}:\n{logs}"))
    };
    assert_eq!(
        line_of(id),
        line_of(forced),
        "duress and plain cancels log alike"
    );
    assert!(
        !logs.to_lowercase().contains("duress") && !logs.contains("held open"),
        "{logs}"
    );
    for secret in [
        "Hjördis",
        "Lönngatan",
        "Hemligt möte",
        e.token.as_str(),
        "fel-token-12345",
        code.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "{secret:?} appears in the logs:\n{logs}"
        );
    }
}

/// Runs `varn-server profile ARGS`; (success, stdout, stderr).
fn profile_cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (bool, String, String) {
    let out = bin().arg("profile").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A new region from the template to a published profile, as the README's "Making your
/// region's profile" does it: check (errors name the field), keygen, sign, check the signed
/// file, publish; then a newer one signed with another key, or not newer, is refused, and
/// one signed with a rotation from the region's key is published. The server serves the
/// published profile.
#[tokio::test]
async fn cli_takes_a_region_from_its_profile_to_a_signed_published_one() {
    use std::path::{Path, PathBuf};
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let db = p("s.db");
    // The region's profile at `version`, written as `name`.
    let write = |name: &str, version: u32| -> PathBuf {
        let text = varn_server::testkit::EXAMPLE_REGION_TOML.replacen(
            "version = 1",
            &format!("version = {version}"),
            1,
        );
        std::fs::write(p(name), text).unwrap();
        p(name)
    };
    let check = |file: &Path| profile_cli(&[OsStr::new("check"), file.as_os_str()]);
    let keygen =
        |out: &Path| profile_cli(&[OsStr::new("keygen"), OsStr::new("--out"), out.as_os_str()]);
    let sign = |file: &Path, key: &Path, rotate_from: Option<&Path>| {
        let mut args = vec![
            OsStr::new("sign"),
            file.as_os_str(),
            OsStr::new("--key"),
            key.as_os_str(),
        ];
        if let Some(old) = rotate_from {
            args.extend([OsStr::new("--rotate-from"), old.as_os_str()]);
        }
        let (ok, _, err) = profile_cli(&args);
        assert!(ok, "{err}");
        file.with_extension("signed.json")
    };
    let toml = write("region.toml", 1);

    // A mistake names its field; 112 is not data.
    let broken = p("broken.toml");
    std::fs::write(
        &broken,
        varn_server::testkit::EXAMPLE_REGION_TOML.replacen(
            "number = \"112\"",
            "number = \"113\"",
            1,
        ),
    )
    .unwrap();
    let (ok, _, err) = check(&broken);
    assert!(!ok);
    assert!(
        err.contains("contacts[0].number") && err.contains("112"),
        "{err}"
    );
    let (ok, out, err) = check(&toml);
    assert!(ok, "{err}");
    assert!(
        out.contains("region exempel") && out.contains("not signed"),
        "{out}"
    );

    // The region's key: the secret half in a file only its owner reads, never overwritten.
    let key = p("exempel.key");
    let (ok, public, err) = keygen(&key);
    assert!(ok, "{err}");
    let public = varn_core::signing::PublicKey::parse(public.trim()).unwrap();
    assert!(err.contains(&public.fingerprint()), "{err}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!keygen(&key).0, "an existing key is never overwritten");

    // Signed, and the check says by which key.
    let signed = sign(&toml, &key, None);
    let (ok, out, _) = check(&signed);
    assert!(ok && out.contains(&public.fingerprint()), "{out}");

    // The server starts with it; a newer version is published for every instance.
    let publish = |file: &Path| {
        profile_cli(&[
            OsStr::new("publish"),
            file.as_os_str(),
            OsStr::new("--profile"),
            signed.as_os_str(),
            OsStr::new("--database"),
            db.as_os_str(),
        ])
    };
    let v2 = sign(&write("v2.toml", 2), &key, None);
    let (ok, _, err) = publish(&v2);
    assert!(ok && err.contains("version 2"), "{err}");
    let (ok, _, err) = publish(&v2);
    assert!(!ok && err.contains("not newer"), "{err}");

    // Another key (someone who got at the server, not at the region's key) is refused…
    let other = p("other.key");
    assert!(keygen(&other).0);
    let v3 = write("v3.toml", 3);
    let (ok, _, err) = publish(&sign(&v3, &other, None));
    assert!(!ok && err.contains("refused"), "{err}");
    // …unless the region rotates to it with its old key.
    let (ok, _, err) = publish(&sign(&v3, &other, Some(&key)));
    assert!(ok, "{err}");

    // A server on that database serves version 3 (signed with the new key, carrying the
    // rotation), and the key comes with every enrollment.
    let s = TestServer::start_serving(
        db.clone(),
        Arc::new(SystemClock),
        None,
        vec![varn_core::signing::SignedProfile::read_any(
            &std::fs::read_to_string(&signed).unwrap(),
        )
        .unwrap()],
    )
    .await;
    let res = varn_server::testkit::http_client()
        .get(format!("{}/v1/profile", s.url()))
        .bearer_auth(&s.enroll_in("exempel", "Eva").await.token)
        .send()
        .await
        .unwrap();
    let served = varn_core::signing::SignedProfile::parse(&res.text().await.unwrap()).unwrap();
    assert_eq!(served.profile().unwrap().version, 3);
    assert_eq!(served.rotations.len(), 1);
    let enrolled = s.enroll_in("exempel", "Erik").await;
    let new_key = served.verified_key().unwrap();
    assert_eq!(
        enrolled.profile_key.as_deref(),
        Some(new_key.encode().as_str())
    );
    s.stop().await;
}

/// `varn-server` with `args`, its success and its stderr.
fn cli(args: &[&OsStr]) -> (bool, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `varn-server --database DB backup --to TO`.
fn backup_cli(db: &std::path::Path, to: &std::path::Path) -> (bool, String) {
    cli(&[
        "--database".as_ref(),
        db.as_os_str(),
        "backup".as_ref(),
        "--to".as_ref(),
        to.as_os_str(),
    ])
}

/// `varn-server --database TO restore --from FROM [--replace]`.
fn restore_cli(from: &std::path::Path, to: &std::path::Path, replace: bool) -> (bool, String) {
    let mut args: Vec<&OsStr> = vec![
        "--database".as_ref(),
        to.as_os_str(),
        "restore".as_ref(),
        "--from".as_ref(),
        from.as_os_str(),
    ];
    if replace {
        args.push("--replace".as_ref());
    }
    cli(&args)
}

/// A backup taken while the server takes alarms and reports, restored into a new database
/// under a new server: every alarm, report and attachment there at the backup, none from
/// after it, and the device still linked; each refusal says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_every_alarm_report_and_attachment() {
    use sha2::{Digest, Sha256};
    use varn_server::limits::Limits;
    use varn_server::store::backup;
    use varn_server::testkit::{embedded_unsigned, http_client};

    let dir = tempfile::tempdir().unwrap();
    let (db, copy, restored) = (
        dir.path().join("server.db"),
        dir.path().join("backup.db"),
        dir.path().join("restored.db"),
    );
    let start = |db: std::path::PathBuf| {
        TestServer::start_limited(
            db,
            Arc::new(SystemClock),
            None,
            vec![embedded_unsigned()],
            Limits::default(),
        )
    };
    let server = start(db.clone()).await;
    let device = server.enroll("Anna Andersson").await;
    let mut alarms = Vec::new();
    for place in ["Torget", "Stadshuset", "Biblioteket"] {
        alarms.push(
            server
                .raise(
                    &device,
                    json!({ "triggered_at": Utc::now(), "place": place }),
                )
                .await,
        );
    }
    let c = http_client();
    let reports = [Uuid::now_v7(), Uuid::now_v7()];
    for (i, id) in reports.iter().enumerate() {
        let res = c
            .put(format!("{}/v1/reports/{id}", server.url()))
            .bearer_auth(&device.token)
            .json(&json!({ "revision": 1, "report": { "during": format!("Händelse {i}") } }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let attachment = Uuid::now_v7();
    let meta = json!({ "filename": "hot.jpg", "content_type": "image/jpeg",
        "size": photo.len(), "sha256": hex::encode(Sha256::digest(&photo)) });
    let res = c
        .put(format!(
            "{}/v1/reports/{}/attachments/{attachment}",
            server.url(),
            reports[0]
        ))
        .bearer_auth(&device.token)
        .json(&meta)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let res = c
        .patch(format!("{}/v1/attachments/{attachment}", server.url()))
        .bearer_auth(&device.token)
        .header("upload-offset", "0")
        .header("content-type", "application/octet-stream")
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // The backup, while the server runs.
    let (ok, said) = backup_cli(&db, &copy);
    assert!(ok, "{said}");
    assert!(
        said.contains("3 alarms, 2 reports, 1 attachments, 1 devices"),
        "{said}"
    );
    assert!(
        said.contains("server.db.secret"),
        "says to keep the secret: {said}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the backup is the server's user's only");
    }
    let after = server
        .raise(&device, json!({ "triggered_at": Utc::now() }))
        .await;
    let (ok, said) = backup_cli(&db, &copy);
    assert!(!ok && said.contains("exists already"), "{said}");
    // Restoring over a database in use is refused.
    let (ok, said) = restore_cli(&copy, &db, true);
    assert!(!ok && said.contains("Stop the server first"), "{said}");
    server.stop().await;

    // Restored into a new place, it is the database at the backup.
    let (ok, said) = restore_cli(&copy, &restored, false);
    assert!(
        ok && said.contains("3 alarms, 2 reports, 1 attachments"),
        "{said}"
    );
    for side in ["restored.db-wal", "restored.db-shm", "restored.db.partial"] {
        assert!(
            !dir.path().join(side).exists(),
            "{side} left by the restore"
        );
    }
    let (ok, said) = restore_cli(&copy, &restored, false);
    assert!(!ok && said.contains("--replace"), "{said}");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just some bytes of text").unwrap();
    let (ok, said) = restore_cli(&junk, &dir.path().join("other.db"), false);
    assert!(!ok && said.contains("junk.db"), "{said}");
    assert!(
        !dir.path().join("other.db").exists(),
        "nothing made from junk"
    );

    let back = start(restored.clone()).await;
    // The restore is in the restored database's audit log, with what it came from.
    let log = back
        .store
        .audit_log(&varn_server::store::AuditQuery {
            region_id: Some(String::new()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0].action, "restore_database");
    assert!(
        log[0].item_id.contains("backup.db (3 alarms"),
        "{:?}",
        log[0]
    );
    let mut stored: Vec<Uuid> = back
        .store
        .alarms("sormland", 100)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    stored.sort();
    alarms.sort();
    assert_eq!(stored, alarms, "every alarm at the backup, none after it");
    assert!(!stored.contains(&after));
    for id in reports {
        let res = c
            .get(format!("{}/v1/reports/{id}", back.url()))
            .bearer_auth(&device.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "report {id} with the device's own token");
    }
    assert_eq!(back.attachment_bytes("sormland", attachment).await, photo);
    back.stop().await;
    // The server itself says so when it starts: in its log, which is the journal under
    // systemd.
    let mut process = varn_server::testkit::process::ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_varn-server")),
        restored.to_str(),
    );
    let said = |log: &[String]| {
        log.iter().any(|l| {
            l.contains("WARN") && l.contains("restored from a backup") && l.contains("backup.db")
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !said(&process.log()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(said(&process.log()), "{:#?}", process.log());
    process.stop();

    // Over an existing database no server has open, with --replace: the old one kept beside
    // it. (This process's stopped servers may keep their files open a while: their
    // background tasks end with the runtime, as a real server's end with its process.)
    let third = dir.path().join("third.db");
    let (ok, said) = restore_cli(&copy, &third, false);
    assert!(ok, "{said}");
    let (ok, said) = restore_cli(&copy, &third, true);
    assert!(ok && said.contains("kept as"), "{said}");
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("third.db.replaced-")
        })
        .count();
    assert_eq!(kept, 1);
    assert!(backup::check(&third).is_ok());

    // PostgreSQL: pg_dump, said plainly.
    let (ok, said) = cli(&[
        "--database".as_ref(),
        "postgres://varn@localhost/varn".as_ref(),
        "backup".as_ref(),
        "--to".as_ref(),
        copy.as_os_str(),
    ]);
    assert!(!ok && said.contains("pg_dump"), "{said}");
}

/// The built server stopped as systemd stops it (SIGTERM) after taking alarms leaves only its
/// database file, the WAL folded in, so that a restore can replace it at once (a left-over
/// `-wal` made `restore` refuse as if the server still ran). Without the explicit close the
/// file was left by a race with the process's exit (one stop in three, release build), so
/// the stop is repeated.
#[tokio::test]
async fn a_stopped_server_leaves_one_file_that_a_restore_can_replace() {
    use varn_server::testkit::process::ServerProcess;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_varn-server"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let client = varn_server::testkit::http_client();
    for round in 1..=4 {
        let mut s = ServerProcess::start(bin, Some(db.to_str().unwrap()));
        let device = s.enroll_device("Anna Andersson").await;
        for _ in 0..3 {
            let res = client
                .put(format!("{}/v1/alarms/{}", s.url, Uuid::now_v7()))
                .bearer_auth(&device.token)
                .json(&json!({ "triggered_at": Utc::now(), "place": "Stadshuset" }))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
        }
        let copy = dir.path().join(format!("backup-{round}.db"));
        let (ok, said) = backup_cli(&db, &copy);
        assert!(ok, "{said}");
        assert!(s.stop(), "SIGTERM stops it cleanly");
        for side in ["server.db-wal", "server.db-shm"] {
            assert!(
                !dir.path().join(side).exists(),
                "{side} left after stop {round}"
            );
        }
    }
    let copy = dir.path().join("backup-2.db");
    let (ok, said) = restore_cli(&copy, &db, true);
    assert!(ok && said.contains("6 alarms"), "{said}");
}

/// `varn-server audit` prints who read what in a period, from the database, oldest first;
/// `varn-server purge` refuses without `[retention]` and runs with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_and_the_purge_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let s = TestServer::start_at(db.clone(), Arc::new(SystemClock), None).await;
    let anna = s.enroll("Anna").await;
    let report = Uuid::now_v7();
    let res = varn_server::testkit::http_client()
        .put(format!("{}/v1/reports/{report}", s.url()))
        .bearer_auth(&anna.token)
        .json(&json!({ "revision": 1, "report": { "during": "hot" } }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    for _ in 0..2 {
        let res = hanna
            .get(format!("{}/dashboard/api/reports/{report}", s.url()))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
    s.stop().await;

    let today = Utc::now().date_naive().to_string();
    let run = bin()
        .arg("--database")
        .arg(&db)
        .args(["audit", "--from", &today])
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("read_report")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("\tsormland\thanna\thandläggare\t-\tread_report\treport ")
            && lines[0].contains(&report.to_string())
    );
    // And the login before the reads.
    assert!(
        out.contains("\thanna\thandläggare\t-\tsign_in\tsession password"),
        "{out}"
    );
    assert!(out.contains("3 entries from"), "{out}");
    let (ok, out) = cli(&[
        "--database".as_ref(),
        db.as_os_str(),
        "audit".as_ref(),
        "--from".as_ref(),
        "i går".as_ref(),
    ]);
    assert!(
        !ok && out.contains("--from \"i går\" is not a date"),
        "{out}"
    );

    let (ok, out) = cli(&["--database".as_ref(), db.as_os_str(), "purge".as_ref()]);
    assert!(!ok && out.contains("no [retention]"), "{out}");
    let config = dir.path().join("varn-server.toml");
    std::fs::write(
        &config,
        "[retention]\nreports_days = 30\nalarms_days = 30\n",
    )
    .unwrap();
    let (ok, out) = cli(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--database".as_ref(),
        db.as_os_str(),
        "purge".as_ref(),
    ]);
    assert!(
        ok && out.contains("Deleted 0 closed reports (0 attachments), 0 finished alarms, 0 ended check-ins and 0 expired sessions"),
        "{out}"
    );

    // Secrets from files, as systemd's LoadCredential= hands them over: a relative name under
    // $CREDENTIALS_DIRECTORY; a missing one is an error that names it.
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(
        &config,
        "[retention]\nreports_days = 30\n\n[[alarm_centre]]\nregion = \"sormland\"\nhost = \"127.0.0.1\"\nport = 9\naccount = \"1A2B\"\nkey_file = \"dc09-key\"\n",
    )
    .unwrap();
    let purge = |creds: &std::path::Path| {
        let out = bin()
            .env("CREDENTIALS_DIRECTORY", creds)
            .arg("--config")
            .arg(&config)
            .arg("--database")
            .arg(&db)
            .arg("purge")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out) = purge(&creds);
    assert!(
        !ok && out.contains("dc09-key") && out.contains("sormland"),
        "{out}"
    );
    std::fs::write(creds.join("dc09-key"), "0123456789ABCDEF0123456789ABCDEF\n").unwrap();
    let (ok, out) = purge(&creds);
    assert!(ok, "{out}");
    std::fs::write(&config, "[retention]\nreports_days = 0\n").unwrap();
    let (ok, out) = cli(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--database".as_ref(),
        db.as_os_str(),
        "purge".as_ref(),
    ]);
    assert!(
        !ok && out.contains("retention.reports_days must be at least 1"),
        "{out}"
    );
}
