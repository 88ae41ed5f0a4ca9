//! Storage behind a small trait, so a region that outgrows one machine can swap SQLite for
//! PostgreSQL without touching the handlers. Every method is one transaction: it either
//! happens completely and durably, or not at all.

mod access;
mod alarms;
pub mod backup;
mod centre;
mod checkins;
mod files;
mod followup;
pub mod migrations;
pub mod postgres;
mod reports;
mod rules;
pub mod sqlite;

pub use rules::{session_live, CENTRE_KINDS, MAX_MESSAGES_PER_ALARM, SESSION_TOUCH_EVERY};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;
use varn_core::stats::{AlarmFacts, ReportFacts};
use varn_core::wire::{
    AlarmMessage, AlarmReceipt, AlarmRequest, AlarmStatus, AttachmentMeta, CancelRequest,
    CheckinReceipt, CheckinRequest, CheckinStatus, CheckoutOutcome, CheckoutRequest, Followup,
    FollowupState, ReportReceipt, ReportRequest, Role, TimelineEntry, UploadStatus,
};

pub use access::*;
pub use alarms::*;
pub use centre::*;
pub use checkins::*;
pub use files::*;
pub use followup::*;
pub use reports::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed (disk, corruption, lock); retrying may help.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The thing asked for does not exist (or belongs to another device or region).
    #[error("not found")]
    NotFound,
    /// The id exists but belongs to another device.
    #[error("this id belongs to another device")]
    OtherDevice,
    /// The same revision was sent with different content.
    #[error("revision {revision} was already received with different content")]
    RevisionConflict {
        /// The revision.
        revision: u32,
        /// The newest revision held.
        current: u32,
    },
    /// An attachment was announced again with different metadata.
    #[error("the attachment was announced with different metadata")]
    MetaConflict,
    /// A chunk does not start where the server is.
    #[error("the upload is at offset {expected}")]
    OffsetMismatch {
        /// Where the next chunk must start.
        expected: u64,
    },
    /// A chunk goes past the announced size.
    #[error("the chunk goes past the announced size of {size} bytes")]
    TooLarge {
        /// The announced size.
        size: u64,
    },
    /// All bytes arrived but their SHA-256 differs; the upload was reset to offset 0.
    #[error("the SHA-256 of the received bytes is {actual}, not {expected}; upload again")]
    ChecksumMismatch {
        /// Announced.
        expected: String,
        /// Computed.
        actual: String,
    },
    /// Enrollment code unknown.
    #[error("unknown enrollment code")]
    CodeUnknown,
    /// Enrollment code expired.
    #[error("the enrollment code has expired")]
    CodeExpired,
    /// Enrollment code already used.
    #[error("the enrollment code has already been used")]
    CodeUsed,
    /// A unique name is taken.
    #[error("{0} is already taken")]
    Taken(String),
    /// A change that is not allowed, with why.
    #[error("{0}")]
    Invalid(String),
    /// A change that conflicts with what is stored, with why.
    #[error("{0}")]
    Conflict(String),
}

/// What the region server stores, one trait per aggregate. One transaction per call.
/// Callers of a `dyn Store` bring the traits into scope with `use crate::store::prelude::*`.
#[async_trait]
pub trait Store:
    AccessStore
    + AlarmStore
    + CheckinStore
    + ReportStore
    + FollowupStore
    + CentreStore
    + FileStore
    + 'static
{
    /// Closes the database at a graceful stop, after the last request (SQLite: every
    /// connection, so that no `-wal` is left beside the file).
    async fn close(&self) {}

    /// Every change to an alarm, once, after it is committed: made here (the store's writes
    /// announce what they change, so no caller has to remember to) or, with PostgreSQL, by
    /// another instance sharing the database. Dashboards, waiting devices and the alarm
    /// centre's sender listen here.
    fn alarm_changes(&self) -> broadcast::Receiver<Arc<Alarm>>;
}

/// The store's traits, so that their calls on a `dyn Store` resolve.
pub mod prelude {
    pub use super::{
        AccessStore, AlarmStore, CentreStore, CheckinStore, FileStore, FollowupStore, ReportStore,
        Store,
    };
}

/// Where the data lives: a SQLite file (one machine) or a PostgreSQL database shared by
/// several instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else is a file path.
    pub fn parse(s: &str) -> Database {
        let lower = s.trim().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres(s.trim().to_string())
        } else {
            Database::Sqlite(PathBuf::from(s))
        }
    }

    /// The SQLite file, if it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }

    /// Opens (and migrates) it. For PostgreSQL, `access` gives the password when the URL has
    /// none, and the CA that signed the database's certificate (with `sslmode=require`).
    pub async fn open(&self, access: &DatabaseAccess) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            Database::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open(path)?)),
            Database::Postgres(url) => {
                let connect = postgres::parse_url(
                    url,
                    access.password.as_deref(),
                    access.ca_file.as_deref(),
                )?;
                Ok(postgres::PgStore::open(connect).await?)
            }
        }
    }
}

/// What a PostgreSQL connection needs besides its URL.
#[derive(Debug, Clone, Default)]
pub struct DatabaseAccess {
    /// The password (from `VARN_SERVER_DATABASE_PASSWORD`), when the URL has none.
    pub password: Option<String>,
    /// The CA certificate (PEM) that signed the database's certificate, for a private CA.
    pub ca_file: Option<PathBuf>,
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl std::fmt::Display for Database {
    /// For logs and messages: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => match url.parse::<reqwest::Url>() {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => write!(f, "a PostgreSQL URL"),
            },
        }
    }
}
