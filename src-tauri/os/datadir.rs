//! The data directory: where the database and the webview's own files live.
//!
//! Preparing it either succeeds completely or leaves nothing behind: directories created on
//! the way are removed again if the directory turns out not to be writable.

use std::io;
use std::path::{Path, PathBuf};

/// The application identifier; also the name of the default data directory.
pub const IDENTIFIER: &str = "se.varn.app";

/// The platform's app-data directory for Värn (on Linux `$XDG_DATA_HOME/se.varn.app`).
pub fn default_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join(IDENTIFIER))
}

/// Why the data directory cannot be used. The message names the path.
#[derive(Debug, thiserror::Error)]
#[error(
    "Värn kan inte använda datamappen {path}: {source}\n\
     Värn cannot use the data directory {path}: {source}\n\
     Välj en annan mapp med --data-dir / choose another directory with --data-dir."
)]
pub struct DataDirError {
    /// The directory that failed.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

/// Creates `dir` if needed and checks that files can be created in it.
/// On failure, every directory this call created is removed again.
pub fn prepare(dir: &Path) -> Result<PathBuf, DataDirError> {
    let err = |source| DataDirError {
        path: dir.to_path_buf(),
        source,
    };
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().map_err(err)?.join(dir)
    };
    // Remember which ancestors do not exist yet, so a failure can undo exactly those.
    let created: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|p| !p.exists())
        .map(Path::to_path_buf)
        .collect();
    let result = std::fs::create_dir_all(&dir).and_then(|()| probe_writable(&dir));
    match result {
        Ok(()) => Ok(dir),
        Err(source) => {
            // Deepest first; remove_dir only removes empty directories, so nothing else is touched.
            for p in &created {
                let _ = std::fs::remove_dir(p);
            }
            Err(DataDirError { path: dir, source })
        }
    }
}

fn probe_writable(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            "det är ingen mapp / not a directory",
        ));
    }
    let probe = dir.join(format!(".varn-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok")?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_nested_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/c");
        assert_eq!(prepare(&dir).unwrap(), dir);
        assert!(dir.is_dir());
    }

    #[test]
    fn unwritable_parent_fails_and_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let locked = tmp.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        if std::fs::write(locked.join("probe"), b"").is_ok() {
            // Running as root: permissions do not stop us, so this case cannot be shown here.
            // `a_file_in_the_way_…` below shows the same undo path for every user.
            return;
        }
        let err = prepare(&locked.join("x/y")).unwrap_err();
        assert!(err
            .to_string()
            .contains(&locked.join("x/y").display().to_string()));
        assert!(!locked.join("x").exists());
    }

    #[test]
    fn a_file_in_the_way_fails_and_leaves_no_half_created_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = prepare(&file.join("sub")).unwrap_err();
        assert!(err.to_string().contains("file/sub"), "{err}");
        let err = prepare(&file).unwrap_err();
        assert_eq!(err.path, file);
        let entries: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(entries.len(), 1);
    }

    #[test]
    fn relative_paths_become_absolute() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = std::env::current_dir().unwrap();
        let rel = tmp.path().strip_prefix(&cwd).map(Path::to_path_buf);
        if let Ok(rel) = rel {
            assert!(prepare(&rel).unwrap().is_absolute());
        }
    }
}
