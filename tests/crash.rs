//! Crash safety: a writer process saves reports (and now and then an attachment) as fast as it
//! can and prints every save once it has returned (durable). The test kills it with SIGKILL at
//! a random moment, then checks that the database opens, passes `PRAGMA integrity_check`, and
//! holds every save that was reported durable. 200 rounds here; `VARN_CRASH_ROUNDS` for more
//! (`scripts/crash-soak.sh`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rand::Rng;
use uuid::Uuid;
use varn_app::storage::Db;
use varn_core::incident::Incident;

const KEY: [u8; 32] = [0x5a; 32];
const WRITER: &str = "VARN_CRASH_WRITER_DB";

/// The writer: runs only when the parent starts this test binary with the env var set.
#[test]
fn writer_process() {
    let Ok(path) = std::env::var(WRITER) else {
        return;
    };
    let db = Db::open_keyed(Path::new(&path), Some(&KEY)).expect("open");
    let out = std::io::stdout();
    // Save numbers grow across rounds, so "newer" means a higher number.
    let mut n: u64 = std::env::var("VARN_CRASH_BASE")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    let mut ids: Vec<Uuid> = db.incidents().expect("list").iter().map(|r| r.id).collect();
    loop {
        n += 1;
        // Mostly edits of existing reports, sometimes a new one, sometimes an attachment.
        // A bounded set of reports (edits are the common case), so every round costs the same.
        if ids.len() < 20 && (ids.len() < 3 || n.is_multiple_of(7)) {
            let id = Uuid::now_v7();
            db.create_incident(
                id,
                &Incident {
                    during: format!("save {n}"),
                    ..Default::default()
                },
            )
            .expect("create");
            ids.push(id);
            writeln!(out.lock(), "S {id} {n}").ok();
        } else if n.is_multiple_of(101) {
            let id = ids[(n as usize) % ids.len()];
            let bytes = vec![(n % 251) as u8; 64 * 1024];
            let a = db
                .add_attachment(
                    id,
                    &format!("a{n}.bin"),
                    "application/octet-stream",
                    bytes.len() as u64,
                    &bytes[..],
                )
                .expect("attach");
            writeln!(out.lock(), "A {} {}", a.id, a.sha256).ok();
        } else {
            let id = ids[(n as usize) % ids.len()];
            db.save_incident(
                id,
                &Incident {
                    during: format!("save {n}"),
                    ..Default::default()
                },
            )
            .expect("save");
            writeln!(out.lock(), "S {id} {n}").ok();
        }
        out.lock().flush().ok();
    }
}

#[test]
fn saves_survive_sigkill_at_random_moments() {
    if std::env::var(WRITER).is_ok() {
        return;
    }
    let rounds: usize = std::env::var("VARN_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("varn.db");
    drop(Db::open_keyed(&path, Some(&KEY)).unwrap());
    let exe = std::env::current_exe().unwrap();
    // id -> the newest save number reported durable
    let mut durable: HashMap<Uuid, u64> = HashMap::new();
    let mut attachments: HashMap<Uuid, String> = HashMap::new();
    let mut rng = rand::rng();
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "writer_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER, &path)
            .env("VARN_CRASH_BASE", (round as u64 * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => lines.push(l),
                    Err(_) => break,
                }
            }
            lines
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(20..120)));
        Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["S", id, n] => {
                    let (id, n) = (Uuid::parse_str(id).unwrap(), n.parse::<u64>().unwrap());
                    let e = durable.entry(id).or_insert(0);
                    *e = (*e).max(n);
                }
                ["A", id, sha] => {
                    attachments.insert(Uuid::parse_str(id).unwrap(), sha.to_string());
                }
                _ => {} // a half-printed last line, or test harness chatter
            }
        }
        // The database opens, is intact and holds everything reported durable.
        let db = Db::open_keyed(&path, Some(&KEY)).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let check: String = db
            .read(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        let rows: HashMap<Uuid, u64> = db
            .incidents()
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    r.incident
                        .during
                        .trim_start_matches("save ")
                        .parse()
                        .unwrap(),
                )
            })
            .collect();
        for (id, n) in &durable {
            let stored = rows
                .get(id)
                .unwrap_or_else(|| panic!("round {round}: report {id} was durable but is gone"));
            assert!(
                stored >= n,
                "round {round}: report {id} lost save {n} (has {stored})"
            );
        }
        // Attachments: the newest few (each was checked in the round it was added).
        let mut newest: Vec<_> = attachments.iter().collect();
        newest.sort_by_key(|(id, _)| std::cmp::Reverse(**id));
        for (id, sha) in newest.into_iter().take(5) {
            let mut bytes = Vec::new();
            let info = db
                .read_attachment(*id, &mut bytes)
                .unwrap_or_else(|e| panic!("round {round}: attachment {id}: {e}"));
            assert_eq!(&info.sha256, sha);
            use sha2::{Digest, Sha256};
            assert_eq!(
                &hex::encode(Sha256::digest(&bytes)),
                sha,
                "round {round}: attachment bytes"
            );
        }
    }
    assert!(
        durable.len() > 10,
        "the writer got work done ({} reports)",
        durable.len()
    );
}
