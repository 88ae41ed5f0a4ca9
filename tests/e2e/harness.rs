//! End-to-end harness: the real app in its real window, driven through WebDriver.
//!
//! It starts Xvfb when there is no display, a private session D-Bus, and `tauri-driver`
//! (with WebKitWebDriver) on free loopback ports, then launches the built app with a fresh
//! data directory. Every process it starts runs in its own process group and is killed when
//! the harness is dropped — also when a test fails and unwinds.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// One E2E test at a time: they share the machine's two cores and one display.
static SERIAL: Mutex<()> = Mutex::new(());

/// How long to wait for something to appear on screen.
pub const WAIT: Duration = Duration::from_secs(20);

/// A started process, killed with its whole process group on drop.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("could not start {name}: {e} (is it installed? see scripts/deps.sh)")
        });
        Proc { name, child }
    }

    fn kill(&mut self) {
        let pgid = self.child.id();
        let group = format!("-{pgid}");
        // TERM first so servers clean up (Xvfb removes its lock file), then KILL whatever is
        // left. The group takes the children along (WebKitWebDriver, the app, WebKit helpers).
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        let _ = self.name;
    }
}

/// A free loopback port, never the same twice in this process: the tests run in parallel,
/// and a port handed to one tauri-driver must not be handed to another before it binds.
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The display, the session bus and the driver: shared by the app runs of one test.
pub struct Desktop {
    _serial: MutexGuard<'static, ()>,
    display: String,
    dbus_address: String,
    procs: Vec<Proc>,
    _keyring_home: tempfile::TempDir,
    /// Extra environment for the next launches (e.g. a tel: handler).
    pub env: Vec<(String, String)>,
    /// Leave the first-run guide up (it is skipped at launch otherwise).
    pub keep_welcome: bool,
    /// The app to launch: this build's, or an installed one (the package check).
    pub app_binary: PathBuf,
    pub data_dir: tempfile::TempDir,
    pub shots: PathBuf,
    test: String,
}

impl Desktop {
    /// Starts Xvfb (unless a display exists), a session bus, a keychain and a notification
    /// daemon.
    pub fn start(test: &str) -> Desktop {
        Self::start_with(test, true, None)
    }

    /// A desktop of its own on a screen of this size (e.g. `1366x768`): a laptop's.
    pub fn start_on_screen(test: &str, screen: &str) -> Desktop {
        Self::start_with(test, true, Some(screen))
    }

    /// The same desktop, but with no keychain (Secret Service) on its bus.
    pub fn start_without_keychain(test: &str) -> Desktop {
        Self::start_with(test, false, None)
    }

    /// Makes the next launches (a debug build) trust the tests' profile key for `region`
    /// (`varn_server::testkit::test_region_key`), as a region's own key is trusted.
    pub fn trust_test_key(&mut self, region: &str) {
        let key = varn_server::testkit::test_region_key(region)
            .public()
            .encode();
        let entry = format!("{region}={key}");
        match self
            .env
            .iter_mut()
            .find(|(k, _)| k == varn_app::profiles::DEV_KEYS_ENV)
        {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&entry);
            }
            None => self
                .env
                .push((varn_app::profiles::DEV_KEYS_ENV.to_string(), entry)),
        }
    }

    fn start_with(test: &str, keychain: bool, screen: Option<&str>) -> Desktop {
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let mut procs = Vec::new();
        let display = match std::env::var("DISPLAY") {
            Ok(d) if display_exists(&d) && screen.is_none() => d,
            _ => {
                let n = (90..400)
                    .find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists())
                    .expect("a free X display number");
                procs.push(Proc::spawn(
                    "Xvfb",
                    Command::new("Xvfb")
                        .args([
                            &format!(":{n}"),
                            "-screen",
                            "0",
                            &format!("{}x24", screen.unwrap_or("1280x1024")),
                            "-nolisten",
                            "tcp",
                        ])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null()),
                ));
                let d = format!(":{n}");
                wait_until("Xvfb", WAIT, || display_exists(&d));
                d
            }
        };
        let mut dbus = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut line = String::new();
        let out = dbus.child.stdout.take().expect("dbus stdout");
        BufReader::new(out)
            .read_line(&mut line)
            .expect("dbus address");
        let dbus_address = line.trim().to_string();
        assert!(!dbus_address.is_empty(), "dbus-daemon printed no address");
        procs.push(dbus);
        // The OS keychain: gnome-keyring's Secret Service on the private bus, unlocked, with
        // its files in a temporary home. `--foreground` keeps it in our process group.
        let keyring_home = tempfile::tempdir().expect("keyring home");
        let runtime_dir = keyring_home.path().join("run");
        std::fs::create_dir_all(keyring_home.path().join("data")).expect("keyring data dir");
        std::fs::create_dir_all(&runtime_dir).expect("runtime dir");
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700));
        }
        if keychain {
            let mut keyring = Proc::spawn(
                "gnome-keyring-daemon",
                Command::new("gnome-keyring-daemon")
                    .args(["--foreground", "--unlock", "--components=secrets"])
                    .env("DBUS_SESSION_BUS_ADDRESS", &dbus_address)
                    .env("XDG_DATA_HOME", keyring_home.path().join("data"))
                    .env("XDG_RUNTIME_DIR", &runtime_dir)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            );
            {
                use std::io::Write;
                let mut stdin = keyring.child.stdin.take().expect("keyring stdin");
                let _ = stdin.write_all(b"e2e-keyring-password\n");
            }
            procs.push(keyring);
            wait_until("the Secret Service on the bus", WAIT, || {
                Command::new("dbus-send")
                    .env("DBUS_SESSION_BUS_ADDRESS", &dbus_address)
                    .args([
                        "--session",
                        "--dest=org.freedesktop.DBus",
                        "--type=method_call",
                        "--print-reply",
                        "/org/freedesktop/DBus",
                        "org.freedesktop.DBus.NameHasOwner",
                        "string:org.freedesktop.secrets",
                    ])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
                    .unwrap_or(false)
            });
        }
        // Desktop notifications need a server on the bus.
        procs.push(Proc::spawn(
            "dunst",
            Command::new("dunst")
                .env("DISPLAY", &display)
                .env("DBUS_SESSION_BUS_ADDRESS", &dbus_address)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        ));
        let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("e2e");
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        // A fresh log for this test (launches within it append).
        let _ = std::fs::remove_file(shots.join(format!("{test}-app.log")));
        Desktop {
            _serial: serial,
            display,
            dbus_address,
            procs,
            data_dir: tempfile::tempdir().expect("temp data dir"),
            shots,
            test: test.to_string(),
            _keyring_home: keyring_home,
            env: Vec::new(),
            keep_welcome: false,
            app_binary: PathBuf::from(env!("CARGO_BIN_EXE_varn")),
        }
    }

    /// A command that runs on this desktop's display and session bus.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus_address);
        cmd
    }

    /// Kills the app of this desktop's data directory with SIGKILL (found by its pid).
    pub fn kill_app(&self) {
        assert_eq!(self.kill_apps(), 1, "exactly one app process to kill");
    }

    /// The process ids of the apps running on this desktop's data directory.
    pub fn app_pids(&self) -> Vec<u32> {
        let needle = format!("--data-dir\0{}", self.data_dir.path().display());
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc") {
            let Ok(entry) = entry else { continue };
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let cmdline = String::from_utf8_lossy(&cmdline);
            let zombie = std::fs::read_to_string(entry.path().join("stat"))
                .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"));
            if cmdline.starts_with(&*self.app_binary.to_string_lossy())
                && cmdline.contains(&needle)
                && !zombie
            {
                pids.push(pid);
            }
        }
        pids
    }

    /// Kills every app process of this desktop's data directory; returns how many.
    fn kill_apps(&self) -> usize {
        let pids = self.app_pids();
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        pids.len()
    }

    /// Reads a secret from the desktop's keychain (as another program would).
    pub fn keychain_lookup(&self, username: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus_address)
            .args(["lookup", "service", "se.varn.app", "username", username])
            .output()
            .ok()?;
        let s = String::from_utf8_lossy(&out.stdout).to_string();
        (!s.is_empty()).then_some(s)
    }

    /// Sends keys to the X display as a person would (`xdotool key ...`).
    pub fn press_keys(&self, keys: &str) {
        let status = self
            .command("xdotool")
            .args(["key", "--clearmodifiers", keys])
            .status()
            .expect("xdotool");
        assert!(status.success(), "xdotool key {keys}");
    }

    /// Answers a native file dialog (GTK) whose title contains `title` by typing `path` into it
    /// and pressing Return, as a person would. With no window manager, keyboard focus follows
    /// the pointer, so the pointer is moved onto the dialog first.
    pub fn answer_file_dialog(&self, title: &str, path: &Path) {
        let out = self
            .command("xdotool")
            .args(["search", "--sync", "--name", title])
            .output()
            .expect("xdotool search");
        let id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .map(str::to_string)
            .unwrap_or_default();
        assert!(!id.is_empty(), "no dialog titled {title}");
        // Let GTK finish mapping and laying out the dialog.
        std::thread::sleep(Duration::from_millis(800));
        let run = |args: &[&str]| {
            let status = self
                .command("xdotool")
                .args(args)
                .status()
                .expect("xdotool");
            assert!(status.success(), "xdotool {args:?}");
        };
        run(&["mousemove", "--window", &id, "200", "120"]);
        run(&["windowfocus", "--sync", &id]);
        // Ctrl+L opens the location field in both open and save dialogs.
        run(&["key", "--window", &id, "ctrl+l"]);
        std::thread::sleep(Duration::from_millis(300));
        run(&["key", "--window", &id, "ctrl+a"]);
        run(&["type", "--delay", "20", &path.display().to_string()]);
        std::thread::sleep(Duration::from_millis(300));
        run(&["key", "Return"]);
    }

    /// The bodies of the desktop notifications shown so far (closed into dunst's history).
    pub fn notifications(&self) -> Vec<String> {
        let _ = self.command("dunstctl").arg("close-all").status();
        std::thread::sleep(Duration::from_millis(200));
        let out = self
            .command("dunstctl")
            .arg("history")
            .output()
            .expect("dunstctl");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|group| group.as_array().cloned().unwrap_or_default())
            .filter_map(|n| n["body"]["data"].as_str().map(str::to_string))
            .collect()
    }

    /// The titles of the app's windows, as the window manager sees them (xdotool).
    pub fn window_titles(&self) -> Vec<String> {
        let mut titles = Vec::new();
        for pid in self.app_pids() {
            let out = self
                .command("xdotool")
                .args(["search", "--pid", &pid.to_string()])
                .output()
                .expect("xdotool");
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let name = self
                    .command("xdotool")
                    .args(["getwindowname", id])
                    .output()
                    .expect("xdotool");
                let name = String::from_utf8_lossy(&name.stdout).trim().to_string();
                if !name.is_empty() {
                    titles.push(name);
                }
            }
        }
        titles
    }

    /// How many notifications dunst shows right now (nothing is closed to count them).
    pub fn displayed_notifications(&self) -> usize {
        let out = self
            .command("dunstctl")
            .args(["count", "displayed"])
            .output()
            .expect("dunstctl");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(usize::MAX)
    }

    /// Launches the app (through a fresh tauri-driver) on this desktop's data directory.
    pub async fn launch(&mut self) -> App {
        self.launch_with(&[]).await
    }

    /// The app's log (it reaches us through tauri-driver's stderr), appended to
    /// `target/e2e/<test>-app.log` so a failure can be read afterwards.
    fn log_file(&self) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.shots.join(format!("{}-app.log", self.test)))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    }

    /// Launches the app with extra command-line arguments. A WebDriver session that cannot
    /// be created (tauri-driver dropped the connection) is tried once more on a fresh driver.
    pub async fn launch_with(&mut self, extra: &[&str]) -> App {
        let app = match self.try_launch(extra).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("WebDriver session failed ({e}); once more on a fresh tauri-driver");
                self.kill_apps();
                self.try_launch(extra)
                    .await
                    .unwrap_or_else(|e| panic!("WebDriver session with the app failed: {e}"))
            }
        };
        if !self.keep_welcome {
            app.skip_welcome().await;
        }
        app
    }

    async fn try_launch(
        &mut self,
        extra: &[&str],
    ) -> Result<App, fantoccini::error::NewSessionError> {
        let port = free_port();
        let native_port = free_port();
        let driver_bin = tauri_driver();
        let mut cmd = Command::new(driver_bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", &self.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus_address)
        .env("VARN_LOG", "warn,varn_app=debug")
        .stdout(Stdio::null())
        .stderr(self.log_file());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let driver = Proc::spawn("tauri-driver", &mut cmd);
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        wait_until("tauri-driver", WAIT, || http_ok(port, &status));

        let mut args = vec![
            "--data-dir".to_string(),
            self.data_dir.path().display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": self.app_binary, "args": args },
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await?;
        let app = App {
            client,
            _driver: driver,
            shots: self.shots.clone(),
            test: self.test.clone(),
        };
        // The shell is drawn once boot() has answered.
        app.wait_for("[data-tab='plan']").await;
        Ok(app)
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // Last started, first stopped.
        while let Some(mut p) = self.procs.pop() {
            p.kill();
        }
    }
}

fn display_exists(display: &str) -> bool {
    let n = display
        .trim_start_matches(':')
        .split('.')
        .next()
        .unwrap_or("");
    !n.is_empty() && Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
}

fn tauri_driver() -> PathBuf {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_bin = Path::new(&home).join(".cargo/bin/tauri-driver");
    if cargo_bin.exists() {
        cargo_bin
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// A minimal GET on loopback (a driver's /status), so the harness needs no HTTP client.
/// Reads only the status line: some drivers keep the connection open.
fn http_ok(port: u16, path_url: &str) -> bool {
    use std::io::{Read, Write};
    let path = path_url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or("/".into());
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let line = String::from_utf8_lossy(&buf);
    line.starts_with("HTTP/1.1 200") || line.starts_with("HTTP/1.0 200")
}

/// Headless Chromium through ChromeDriver, for the region server's dashboard.
pub struct Browser {
    pub client: Client,
    _driver: Proc,
    _profile: tempfile::TempDir,
    shots: PathBuf,
    test: String,
}

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless browser with an empty profile.
    pub async fn start(test: &str) -> Browser {
        Self::start_with(test, &[]).await
    }

    /// The same with extra Chromium flags (e.g. an autoplay policy).
    pub async fn start_with(test: &str, extra: &[&str]) -> Browser {
        let port = free_port();
        let driver = Proc::spawn(
            "chromedriver",
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let url = format!("http://127.0.0.1:{port}");
        wait_until("chromedriver", WAIT, || {
            http_ok(port, &format!("{url}/status"))
        });
        let profile = tempfile::tempdir().expect("browser profile");
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1100,900",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("ChromeDriver session failed: {e}"));
        let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("e2e");
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        Browser {
            client,
            _driver: driver,
            _profile: profile,
            shots,
            test: test.to_string(),
        }
    }

    /// Opens the dashboard at `server_url`, logs in and waits for the alarm list.
    pub async fn log_in(&self, server_url: &str, username: &str, password: &str) {
        self.client
            .goto(&format!("{server_url}/dashboard"))
            .await
            .expect("open the dashboard");
        for (css, text) in [("#username", username), ("#password", password)] {
            self.wait_for(css)
                .await
                .send_keys(text)
                .await
                .expect("type");
        }
        self.wait_for("#login-form button[type=submit]")
            .await
            .click()
            .await
            .expect("log in");
        self.wait_for("#alarm-list").await;
    }

    /// Waits for an element.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear in the browser: {e}"))
    }

    /// Saves a screenshot under target/e2e/.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{}-{name}.png", self.test)), png)
            .expect("write screenshot");
    }

    /// Closes the browser.
    pub async fn quit(self) {
        let _ = self.client.close().await;
    }
}

/// The running app, seen through WebDriver.
pub struct App {
    pub client: Client,
    _driver: Proc,
    shots: PathBuf,
    test: String,
}

impl App {
    /// Waits for an element matching the CSS selector. A view that redraws while it is being
    /// looked up (a stale node) is only "not yet".
    pub async fn wait_for(&self, css: &str) -> Element {
        let start = Instant::now();
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(el) => return el,
                Err(e) => assert!(start.elapsed() < WAIT, "{css} did not appear: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = el.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    if start.elapsed() > WAIT {
                        panic!("{css} never contained {needle:?}; last text: {text:?}");
                    }
                }
            }
            assert!(start.elapsed() < WAIT, "{css} never appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an attribute of the element has a value.
    pub async fn wait_attr(&self, css: &str, attr: &str, value: &str) {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if el.attr(attr).await.ok().flatten().as_deref() == Some(value) {
                    return;
                }
            }
            assert!(
                start.elapsed() < WAIT,
                "{css}[{attr}] never became {value:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element matching the selector (waiting for it first). If the view redrew
    /// between finding and clicking (a stale node), the new node is clicked.
    pub async fn click(&self, css: &str) {
        let start = Instant::now();
        let mut scrolled = false;
        loop {
            match self.wait_for(css).await.click().await {
                Ok(_) => return,
                Err(e) if redrawn(&e) && start.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                // Under the sticky emergency strip or the tab bar: bring it to the middle of
                // the view, as a person would scroll, and try once more.
                Err(_) if !scrolled => {
                    scrolled = true;
                    let css_json = serde_json::to_string(css).unwrap_or_default();
                    self.js(&format!(
                        "document.querySelector({css_json})?.scrollIntoView({{ block: 'center' }})"
                    ))
                    .await;
                }
                Err(e) => panic!("click on {css} failed: {e}"),
            }
        }
    }

    /// Opens a section (`details` with this id) as a person does, by its heading, unless it
    /// is open.
    pub async fn open_section(&self, id: &str) {
        self.wait_for(&format!("#{id}")).await;
        let open = self
            .js(&format!("return document.getElementById('{id}').open"))
            .await;
        if open != serde_json::json!(true) {
            self.click(&format!("#{id} > summary")).await;
        }
    }

    /// A fresh data directory opens on the first-run guide: skipped the way a person skips
    /// it, so that a test goes on from the plan.
    pub async fn skip_welcome(&self) {
        self.wait_for("#view > *").await;
        if self.count("#welcome").await > 0 {
            self.click("#welcome-skip").await;
            self.wait_gone("#welcome").await;
        }
    }

    /// Waits until nothing matches the selector.
    pub async fn wait_gone(&self, css: &str) {
        let start = Instant::now();
        while self.count(css).await > 0 {
            assert!(start.elapsed() < WAIT, "{css} never went away");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Number of elements matching the selector right now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls a script until it returns `expected`.
    pub async fn wait_js(&self, script: &str, expected: serde_json::Value) {
        let start = Instant::now();
        loop {
            let got = self.client.execute(script, vec![]).await.ok();
            if got.as_ref() == Some(&expected) {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "{script} never returned {expected}; last: {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Presses the element, holds it for `hold`, and lets go (a real pointer press).
    pub async fn hold(&self, css: &str, hold: Duration) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
        let el = self.wait_for(css).await;
        let actions = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: el,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Pause { duration: hold })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client
            .perform_actions(actions)
            .await
            .expect("pointer actions");
        let _ = self.client.release_actions().await;
    }

    /// Presses keys in the page as a person would (WebDriver key actions: down, up, in
    /// order; a key may be held by a pause between its down and up), with no element
    /// chosen: they go where focus is.
    pub async fn keys(&self, steps: &[KeyStep]) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for step in steps {
            actions = match *step {
                KeyStep::Press(k) => actions
                    .then(KeyAction::Down { value: k })
                    .then(KeyAction::Up { value: k }),
                KeyStep::Hold(k, hold) => actions
                    .then(KeyAction::Down { value: k })
                    .then(KeyAction::Pause { duration: hold })
                    .then(KeyAction::Up { value: k }),
                KeyStep::Chord(modifier, k) => actions
                    .then(KeyAction::Down { value: modifier })
                    .then(KeyAction::Down { value: k })
                    .then(KeyAction::Up { value: k })
                    .then(KeyAction::Up { value: modifier }),
            };
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("key actions");
        let _ = self.client.release_actions().await;
    }

    /// Types into an input after clearing it. A redraw in between (a stale node) starts over
    /// on the new node.
    pub async fn fill(&self, css: &str, text: &str) {
        let start = Instant::now();
        loop {
            let el = self.wait_for(css).await;
            // Where a person would scroll it: clear of the fixed emergency strip.
            if let Ok(arg) = serde_json::to_value(&el) {
                let _ = self
                    .client
                    .execute(
                        "arguments[0].scrollIntoView({ block: 'center' })",
                        vec![arg],
                    )
                    .await;
            }
            let typed = match el.clear().await {
                Ok(()) => el.send_keys(text).await,
                Err(e) => Err(e),
            };
            match typed {
                Ok(()) => return,
                Err(e) if redrawn(&e) && start.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("typing into {css} failed: {e}"),
            }
        }
    }

    /// Saves a screenshot of the window under target/e2e/ for people to look at.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{}-{name}.png", self.test));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session; the app quits.
    pub async fn quit(self) {
        let _ = self.client.close().await;
        // Give the app a moment to close its database before the next launch.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Every file under `dir`, at any depth (to search the data directory for what must not be
/// there).
/// One step of [`App::keys`]: a key pressed, or held for a while.
#[derive(Debug, Clone, Copy)]
pub enum KeyStep {
    /// Down and up.
    Press(char),
    /// Down, held, up.
    Hold(char, Duration),
    /// A modifier held around a key (Alt+L).
    Chord(char, char),
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Whether a WebDriver error means the node was replaced by a redraw. WebKitWebDriver reports
/// that as "stale element reference" or as "Node with identifier … was not found".
fn redrawn(e: &fantoccini::error::CmdError) -> bool {
    e.is_stale_element_reference()
        || e.is_no_such_element()
        || e.to_string().contains("was not found")
}
