//! The binary's command line, without a window: usage errors and an unusable data directory
//! are reported clearly, with the right exit code, and leave nothing behind.

use std::process::Command;

fn varn() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_varn"));
    // No display: these paths must not need one.
    cmd.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("VARN_DATA_DIR");
    cmd
}

#[test]
fn unknown_flag_prints_usage_and_exits_2() {
    let out = varn().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--frobnicate"), "{err}");
    assert!(err.contains("--data-dir DIR"), "usage is shown: {err}");
}

#[test]
fn missing_data_dir_value_exits_2() {
    let out = varn().arg("--data-dir").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_and_version_exit_0() {
    let out = varn().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--smoke"));
    let out = varn().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("varn "));
}

#[test]
fn unusable_data_dir_names_the_path_exits_nonzero_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, b"a file").unwrap();
    let wanted = blocker.join("varn").join("data");
    let out = varn().arg("--data-dir").arg(&wanted).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&wanted.display().to_string()),
        "names the path: {err}"
    );
    assert!(err.contains("--data-dir"), "says what to do: {err}");
    assert_eq!(std::fs::read(&blocker).unwrap(), b"a file");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing half-created"
    );
}

#[test]
fn unusable_data_dir_from_the_environment_is_reported_too() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = varn()
        .env("VARN_DATA_DIR", blocker.join("sub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("file/sub"));
}

#[test]
fn without_a_display_it_says_so_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let out = varn().arg("--data-dir").arg(tmp.path()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "no panic: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("DISPLAY"));
}

#[test]
fn a_damaged_database_is_refused_without_touching_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("varn.db");
    std::fs::write(&db, vec![7u8; 4096]).unwrap();
    let out = varn().arg("--data-dir").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("varn.db"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), vec![7u8; 4096]);
}

/// `scripts/package` without the app's update key refuses at once, saying what to give (or
/// `--dev` for a throwaway key), before it installs or builds anything.
#[test]
fn packaging_without_the_update_key_is_refused_unless_dev() {
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/package"))
        .env_remove("VARN_UPDATE_KEY")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("VARN_UPDATE_KEY") && said.contains("--dev"),
        "{said}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing built: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
