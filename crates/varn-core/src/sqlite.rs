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
    /// The key does not open the file (or the file is not a database).
    #[error("the database cannot be opened with this key (or is not a database)")]
    WrongKey,
}

/// The most a WAL keeps of old pages after it starts over (bytes): old images of deleted rows
/// do not linger in a WAL grown large once.
pub const JOURNAL_SIZE_LIMIT: u64 = 16 * 1024 * 1024;

/// A 256-bit SQLCipher key.
pub type Key = [u8; 32];

/// Opens (creating if needed) a database for durable writes: WAL, `synchronous=FULL`,
/// foreign keys on, `secure_delete` on (a deleted row's bytes are overwritten), the WAL cut
/// back to [`JOURNAL_SIZE_LIMIT`] whenever it starts over, a busy timeout.
pub fn open_durable(path: &Path) -> Result<Connection, MigrateError> {
    open_durable_keyed(path, None)
}

/// Like [`open_durable`], encrypted with SQLCipher under `key` (raw 256-bit key, no KDF).
/// A wrong key fails with [`MigrateError::WrongKey`] before anything is written.
pub fn open_durable_keyed(path: &Path, key: Option<&Key>) -> Result<Connection, MigrateError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    if let Some(key) = key {
        // A wrong key is an answer we handle, not something for SQLCipher to print on stderr.
        let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
        // The key must be the first statement on the connection that touches the file.
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex_upper(key)))?;
    }
    // Reading the schema proves the key (SQLCipher decrypts page 1 here).
    let probe = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    });
    if let Err(e) = probe {
        return Err(match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => MigrateError::WrongKey,
            _ => MigrateError::Sqlite(e),
        });
    }
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
    conn.query_row(
        &format!("PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}"),
        [],
        |_| Ok(()),
    )?;
    Ok(conn)
}

/// Every column of every table of the database, as `table.column`, in schema order (for the
/// record of processing, `docs/privacy.md`, which must name each).
pub fn columns(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
        for c in stmt.query_map([&t], |r| r.get::<_, String>(0))? {
            out.push(format!("{t}.{}", c?));
        }
    }
    Ok(out)
}

fn hex_upper(key: &Key) -> String {
    key.iter().map(|b| format!("{b:02X}")).collect()
}

/// Copies a plaintext database into a new file encrypted under `key` (SQLCipher's
/// `sqlcipher_export`). The caller renames it into place once it is complete.
pub fn encrypt_copy(plain: &Path, encrypted: &Path, key: &Key) -> Result<(), MigrateError> {
    // CREATE: the attached file is new, and ATTACH inherits the connection's flags.
    let conn = Connection::open_with_flags(
        plain,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|_| MigrateError::WrongKey)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    conn.execute(
        &format!(
            "ATTACH DATABASE ?1 AS encrypted KEY \"x'{}'\"",
            hex_upper(key)
        ),
        [encrypted.to_string_lossy()],
    )?;
    conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    conn.execute_batch(&format!(
        "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
    ))?;
    Ok(())
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
    fn encrypted_databases_need_their_key_and_hold_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.db");
        let key = [7u8; 32];
        {
            let mut conn = open_durable_keyed(&path, Some(&key)).unwrap();
            migrate(&mut conn, M).unwrap();
            conn.execute(
                "INSERT INTO a (x, y) VALUES (1, 'Hotfullt samtal från okänd')",
                [],
            )
            .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(9).any(|w| w == b"Hotfullt "),
                "plaintext on disk"
            );
            assert!(
                !bytes.starts_with(b"SQLite format 3"),
                "an unencrypted header"
            );
        }
        assert!(matches!(
            open_durable_keyed(&path, None),
            Err(MigrateError::WrongKey)
        ));
        assert!(matches!(
            open_durable_keyed(&path, Some(&[8u8; 32])),
            Err(MigrateError::WrongKey)
        ));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "a wrong key changes nothing"
        );
        let conn = open_durable_keyed(&path, Some(&key)).unwrap();
        let y: String = conn.query_row("SELECT y FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(y, "Hotfullt samtal från okänd");
    }

    #[test]
    fn a_plaintext_database_is_copied_into_an_encrypted_one() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("p.db");
        let enc = dir.path().join("p.db.encrypted");
        {
            let mut conn = open_durable(&plain).unwrap();
            migrate(&mut conn, M).unwrap();
            conn.execute("INSERT INTO a (x, y) VALUES (2, 'klartext')", [])
                .unwrap();
        }
        let key = [9u8; 32];
        encrypt_copy(&plain, &enc, &key).unwrap();
        let conn = open_durable_keyed(&enc, Some(&key)).unwrap();
        let (x, v): (i64, i64) = conn
            .query_row(
                "SELECT x, (SELECT user_version FROM pragma_user_version) FROM a",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((x, v), (2, 3));
        assert!(!std::fs::read(&enc)
            .unwrap()
            .windows(8)
            .any(|w| w == b"klartext"));
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
