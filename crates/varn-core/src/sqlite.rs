//! SQLite helpers shared by the app and the region server: open a database durably (WAL,
//! `synchronous=FULL`, foreign keys) and apply numbered migrations tracked by `user_version`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Why a database could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer version.
    #[error("schema version {found} is newer than this build knows ({known})")]
    TooNew {
        /// `user_version` in the file.
        found: i64,
        /// Number of migrations this build has.
        known: i64,
    },
    /// WAL could not be switched on.
    #[error("could not switch to WAL (journal_mode is {0})")]
    NoWal(String),
}

/// Opens (creating if needed) a database for durable writes: WAL, `synchronous=FULL`,
/// foreign keys on, `secure_delete` on, a busy timeout.
pub fn open_durable(path: &Path) -> Result<Connection, MigrateError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(MigrateError::NoWal(mode));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(conn)
}

/// Applies the migrations after the database's `user_version`, each in its own transaction
/// together with the new `user_version`, so a crash leaves the schema at a whole step.
/// A database newer than `migrations` is refused and left untouched.
pub fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), MigrateError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = migrations.len() as i64;
    if current > known {
        return Err(MigrateError::TooNew {
            found: current,
            known,
        });
    }
    for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[&str] = &[
        "CREATE TABLE a (x INTEGER) STRICT;",
        "ALTER TABLE a ADD COLUMN y TEXT;",
        "CREATE TABLE b (z INTEGER) STRICT;",
    ];

    #[test]
    fn migrates_from_every_earlier_version() {
        for start in 0..=M.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let mut conn = open_durable(&path).unwrap();
            migrate(&mut conn, &M[..start]).unwrap();
            drop(conn);
            let mut conn = open_durable(&path).unwrap();
            migrate(&mut conn, M).unwrap();
            let v: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, 3);
            conn.execute("INSERT INTO a (x, y) VALUES (1, 'y')", [])
                .unwrap();
        }
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = open_durable(&path).unwrap();
        let bad = [
            M[0],
            "CREATE TABLE b (z INTEGER) STRICT; SYNTAX ERROR HERE;",
        ];
        assert!(migrate(&mut conn, &bad).is_err());
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        let b_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b_exists, 0, "the failed step was rolled back whole");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = open_durable(&path).unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
        assert!(matches!(
            migrate(&mut conn, M),
            Err(MigrateError::TooNew { found: 9, known: 3 })
        ));
    }
}
