//! Runs tauri-build with the capabilities kept under `src-tauri/capabilities/` and a permission
//! for each app command, so only the commands a capability lists can be called. The commands
//! are read from the one table, `src-tauri/commands/table.rs`.

/// The command table.
const TABLE: &str = "src-tauri/commands/table.rs";

/// The commands' names: each `module::name: locked|open,` line of the table.
fn commands() -> &'static [&'static str] {
    let table = std::fs::read_to_string(TABLE).unwrap_or_else(|e| panic!("{TABLE}: {e}"));
    let names: Vec<&'static str> = table
        .lines()
        .filter_map(|line| {
            let (path, lock) = line.trim().trim_end_matches(',').split_once(": ")?;
            let (_, name) = path.split_once("::")?;
            let word =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            (matches!(lock, "locked" | "open") && word(name)).then(|| &*name.to_string().leak())
        })
        .collect();
    assert!(
        names.len() > 40,
        "{TABLE}: only {} commands found",
        names.len()
    );
    names.leak()
}

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(commands()));
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed={TABLE}");
    println!("cargo:rerun-if-changed=ui");
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
}
