//! A SIA DC-09 receiver for tests: `pysiaalarm` (PyPI) run as the region's alarm centre by
//! `tests/sia_receiver.py`, in the venv `scripts/test` makes (`VARN_PYTHON`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::centre::dc09::{Key, Route};
use crate::centre::{self, Centre, Drills};

/// The account the test receiver knows.
pub const ACCOUNT: &str = "AAA";
/// The AES key of the encrypted runs.
pub const KEY: &str = "0123456789ABCDEF0123456789ABCDEF";

/// The alarm centre of Sörmland at the receiver on `port`.
pub fn centre(port: u16, key: Option<&str>, supervision: Duration) -> Centre {
    centre_at(&[port], key, supervision)
}

/// The alarm centre of Sörmland with a receiver on each port, the first the primary.
pub fn centre_at(ports: &[u16], key: Option<&str>, supervision: Duration) -> Centre {
    Centre {
        region: "sormland".into(),
        receivers: ports
            .iter()
            .enumerate()
            .map(|(i, port)| centre::Receiver {
                name: if i == 0 {
                    "primär".into()
                } else {
                    format!("reserv {i}")
                },
                addr: format!("127.0.0.1:{port}"),
                route: Route {
                    receiver: "1".into(),
                    line: "1".into(),
                    account: ACCOUNT.into(),
                },
                key: key.map(|k| Key::parse(k).expect("the test key")),
                next_key: None,
            })
            .collect(),
        supervision,
        timeout: Duration::from_secs(5),
        drills: Drills::Test,
    }
}

/// The venv's python (with pysiaalarm).
fn python() -> PathBuf {
    std::env::var_os("VARN_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/varn-venv/bin/python"))
        })
        .filter(|p| p.exists())
        .expect("the test venv's python not found: run scripts/test (it sets up a venv), or set VARN_PYTHON")
}

/// pysiaalarm run as the alarm centre, listening on `port`; what it answered, as it said.
pub struct Receiver {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    heard: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    /// Starts listening on `port` (0: any), answering the first `nak_first` messages NAK.
    pub fn start(port: u16, key: Option<&str>, nak_first: u32) -> Receiver {
        Self::start_with(port, key, nak_first, 0)
    }

    /// The same, also answering the first `duh_first` events DUH (not understood).
    pub fn start_with(port: u16, key: Option<&str>, nak_first: u32, duh_first: u32) -> Receiver {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sia_receiver.py");
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .args(["--port", &port.to_string(), "--account", ACCOUNT])
            .args(["--nak-first", &nak_first.to_string()])
            .args(["--duh-first", &duh_first.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(k) = key {
            cmd.args(["--key", k]);
        }
        let mut child = cmd.spawn().expect("start the receiver");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the receiver's first line").unwrap();
        let port: u16 = first
            .strip_prefix("LISTENING ")
            .unwrap_or_else(|| panic!("the receiver said {first:?}"))
            .parse()
            .unwrap();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        });
        Receiver { child, port, heard }
    }

    /// Everything it answered, in order.
    pub fn heard(&self) -> Vec<Value> {
        self.heard.lock().unwrap().clone()
    }

    /// The events it acknowledged, supervision left out, in order.
    pub fn acked_events(&self) -> Vec<Value> {
        self.heard()
            .into_iter()
            .filter(|e| e["answer"] == "ACK" && e["type"] != "NULL")
            .collect()
    }

    /// Waits (at most 30 s) until it has acknowledged `n` events.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.acked_events();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the centre acknowledged {got:?}, not {n}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The last word of an event's place (extended data `L`): the place a test gave the alarm
/// ("Plats 3" → "3").
pub fn place_word(event: &Value) -> String {
    event["xdata"]["L"]
        .as_str()
        .and_then(|t| t.rsplit(' ').next())
        .unwrap_or_default()
        .to_string()
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
