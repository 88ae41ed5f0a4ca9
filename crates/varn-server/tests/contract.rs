//! The API against its own description, checked by a tool nobody here wrote: schemathesis
//! (property-based, from the server's `/openapi.json`) with every check it has, against the
//! real server with an enrolled device, on SQLite and (with `VARN_TEST_DATABASE=postgres`) on
//! PostgreSQL. `scripts/test` installs it in a venv with a pinned version and names it in
//! `VARN_SCHEMATHESIS`.

use std::path::PathBuf;

use varn_server::limits::Limits;
use varn_server::testkit::TestServer;

fn schemathesis() -> PathBuf {
    let path = std::env::var_os("VARN_SCHEMATHESIS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/varn-venv/bin/schemathesis"))
        })
        .filter(|p| p.exists());
    path.expect(
        "schemathesis not found: run scripts/test (it sets up a venv), or set VARN_SCHEMATHESIS",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_the_contract_it_publishes() {
    let bin = schemathesis();
    // The limits the package ships: a valid token is never refused for the wrong ones the
    // tool sends from the same address, and no quota of a real device stops the tool.
    let server = TestServer::start_with_limits(Limits::default()).await;
    let device = server.enroll("Anna Andersson").await;
    let reports = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("--config-file")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemathesis.toml"
        ))
        .arg("run")
        .arg(format!("{}/openapi.json", server.url()))
        .args(["--checks", "all", "--no-color", "--seed", "20261130"])
        // One worker: Debian 12's Python 3.11.2 can fail compiling in threads ("AST
        // constructor recursion depth mismatch", CPython gh-106905, fixed in 3.11.5).
        .args(["--max-examples", "25", "--workers", "1"])
        .args(["--generation-database", "none"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {}", device.token))
        .arg("--report-dir")
        .arg(reports.path());
    // The server runs on this test's runtime: wait for the tool on a thread of its own.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every operation reached but those disabled in the settings, and none
    // answered mostly 401 or 429 (its logic left untested).
    let figure = |label: &str| -> Option<String> {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(label))?;
        Some(line.trim_start()[label.len()..].trim().to_string())
    };
    let selected = figure("Selected:").unwrap_or_default();
    let (ran, total) = selected.split_once('/').unwrap_or(("", ""));
    let total: usize = total.parse().unwrap_or(0);
    assert!(total >= 17, "the API's operations were read:\n{stdout}");
    // Two are disabled in the settings: unlinking, and the officers' statistics.
    assert_eq!(ran.parse::<usize>().ok(), Some(total - 2), "{stdout}");
    assert_eq!(figure("Tested:").as_deref(), Some(ran), "{stdout}");
    assert!(
        !stdout.contains("Rate limited") && !stdout.contains("Authentication failed: 2"),
        "schemathesis left operations untested:\n{stdout}"
    );
}
