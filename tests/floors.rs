//! The house on floors: the shell's modules import only downwards, and the UI's modules form
//! no circle. Read from the source as text (what a reviewer reads), so an upward `crate::…`
//! or a new circle fails here with the file that made it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The shell's floors, bottom first. A module may import from its own folder and from any
/// floor below its own, never from its floor or above.
const FLOORS: &[&[&str]] = &[
    &["os", "i18n", "export"],
    &["storage"],
    &["vault", "pin", "profiles", "events"],
    &["link"],
    &["runners"],
    &["state"],
    &["error"],
    &["updates", "window"],
    &["commands"],
    &["lib", "cli", "main"],
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The top module a file of the shell belongs to (`runners/alarm.rs` → `runners`).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(root().join("src-tauri")).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without its tests and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_shell_imports_only_downwards() {
    let floor: BTreeMap<&str, usize> = FLOORS
        .iter()
        .enumerate()
        .flat_map(|(i, mods)| mods.iter().map(move |m| (*m, i)))
        .collect();
    let mut all = Vec::new();
    files(&root().join("src-tauri"), "rs", &mut all);
    let mut upward = Vec::new();
    let mut seen = BTreeSet::new();
    for file in all {
        let from = module_of(&file);
        if from == "build" {
            continue;
        }
        let Some(&mine) = floor.get(from.as_str()) else {
            panic!("{} is on no floor: add `{from}` to FLOORS", file.display());
        };
        let text = code(&file);
        for part in text.split("crate::").skip(1) {
            let to: String = part
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if to == from || to.is_empty() {
                continue;
            }
            // A function of the crate root (lib.rs) is the top floor.
            let theirs = floor.get(to.as_str()).copied().unwrap_or(floor["lib"]);
            seen.insert((from.clone(), to.clone()));
            if theirs >= mine {
                upward.push(format!(
                    "{} imports crate::{to} (floor {theirs}) from floor {mine}",
                    file.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(seen.len() > 30, "only {} edges seen: {seen:?}", seen.len());
    upward.sort();
    upward.dedup();
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_ui_has_no_import_circle() {
    let mut all = Vec::new();
    files(&root().join("ui"), "js", &mut all);
    let graph: BTreeMap<PathBuf, Vec<PathBuf>> = all
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let deps = text
                .lines()
                .filter(|l| l.starts_with("import "))
                .filter_map(|l| l.split(" from '").nth(1))
                .filter_map(|rest| rest.split('\'').next())
                .map(|rel| {
                    let joined = file.parent().unwrap().join(rel);
                    let mut clean = PathBuf::new();
                    for c in joined.components() {
                        match c {
                            std::path::Component::ParentDir => {
                                clean.pop();
                            }
                            std::path::Component::CurDir => {}
                            other => clean.push(other),
                        }
                    }
                    clean
                })
                .collect();
            (file.clone(), deps)
        })
        .collect();
    assert!(graph.len() > 20, "only {} modules", graph.len());
    // Depth-first: a module met again while still on the path closes a circle.
    fn visit(
        at: &PathBuf,
        graph: &BTreeMap<PathBuf, Vec<PathBuf>>,
        path: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            return Some(path[i..].to_vec());
        }
        if !done.insert(at.clone()) {
            return None;
        }
        path.push(at.clone());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        let circle = visit(start, &graph, &mut Vec::new(), &mut done);
        assert!(circle.is_none(), "an import circle: {circle:?}");
    }
}

/// The UI's state is written in one place: `ui/state.js` (`put`, `takeAlarm`, `takeCheckin`,
/// …). An assignment to a field of `ctx` anywhere else (`ctx.sync = …`, `ctx.pin.x = …`,
/// `Object.assign(ctx, …)`) would step around its rules.
#[test]
fn the_ui_writes_its_state_only_through_state_js() {
    /// Where `line` assigns to a field of `ctx`, if it does.
    fn assigns_ctx(line: &str) -> bool {
        if line.contains("Object.assign(ctx") {
            return true;
        }
        let mut rest = line;
        while let Some(i) = rest.find("ctx.") {
            let before_ok = i == 0 || {
                let c = rest[..i].chars().next_back().unwrap_or(' ');
                !(c.is_alphanumeric() || c == '_' || c == '.')
            };
            let after = &rest[i + 4..];
            let path_len = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(after.len());
            let tail = after[path_len..].trim_start();
            if before_ok
                && path_len > 0
                && tail.starts_with('=')
                && !tail.starts_with("==")
                && !tail.starts_with("=>")
            {
                return true;
            }
            rest = &after[path_len..];
        }
        false
    }
    assert!(assigns_ctx("  ctx.sync = view;"));
    assert!(assigns_ctx("x(); ctx.pin.pin_set = true;"));
    assert!(!assigns_ctx("if (ctx.sync === view) {}"));
    assert!(!assigns_ctx("put({ sync: ctx.sync });"));
    let mut all = Vec::new();
    files(&root().join("ui"), "js", &mut all);
    let mut writes = Vec::new();
    for file in all.iter().filter(|f| !f.ends_with("ui/state.js")) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//") && !code.starts_with('*') && assigns_ctx(line) {
                writes.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        writes.is_empty(),
        "ctx written outside ui/state.js:\n{}",
        writes.join("\n")
    );
}

/// The server's modules form no circle either (its floors are its own; here only that none
/// of its top modules reaches, through others, back to itself).
#[test]
fn the_servers_modules_form_no_circle() {
    let src = root().join("crates/varn-server/src");
    let mut all = Vec::new();
    files(&src, "rs", &mut all);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &all {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let from = first.trim_end_matches(".rs").to_string();
        if from == "bin" || from == "main" {
            continue;
        }
        for part in code(file).split("crate::").skip(1) {
            let to: String = part
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if to != from && !to.is_empty() {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    assert!(graph.len() > 15, "only {} modules", graph.len());
    fn reaches(
        from: &str,
        target: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        graph.get(from).into_iter().flatten().any(|next| {
            next == target || (seen.insert(next.clone()) && reaches(next, target, graph, seen))
        })
    }
    let circles: Vec<&String> = graph
        .keys()
        .filter(|m| reaches(m, m, &graph, &mut BTreeSet::new()))
        .collect();
    assert!(
        circles.is_empty(),
        "modules on an import circle: {circles:?}"
    );
}
