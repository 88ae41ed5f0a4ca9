//! A real OpenID provider for tests: panva's `oidc-provider` (OpenID Certified, pinned in
//! `tests/oidc/package.json`, installed by `scripts/test`) run by `tests/oidc/provider.mjs` on
//! a loopback port of its own, and a person signing in through it over HTTP: the dashboard's
//! button, the provider's sign-in form, the answer back to Värn.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The client id Värn has at the test provider.
pub const CLIENT_ID: &str = "varn-dashboard";
/// Its client secret (in a file, as in production).
pub const CLIENT_SECRET: &str = "a-test-client-secret-of-the-region";
/// The `acr` of a sign-in with two steps at the test provider.
pub const MFA: &str = "urn:varn:test:mfa";
/// The `acr` of a password-only sign-in there.
pub const PASSWORD_ONLY: &str = "urn:varn:test:password";
/// The group whose members are handläggare.
pub const HANDLERS: &str = "varn-handlaggare";
/// The group whose members are läsare.
pub const READERS: &str = "varn-lasare";

/// The provider's folder (its script and pinned packages).
pub fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc")
}

/// The provider process; killed when dropped.
pub struct TestProvider {
    child: Child,
    /// The issuer, e.g. `http://127.0.0.1:41234`.
    pub issuer: String,
    control: reqwest::Client,
    _dir: tempfile::TempDir,
    secret_file: PathBuf,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestProvider {
    /// Starts the provider and waits until it listens.
    pub async fn start() -> TestProvider {
        let dir = provider_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test provider's packages are missing: run `npm ci --prefix tests/oidc` \
             (scripts/test does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .args([CLIENT_ID, CLIENT_SECRET])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let stdout = child.stdout.take().expect("stdout");
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let port = lines
                .by_ref()
                .map_while(Result::ok)
                .find_map(|l| l.strip_prefix("listening ").map(str::to_string))
                .expect("the provider says where it listens");
            // Keep reading so the pipe never fills.
            std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
            port
        })
        .await
        .expect("read the port");
        let tmp = tempfile::tempdir().expect("temp dir");
        let secret_file = tmp.path().join("client-secret");
        std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).expect("secret file");
        TestProvider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            control: reqwest::Client::new(),
            _dir: tmp,
            secret_file,
        }
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: serde_json::Value) {
        let res = self
            .control
            .request(method, format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("the provider's control");
        assert!(
            res.status().is_success(),
            "control {path}: {}",
            res.status()
        );
    }

    /// The configuration entry of `region` signing in with this provider, as a region
    /// writes it (two steps required, the test groups), resolved.
    pub fn region(&self, region: &str) -> crate::oidc::RegionOidc {
        self.entry(region)
            .resolve(|p| crate::config::read_secret_file(p, None))
            .expect("resolve")
    }

    /// The entry itself, to change before resolving.
    pub fn entry(&self, region: &str) -> crate::oidc::OidcEntry {
        let toml = format!(
            r#"region = "{region}"
issuer = "{}"
client_id = "{CLIENT_ID}"
client_secret_file = "{}"
scopes = ["groups", "offline_access"]
acr_values = ["{MFA}"]
[roles]
"läsare" = ["{READERS}"]
"handläggare" = ["{HANDLERS}"]
"#,
            self.issuer,
            self.secret_file.display()
        );
        toml::from_str(&toml).expect("entry")
    }

    /// Tells the provider where Värn listens (its redirect URI).
    pub async fn redirect_to(&self, server_url: &str) {
        let uri = format!("{server_url}/dashboard/oidc/callback");
        self.control(
            reqwest::Method::PUT,
            "/control/redirect",
            serde_json::json!({ "uri": uri }),
        )
        .await;
    }

    /// An account at the provider: its name, groups and how it signs in (`acr`).
    pub async fn account(&self, id: &str, name: &str, groups: &[&str], acr: &str) {
        let path = format!("/control/users/{id}");
        let body = serde_json::json!({ "name": name, "groups": groups, "acr": acr, "amr": ["pwd", "otp"] });
        self.control(reqwest::Method::PUT, &path, body).await;
    }

    /// The account removed at the provider (a leaver).
    pub async fn remove(&self, id: &str) {
        let path = format!("/control/users/{id}");
        self.control(reqwest::Method::DELETE, &path, serde_json::json!({}))
            .await;
    }

    /// A new signing key; the old one stays published.
    pub async fn rotate(&self) {
        self.control(
            reqwest::Method::POST,
            "/control/rotate",
            serde_json::json!({}),
        )
        .await;
    }

    /// The next token answer altered (`forge`, `unknown-kid`, `nonce`, `aud`, `expired`,
    /// `garbage`, `slow`).
    pub async fn tamper(&self, mode: &str) {
        self.control(
            reqwest::Method::POST,
            "/control/tamper",
            serde_json::json!({ "mode": mode }),
        )
        .await;
    }

    /// The next token answer a redirect (307) to `to`.
    pub async fn redirect_token_answer(&self, to: &str) {
        let body = serde_json::json!({ "mode": "redirect", "to": to });
        self.control(reqwest::Method::POST, "/control/tamper", body)
            .await;
    }
}

/// A browser signing in: cookies kept, redirects followed by hand so each step is seen.
pub struct Person {
    /// The browser.
    pub client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    server: String,
}

impl Person {
    /// A new browser for `server_url`.
    pub fn new(server_url: &str) -> Person {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Person {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar,
            server: server_url.to_string(),
        }
    }

    /// The `Cookie` header the browser sends to Värn now.
    pub fn cookies(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar
            .cookies(&self.server.parse().expect("url"))
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .unwrap_or_default()
    }

    /// Clicks *Logga in med regionens konto* for `region` and signs in at the provider as
    /// `account`; stops at the provider's answer to Värn and returns its address (the
    /// callback with `code` and `state`), or where Värn sent the browser before that.
    pub async fn to_callback(&self, region: &str, account: &str) -> String {
        let mut url = format!("{}/dashboard/oidc/start?region={region}", self.server);
        for _ in 0..20 {
            if url.starts_with(&format!("{}/dashboard", self.server))
                && !url.contains("/dashboard/oidc/start")
            {
                return url;
            }
            let res = self.client.get(&url).send().await.expect("get");
            if res.status().is_redirection() {
                let location = res.headers()[reqwest::header::LOCATION]
                    .to_str()
                    .unwrap()
                    .to_string();
                url = absolute(&url, &location);
                continue;
            }
            // The provider's sign-in form.
            assert_eq!(res.status(), 200, "at {url}");
            let res = self
                .client
                .post(&url)
                .form(&[("login", account)])
                .send()
                .await
                .expect("post the sign-in form");
            assert!(
                res.status().is_redirection(),
                "sign-in form: {}",
                res.status()
            );
            let location = res.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_string();
            url = absolute(&url, &location);
        }
        panic!("no answer after 20 steps (last {url})");
    }

    /// Gives Värn the provider's answer; returns where Värn sends the browser (`/dashboard`
    /// signed in, or `/dashboard?fel=…`).
    pub async fn answer(&self, callback: &str) -> String {
        let res = self.client.get(callback).send().await.expect("callback");
        assert!(res.status().is_redirection(), "callback: {}", res.status());
        res.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The whole sign-in; returns where Värn sends the browser in the end.
    pub async fn sign_in(&self, region: &str, account: &str) -> String {
        let at = self.to_callback(region, account).await;
        if at.contains("/dashboard/oidc/callback") {
            self.answer(&at).await
        } else {
            at.trim_start_matches(&self.server).to_string()
        }
    }

    /// `GET` on the dashboard's API.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.server))
            .send()
            .await
            .expect("get")
    }

    /// `POST` on the dashboard's API (from its own origin).
    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.server))
            .header("origin", &self.server)
            .json(&body)
            .send()
            .await
            .expect("post")
    }
}

fn absolute(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| location.to_string())
}
