//! Backup and restore of the SQLite database: `varn-server backup --to FILE` takes a
//! consistent copy while the server runs (`VACUUM INTO` on a connection of its own:
//! one read transaction, so the copy is the database at one moment), and `varn-server restore
//! --from FILE` puts a checked copy in place of a stopped server's database. Both write under
//! a temporary name, sync and rename, so a crash never leaves half a file under the real name.
//! On PostgreSQL, `pg_dump` and `pg_restore` do this (see [`POSTGRES_GUIDANCE`]).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use varn_core::sqlite as core_sqlite;

/// What to do on PostgreSQL instead.
pub const POSTGRES_GUIDANCE: &str = "\
on PostgreSQL, back up with pg_dump and restore with pg_restore (the password from PGPASSWORD):
  pg_dump --format=custom --file=varn.dump 'postgres://varn@db.example/varn'
  pg_restore --clean --if-exists --dbname='postgres://varn@db.example/varn' varn.dump
Keep the server's secret file (--secret-file) with the dump: enrollment codes are stored under it.";

/// What a database holds, read to check a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Alarms.
    pub alarms: u64,
    /// Reports.
    pub reports: u64,
    /// Attachments.
    pub attachments: u64,
    /// Enrolled devices.
    pub devices: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} alarms, {} reports, {} attachments, {} devices ({:.1} MB)",
            self.alarms,
            self.reports,
            self.attachments,
            self.devices,
            self.bytes as f64 / 1e6
        )
    }
}

/// Copies the database at `db` to `to` (which must not exist) while it may be in use, and
/// checks the copy.
pub fn backup(db: &Path, to: &Path) -> Result<Summary, String> {
    if !db.is_file() {
        return Err(format!("{}: no database there", db.display()));
    }
    if to.exists() {
        return Err(format!(
            "{} exists already; choose a new name (a backup never overwrites)",
            to.display()
        ));
    }
    let partial = partial_name(to);
    let _ = fs::remove_file(&partial);
    // The copy's file exists, empty and the server user's alone, before its first byte
    // (VACUUM INTO writes into an empty file).
    create_private(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    // Read-write without create (a WAL database needs its shared-memory file), but nothing
    // is written: VACUUM INTO only reads the source.
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("{}: {e}", db.display()))?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(|e| e.to_string())?;
    let target = partial
        .to_str()
        .ok_or_else(|| format!("{}: the name is not UTF-8", to.display()))?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| format!("copying {}: {e}", db.display()))?;
    drop(conn);
    let finish = || -> Result<Summary, String> {
        let summary = check(&partial)?;
        durable_rename(&partial, to).map_err(|e| format!("{}: {e}", to.display()))?;
        Ok(summary)
    };
    finish().inspect_err(|_| {
        let _ = fs::remove_file(&partial);
    })
}

/// Puts the backup `from` in place of the database at `db`, migrated to this version: refused
/// while `db` is open (a server running on it) and, when `db` exists, unless `replace` (the
/// old file is then kept beside it as `<db>.replaced-<time>`, and returned).
pub fn restore(
    from: &Path,
    db: &Path,
    replace: bool,
) -> Result<(Summary, Option<PathBuf>), String> {
    let summary = check(from)?;
    for side in ["-wal", "-shm"] {
        let file = sibling(db, side);
        if file.exists() {
            return Err(format!(
                "{} exists: the database is open (or was not closed). Stop the server first; \
                 if it is stopped, start and stop it once so that SQLite folds the file in",
                file.display()
            ));
        }
    }
    let mut kept = None;
    if db.exists() {
        if !replace {
            return Err(format!(
                "{} exists; stop the server and pass --replace to restore over it (the current \
                 database is kept beside it)",
                db.display()
            ));
        }
        let aside = sibling(
            db,
            &format!(".replaced-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")),
        );
        fs::rename(db, &aside).map_err(|e| format!("{}: {e}", db.display()))?;
        kept = Some(aside);
    }
    let partial = partial_name(db);
    let copy = || -> Result<(), String> {
        let named = |e: &dyn std::fmt::Display| format!("{}: {e}", db.display());
        let mut out = create_private(&partial).map_err(|e| named(&e))?;
        io::copy(&mut File::open(from).map_err(|e| named(&e))?, &mut out).map_err(|e| named(&e))?;
        out.sync_all().map_err(|e| named(&e))?;
        // Migrated here, under the temporary name: a backup from an older version is brought
        // up to date, one from a newer refused before anything is replaced. The connection is
        // closed before the rename, so no -wal is left beside the restored file.
        let mut conn = core_sqlite::open_durable(&partial).map_err(|e| named(&e))?;
        core_sqlite::migrate(&mut conn, &super::migrations::sqlite()).map_err(|e| named(&e))?;
        // The restore is in the restored database's own audit log, so it outlives itself.
        let entry = super::AuditEntry {
            at: chrono::Utc::now(),
            region_id: String::new(),
            officer: operator(),
            role: String::new(),
            subject: String::new(),
            action: super::AuditAction::RestoreDatabase.as_str().into(),
            item_kind: "database".into(),
            item_id: format!("{} ({summary})", from.display()),
            items: String::new(),
        };
        super::sqlite::insert_audit(&conn, &entry).map_err(|e| named(&e))?;
        conn.close().map_err(|(_, e)| named(&e))?;
        durable_rename(&partial, db).map_err(|e| named(&e))
    };
    if let Err(e) = copy() {
        for leftover in ["", "-wal", "-shm"] {
            let _ = fs::remove_file(sibling(&partial, leftover));
        }
        if let Some(aside) = &kept {
            let _ = fs::rename(aside, db);
        }
        return Err(e);
    }
    Ok((summary, kept))
}

/// Who runs this command: the user behind `sudo`, else the user.
fn operator() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// Reads `path` as a Värn server database: SQLite's integrity check, and what it holds.
pub fn check(path: &Path) -> Result<Summary, String> {
    let name = path.display();
    let bytes = fs::metadata(path)
        .map_err(|e| format!("{name}: {e}"))?
        .len();
    // Read-only: checking a backup never changes it.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("{name}: {e}"))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("{name} is not a readable SQLite database: {e}"))?;
    if integrity != "ok" {
        return Err(format!("{name} is damaged: {integrity}"));
    }
    let count = |table: &str| -> Result<u64, String> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as u64)
        .map_err(|e| format!("{name} is not a Värn server database ({table}: {e})"))
    };
    Ok(Summary {
        alarms: count("alarms")?,
        reports: count("reports")?,
        attachments: count("attachments")?,
        devices: count("devices")?,
        bytes,
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn partial_name(path: &Path) -> PathBuf {
    sibling(path, ".partial")
}

/// Creates `path` (which must not exist) empty and readable by the server's user only, from
/// before its first byte: the database holds names, places and reports.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Renames `from` to `to` and syncs the directory, so the new name survives a crash.
fn durable_rename(from: &Path, to: &Path) -> io::Result<()> {
    File::open(from)?.sync_all()?;
    fs::rename(from, to)?;
    let dir = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    fn mode(path: &Path) -> Option<u32> {
        fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn a_private_file_is_private_before_its_first_byte_and_never_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        let file = create_private(&path).unwrap();
        assert_eq!(
            (mode(&path), file.metadata().unwrap().len()),
            (Some(0o600), 0)
        );
        assert_eq!(
            create_private(&path).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
    }

    /// A backup large enough to watch being written: every time its file is seen, from the
    /// first, only the server's user may read it.
    #[test]
    fn a_backup_is_never_readable_by_others_while_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("varn.db");
        {
            let mut c = core_sqlite::open_durable(&db).unwrap();
            core_sqlite::migrate(&mut c, &super::super::migrations::sqlite()).unwrap();
            c.execute_batch(
                "CREATE TABLE ballast (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO ballast SELECT randomblob(16384) FROM n;",
            )
            .unwrap();
        }
        let to = dir.path().join("copy.db");
        let partial = partial_name(&to);
        let (done, seen) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(Vec::new())),
        );
        let watcher = {
            let (done, seen, partial) = (done.clone(), seen.clone(), partial.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    if let Some(m) = mode(&partial) {
                        seen.lock().unwrap().push(m);
                    }
                }
            })
        };
        let summary = backup(&db, &to).unwrap();
        done.store(true, Ordering::SeqCst);
        watcher.join().unwrap();
        let seen = seen.lock().unwrap();
        assert!(
            !seen.is_empty(),
            "the copy (32 MB) was seen while it was written"
        );
        assert!(seen.iter().all(|&m| m == 0o600), "{seen:?}");
        assert_eq!(mode(&to), Some(0o600));
        assert!(summary.bytes > 30_000_000, "{summary}");
        // And a backup never overwrites.
        assert!(backup(&db, &to).unwrap_err().contains("exists already"));
    }
}
