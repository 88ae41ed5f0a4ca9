//! The app's SQLite database: WAL, `synchronous=FULL`, foreign keys on, numbered migrations
//! tracked with `PRAGMA user_version`, each applied in one transaction.
//!
//! Every write that a user makes goes through [`Db::write`], which commits before it returns:
//! when a command reports "saved", the data is on disk.

mod alarms;
mod appearances;
mod checkins;
mod checklist;
mod contacts;
mod incidents;
mod inventories;
mod link;
mod outbox;
mod settings;
mod trust;

pub use checklist::Tick;
pub use contacts::UserContact;
pub use incidents::{AttachError, IncidentRow};
pub use inventories::InventorySummary;
pub use link::{load_link, Link, LINK_KEYS, LINK_SERVERS_KEY};
pub use outbox::QueueCounts;
pub use settings::CLOSED_REPORTS_DAYS;
pub use trust::{LearnedKey, NumberNotice};

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, Transaction};
use varn_core::sqlite::{self, MigrateError};

/// Schema migrations, in order. Index + 1 is the `user_version` after applying it.
/// Never edit a migration that has shipped; add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: settings, the adopted region profile, checklist ticks, risk inventories.
    "CREATE TABLE settings (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
     ) STRICT;
     CREATE TABLE region_profile (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        version    INTEGER NOT NULL,
        json       TEXT NOT NULL,
        source     TEXT NOT NULL,
        adopted_at TEXT NOT NULL
     ) STRICT;
     CREATE TABLE checklist_ticks (
        item_id   TEXT PRIMARY KEY NOT NULL,
        ticked_at TEXT NOT NULL
     ) STRICT;
     CREATE TABLE inventories (
        id         TEXT PRIMARY KEY NOT NULL,
        what       TEXT NOT NULL,
        held_at    TEXT NOT NULL,
        place      TEXT NOT NULL,
        answers    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
     ) STRICT;
     CREATE INDEX inventories_by_time ON inventories (held_at DESC, created_at DESC);",
    // 2: alarms (written before they are sent) and the person's own contacts.
    "CREATE TABLE alarms (
        id                  TEXT PRIMARY KEY NOT NULL,
        triggered_at        TEXT NOT NULL,
        meeting             TEXT NOT NULL,
        place               TEXT NOT NULL,
        receipt             TEXT,
        cancel_requested_at TEXT,
        blocked             TEXT,
        revision            INTEGER NOT NULL DEFAULT 1,
        updated_at          TEXT NOT NULL
     ) STRICT;
     CREATE INDEX alarms_by_time ON alarms (triggered_at DESC);
     CREATE TABLE user_contacts (
        id         TEXT PRIMARY KEY NOT NULL,
        name       TEXT NOT NULL,
        number     TEXT NOT NULL,
        position   INTEGER NOT NULL,
        created_at TEXT NOT NULL
     ) STRICT;",
    // 3: incident reports and their attachments (bytes inside the encrypted database).
    "CREATE TABLE incidents (
        id                TEXT PRIMARY KEY NOT NULL,
        body              TEXT NOT NULL,
        status            TEXT NOT NULL,
        revision          INTEGER NOT NULL,
        sent_revision     INTEGER,
        received_revision INTEGER,
        received_at       TEXT,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
     ) STRICT;
     CREATE INDEX incidents_by_time ON incidents (created_at DESC);
     CREATE TABLE incident_attachments (
        id           TEXT PRIMARY KEY NOT NULL,
        incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
        filename     TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        created_at   TEXT NOT NULL
     ) STRICT;
     CREATE INDEX attachments_by_incident ON incident_attachments (incident_id);
     -- The bytes live apart from the metadata: a row is rewritten whole on UPDATE, and the
     -- bytes are written once (streamed) and never updated.
     CREATE TABLE attachment_data (
        attachment_id TEXT PRIMARY KEY NOT NULL REFERENCES incident_attachments (id) ON DELETE CASCADE,
        data          BLOB NOT NULL
     ) STRICT;",
    // 4: the outbox: what sync still has to send, written in the same transaction as the
    // change that makes it necessary; uploaded attachments are marked.
    "CREATE TABLE outbox (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL CHECK (kind IN ('report', 'attachment')),
        incident_id TEXT NOT NULL,
        item_id     TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        failed      TEXT,
        created_at  TEXT NOT NULL,
        UNIQUE (kind, item_id)
     ) STRICT;
     CREATE INDEX outbox_by_incident ON outbox (incident_id);
     ALTER TABLE incident_attachments ADD COLUMN uploaded_at TEXT;",
    // 5: drills ("Testlarm") go the same way as alarms, marked as such.
    "ALTER TABLE alarms ADD COLUMN drill INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE alarms ADD COLUMN acknowledged_seen_at TEXT;",
    // 6: when an alarm was written (for the region's timeline), and a cancel under duress.
    "ALTER TABLE alarms ADD COLUMN stored_at TEXT;
     ALTER TABLE alarms ADD COLUMN duress INTEGER NOT NULL DEFAULT 0;",
    // 7: check-ins (the whole state as JSON, written before anything is sent) and planned
    // appearances with their reminder.
    "CREATE TABLE checkins (
        id         TEXT PRIMARY KEY NOT NULL,
        body       TEXT NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
     ) STRICT;
     CREATE INDEX checkins_by_time ON checkins (started_at DESC);
     CREATE TABLE appearances (
        id             TEXT PRIMARY KEY NOT NULL,
        title          TEXT NOT NULL,
        place          TEXT NOT NULL,
        starts_at      TEXT NOT NULL,
        ends_at        TEXT NOT NULL,
        remind_minutes INTEGER NOT NULL,
        inventory_id   TEXT,
        reminded_at    TEXT,
        created_at     TEXT NOT NULL
     ) STRICT;
     CREATE INDEX appearances_by_start ON appearances (starts_at);",
    // 8: alarms raised silently with the duress PIN: sent, never shown on this device.
    "ALTER TABLE alarms ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;",
    // 9: the keys profiles are signed with, learned at linking (confirmed by the person) or
    // through a rotation, and retired ones; numbers a newer profile changed, shown once.
    "CREATE TABLE profile_keys (
        region_id    TEXT NOT NULL,
        key          TEXT NOT NULL,
        origin       TEXT NOT NULL CHECK (origin IN ('linking', 'rotation')),
        learned_at   TEXT NOT NULL,
        confirmed_at TEXT,
        retired_at   TEXT,
        PRIMARY KEY (region_id, key)
     ) STRICT;
     CREATE TABLE number_notices (
        contact_id TEXT PRIMARY KEY NOT NULL,
        name       TEXT NOT NULL,
        old_number TEXT NOT NULL,
        new_number TEXT NOT NULL,
        created_at TEXT NOT NULL,
        seen_at    TEXT
     ) STRICT;",
    // 10: the region's follow-up of a sent report (its state, who, the message to the
    // person), as the region's receipt last said; JSON of `varn_core::wire::Followup`.
    "ALTER TABLE incidents ADD COLUMN followup TEXT;",
    // 11: what the person writes to the region during an alarm, kept until the region has it
    // (or refuses it, with why), and what they want responders to know.
    "CREATE TABLE alarm_messages (
        id         TEXT PRIMARY KEY NOT NULL,
        alarm_id   TEXT NOT NULL REFERENCES alarms (id),
        text       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at    TEXT,
        refused    TEXT
     ) STRICT;
     CREATE INDEX alarm_messages_by_alarm ON alarm_messages (alarm_id, created_at);",
];

/// What went wrong in storage, sorted so a person knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The disk is full.
    #[error("the disk holding {path} is full")]
    DiskFull {
        /// The database file.
        path: PathBuf,
    },
    /// The file or directory is read-only or cannot be opened.
    #[error("cannot write the database {path}: {detail}")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// The file is not a database Värn can read (damaged, or encrypted with another key).
    #[error("the database {path} is damaged or not a Värn database: {detail}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// The database was written by a newer Värn.
    #[error("the database {path} has schema version {found}; this Värn knows up to {known}")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// `user_version` in the file.
        found: i64,
        /// The newest migration this build has.
        known: i64,
    },
    /// Another process holds the database.
    #[error("the database {path} is busy (is Värn running twice?)")]
    Busy {
        /// The database file.
        path: PathBuf,
    },
    /// Anything else SQLite reported.
    #[error("database error in {path}: {detail}")]
    Other {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// The database is locked: its key has not been given yet.
    #[error("the database is locked; unlock Värn first")]
    Locked,
    /// The screen is locked (idle lock or "Dölj"): reports and notes need the PIN first.
    #[error("the app is locked; enter the PIN to see reports and notes")]
    ScreenLocked,
    /// A stored value could not be decoded.
    #[error("stored data in {path} could not be read: {detail}")]
    Decode {
        /// The database file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
}

impl StorageError {
    pub(crate) fn from_sqlite(path: &Path, e: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        let detail = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StorageError::DiskFull { path },
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                StorageError::ReadOnly { path, detail }
            }
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                StorageError::Corrupt { path, detail }
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StorageError::Busy { path }
            }
            _ => StorageError::Other { path, detail },
        }
    }

    fn from_migrate(path: &Path, e: MigrateError) -> Self {
        match e {
            MigrateError::Sqlite(e) => StorageError::from_sqlite(path, e),
            MigrateError::TooNew { found, known } => StorageError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            },
            MigrateError::NoWal(mode) => StorageError::Other {
                path: path.to_path_buf(),
                detail: format!("could not switch to WAL (journal_mode is {mode})"),
            },
            MigrateError::WrongKey => StorageError::Corrupt {
                path: path.to_path_buf(),
                detail: "the key does not open it (or it is not a database)".into(),
            },
        }
    }
}

/// The open database. One connection behind a mutex: writes are small and must be serialised.
pub struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) an unencrypted database; tests of other behaviour use it.
    /// The app opens its database through [`crate::vault`], always encrypted.
    pub fn open(path: &Path) -> Result<Db, StorageError> {
        Db::open_keyed(path, None)
    }

    /// Opens (creating if needed) the database at `path`, encrypted under `key`, and brings
    /// its schema up to date. A wrong key is refused before anything is written.
    pub fn open_keyed(path: &Path, key: Option<&sqlite::Key>) -> Result<Db, StorageError> {
        let mut conn = sqlite::open_durable_keyed(path, key)
            .map_err(|e| StorageError::from_migrate(path, e))?;
        sqlite::migrate(&mut conn, MIGRATIONS).map_err(|e| StorageError::from_migrate(path, e))?;
        Ok(Db {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written transaction (SQLite rolls
        // it back), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a read.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StorageError> {
        f(&self.lock()).map_err(|e| StorageError::from_sqlite(&self.path, e))
    }

    /// Runs a write in one transaction and commits it; durable when this returns `Ok`.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StorageError> {
        let mut conn = self.lock();
        let run = |conn: &mut Connection| {
            let tx = conn.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run(&mut conn).map_err(|e| StorageError::from_sqlite(&self.path, e))
    }

    pub(crate) fn decode_err(&self, detail: impl ToString) -> StorageError {
        StorageError::Decode {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }

    /// The stored region profile (JSON) with its source, if one was adopted.
    pub fn stored_profile(&self) -> Result<Option<(String, String)>, StorageError> {
        use rusqlite::OptionalExtension;
        self.read(|c| {
            c.query_row(
                "SELECT json, source FROM region_profile WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// Stores an adopted region profile, replacing the previous one.
    pub fn store_profile(
        &self,
        version: u32,
        json: &str,
        source: &str,
        now: &str,
    ) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO region_profile (id, version, json, source, adopted_at)
                 VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET version = ?1, json = ?2, source = ?3, adopted_at = ?4",
                rusqlite::params![version, json, source, now],
            )?;
            Ok(())
        })
    }
}

/// The current time as stored: UTC, RFC 3339 with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        (dir, db)
    }

    /// `docs/privacy.md`, the region's record of processing, names every column of the app's
    /// database as `app.table.column`: one added without a line there fails here.
    #[test]
    fn every_column_is_in_the_record_of_processing() {
        let record = include_str!("../../docs/privacy.md");
        let (_dir, db) = temp_db();
        let columns = db.read(sqlite::columns).unwrap();
        assert!(columns.len() > 40, "{columns:?}");
        let absent: Vec<&String> = columns
            .iter()
            .filter(|c| !record.contains(&format!("`app.{c}`")))
            .collect();
        assert!(
            absent.is_empty(),
            "docs/privacy.md does not name these columns of the app (`app.table.column`): {absent:#?}"
        );
    }

    #[test]
    fn opens_in_wal_with_full_sync() {
        let (_dir, db) = temp_db();
        let (mode, sync, fk): (String, i64, i64) = db
            .read(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
        assert_eq!(fk, 1);
    }

    #[test]
    fn every_earlier_version_migrates_to_the_latest() {
        for start in 0..=MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("varn.db");
            {
                let mut conn = Connection::open(&path).unwrap();
                if sqlite::migrate(&mut conn, &MIGRATIONS[..start]).is_err() {
                    panic!("partial migration to {start} failed");
                }
            }
            let db = Db::open(&path).unwrap();
            let v: i64 = db
                .read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
                .unwrap();
            assert_eq!(v, MIGRATIONS.len() as i64, "from version {start}");
            // And the schema works.
            db.set_setting("probe", "1").unwrap();
        }
    }

    #[test]
    fn a_newer_database_is_refused_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 999).unwrap();
        }
        match Db::open(&path) {
            Err(StorageError::TooNew { found: 999, .. }) => {}
            other => panic!("expected TooNew, got {:?}", other.err()),
        }
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 999);
    }

    #[test]
    fn a_file_that_is_not_a_database_gives_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let err = Db::open(&path).err().expect("must fail");
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("varn.db"));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            vec![0x42u8; 8192],
            "file untouched"
        );
    }

    #[test]
    fn profile_is_stored_and_replaced() {
        let (_dir, db) = temp_db();
        assert!(db.stored_profile().unwrap().is_none());
        db.store_profile(1, "{\"a\":1}", "file", &now()).unwrap();
        db.store_profile(2, "{\"a\":2}", "server", &now()).unwrap();
        assert_eq!(
            db.stored_profile().unwrap(),
            Some(("{\"a\":2}".to_string(), "server".to_string()))
        );
    }
}
