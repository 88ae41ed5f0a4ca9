//! The built `varn-server` as a process of its own, for tests and benchmarks that must kill
//! it the hard way or read its memory: on a free loopback port, on a SQLite file of its own
//! (or a given database), managed through its own command line.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{OFFICER_PASSWORD, TEST_SECRET};

/// How long the process may take to say it serves.
const START_WAIT: Duration = Duration::from_secs(30);

/// A running `varn-server` process; killed when dropped.
pub struct ServerProcess {
    bin: PathBuf,
    child: Child,
    database: OsString,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl ServerProcess {
    /// The command for `bin` with none of the caller's server settings, and the test secret.
    fn command(bin: &Path) -> Command {
        let mut c = Command::new(bin);
        c.env_remove("VARN_SERVER_DATABASE")
            .env_remove("VARN_SERVER_BIND")
            .env_remove("VARN_SERVER_CONFIG")
            .env_remove("VARN_SERVER_SECRET_FILE")
            // Every instance shares the test secret (the test kit makes codes under it).
            .env("VARN_SERVER_SECRET", TEST_SECRET);
        c
    }

    /// Starts `bin` on `database` (a SQLite file of its own when `None`) and waits until it
    /// serves.
    pub fn start(bin: &Path, database: Option<&str>) -> ServerProcess {
        Self::start_configured(bin, database, "")
    }

    /// Starts `bin` as [`ServerProcess::start`] does, with `config` (TOML) as its config file.
    pub fn start_configured(bin: &Path, database: Option<&str>, config: &str) -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_file = dir.path().join("varn-server.toml");
        std::fs::write(&config_file, config).expect("write the config file");
        let database: OsString = match database {
            Some(url) => url.into(),
            None => dir.path().join("server.db").into(),
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut child = Self::command(bin)
            .arg("--config")
            .arg(&config_file)
            .arg("--database")
            .arg(&database)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("VARN_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start varn-server");
        // It says "serving" once it listens; its log is drained so it never blocks.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            let mut said = false;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if !said && line.contains("serving") {
                    said = true;
                    let _ = tx.send(());
                }
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        rx.recv_timeout(START_WAIT)
            .expect("varn-server did not start serving");
        ServerProcess {
            bin: bin.to_path_buf(),
            child,
            database,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// What it has logged so far (its standard error, as the journal would have it).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A one-time enrollment code from the CLI (`varn-server enroll`).
    pub fn enrollment_code(&self, name: &str) -> String {
        let out = Self::command(&self.bin)
            .arg("--database")
            .arg(&self.database)
            .args(["enroll", "--name", name])
            .output()
            .expect("varn-server enroll");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// An enrolled device: a code from the CLI, exchanged for a token over HTTP.
    pub async fn enroll_device(&self, name: &str) -> varn_core::wire::EnrollResponse {
        let code = self.enrollment_code(name);
        super::http_client()
            .post(format!("{}/v1/enroll", self.url))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .expect("enroll")
            .json()
            .await
            .expect("an enrollment answer")
    }

    /// An officer with [`OFFICER_PASSWORD`] from the CLI (`varn-server officer add`).
    pub fn add_officer(&self, username: &str) {
        let mut child = Self::command(&self.bin)
            .arg("--database")
            .arg(&self.database)
            .args([
                "officer",
                "add",
                "--username",
                username,
                "--name",
                username,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("varn-server officer add");
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(format!("{OFFICER_PASSWORD}\n").as_bytes());
        }
        assert!(child.wait().expect("officer add").success());
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its peak resident memory since start (or the last [`ServerProcess::reset_peak`]), KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Starts counting the peak again from the current resident memory (Linux:
    /// `clear_refs` 5); false where that is not allowed.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// Its database (the SQLite file, or the URL it was given).
    pub fn database(&self) -> &std::ffi::OsStr {
        &self.database
    }

    /// Stops it as systemd does (SIGTERM) and waits; whether it exited 0.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// Kills it with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
