//! The error every command returns: `{ "kind": "...", "message": "..." }`. The UI shows the
//! localised text for `kind` and the message as detail. Every error of the floors below
//! becomes one here, in one place (the `From` impls at the end).

use serde::Serialize;

use crate::link::enroll::LinkError;
use crate::pin::PinError;
use crate::runners::alarm::AlarmError;
use crate::runners::checkin::CheckinError;
use crate::storage::{AttachError, StorageError};

/// Every kind of error a command returns: the name the UI branches on and shows as
/// `error.<kind>` (ui/i18n). One list, so that a test can see that each has its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Input the person gave that cannot be used.
    InvalidInput,
    /// Something asked for that does not exist (any more).
    NotFound,
    /// The disk is full.
    DiskFull,
    /// The database may not be written.
    ReadOnly,
    /// The database is damaged or not Värn's.
    Corrupt,
    /// The database is from a newer version of Värn.
    TooNew,
    /// Another program holds the database.
    Busy,
    /// The database is not open yet (no key).
    Locked,
    /// The lock screen is up: the command is not among those allowed behind it.
    ScreenLocked,
    /// Anything else that kept a write from being durable.
    Storage,
    /// A server address that cannot be used.
    BadUrl,
    /// The region's server does not answer.
    ServerUnreachable,
    /// The region's server refused the one-time code.
    EnrollRefused,
    /// The OS keychain could not be used.
    Keychain,
    /// Too many wrong passphrases: wait before the next.
    Wait,
    /// A wrong passphrase.
    WrongPassphrase,
    /// A file to attach could not be read.
    FileUnreadable,
    /// A file changed while it was copied in.
    FileChanged,
    /// A file too large to attach.
    FileTooLarge,
    /// An export could not be written.
    Export,
    /// No PIN is set.
    PinNotSet,
    /// A wrong PIN (the message: seconds to wait before the next).
    WrongPin,
    /// Too many wrong PINs (the message: seconds to wait).
    PinWait,
    /// The check-in is over already.
    Finished,
    /// Updates cannot be had here; the message is `not_linked` or `no_key` (a build without
    /// an update key).
    UpdateUnavailable,
    /// An update's signature or download was not the region's signed bundle: not installed.
    UpdateRefused,
    /// An update could not be installed (the message says what the system said).
    UpdateFailed,
    /// An update waits: the message names what is open (alarm, checkin, unsynced_reports).
    UpdateHeld,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 28] = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::DiskFull,
        ErrorKind::ReadOnly,
        ErrorKind::Corrupt,
        ErrorKind::TooNew,
        ErrorKind::Busy,
        ErrorKind::Locked,
        ErrorKind::ScreenLocked,
        ErrorKind::Storage,
        ErrorKind::BadUrl,
        ErrorKind::ServerUnreachable,
        ErrorKind::EnrollRefused,
        ErrorKind::Keychain,
        ErrorKind::Wait,
        ErrorKind::WrongPassphrase,
        ErrorKind::FileUnreadable,
        ErrorKind::FileChanged,
        ErrorKind::FileTooLarge,
        ErrorKind::Export,
        ErrorKind::PinNotSet,
        ErrorKind::WrongPin,
        ErrorKind::PinWait,
        ErrorKind::Finished,
        ErrorKind::UpdateUnavailable,
        ErrorKind::UpdateRefused,
        ErrorKind::UpdateFailed,
        ErrorKind::UpdateHeld,
    ];

    /// Its name (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::DiskFull => "disk_full",
            ErrorKind::ReadOnly => "read_only",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::TooNew => "too_new",
            ErrorKind::Busy => "busy",
            ErrorKind::Locked => "locked",
            ErrorKind::ScreenLocked => "screen_locked",
            ErrorKind::Storage => "storage",
            ErrorKind::BadUrl => "bad_url",
            ErrorKind::ServerUnreachable => "server_unreachable",
            ErrorKind::EnrollRefused => "enroll_refused",
            ErrorKind::Keychain => "keychain",
            ErrorKind::Wait => "wait",
            ErrorKind::WrongPassphrase => "wrong_passphrase",
            ErrorKind::FileUnreadable => "file_unreadable",
            ErrorKind::FileChanged => "file_changed",
            ErrorKind::FileTooLarge => "file_too_large",
            ErrorKind::Export => "export",
            ErrorKind::PinNotSet => "pin_not_set",
            ErrorKind::WrongPin => "wrong_pin",
            ErrorKind::PinWait => "pin_wait",
            ErrorKind::Finished => "finished",
            ErrorKind::UpdateUnavailable => "update_unavailable",
            ErrorKind::UpdateRefused => "update_refused",
            ErrorKind::UpdateFailed => "update_failed",
            ErrorKind::UpdateHeld => "update_held",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CommandError {
    /// Stable name the UI branches on (and looks up as `error.<kind>`).
    pub kind: ErrorKind,
    /// Detail for the person: which field, which file, what the system said.
    pub message: String,
}

impl CommandError {
    /// Input the user gave that cannot be used.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::InvalidInput,
            message: format!("{field}: {}", message.into()),
        }
    }

    /// Something asked for that does not exist (any more).
    pub fn not_found(what: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::NotFound,
            message: what.into(),
        }
    }
}

impl From<StorageError> for CommandError {
    fn from(e: StorageError) -> Self {
        CommandError {
            kind: storage_kind(&e),
            message: e.to_string(),
        }
    }
}

impl From<AlarmError> for CommandError {
    fn from(e: AlarmError) -> Self {
        match e {
            AlarmError::Storage(e) => e.into(),
            AlarmError::NotFound(id) => CommandError::not_found(format!("alarm {id}")),
            AlarmError::Server(m) => CommandError {
                kind: ErrorKind::ServerUnreachable,
                message: m,
            },
            e @ AlarmError::CannotWrite => CommandError {
                kind: ErrorKind::InvalidInput,
                message: e.to_string(),
            },
            AlarmError::Invalid(m) => CommandError {
                kind: ErrorKind::InvalidInput,
                message: m,
            },
        }
    }
}

impl From<LinkError> for CommandError {
    fn from(e: LinkError) -> Self {
        let kind = match &e {
            LinkError::BadUrl(_) => ErrorKind::BadUrl,
            LinkError::Client(c) if c.is_retryable() => ErrorKind::ServerUnreachable,
            LinkError::Client(_) => ErrorKind::EnrollRefused,
            LinkError::Keychain(_) => ErrorKind::Keychain,
            LinkError::Storage(_) => ErrorKind::Storage,
        };
        CommandError {
            kind,
            message: e.to_string(),
        }
    }
}

impl From<PinError> for CommandError {
    fn from(e: PinError) -> Self {
        // For waits the message is the number of seconds; the UI words it.
        let (kind, message) = match &e {
            PinError::NotSet => (ErrorKind::PinNotSet, e.to_string()),
            PinError::Wrong(wait) => (ErrorKind::WrongPin, wait.to_string()),
            PinError::Wait(wait) => (ErrorKind::PinWait, wait.to_string()),
            PinError::Format(f) => return CommandError::invalid("pin", f.to_string()),
            PinError::Storage(s) => (storage_kind(s), s.to_string()),
            PinError::Hash(_) => (ErrorKind::Storage, e.to_string()),
        };
        CommandError { kind, message }
    }
}

impl From<CheckinError> for CommandError {
    fn from(e: CheckinError) -> Self {
        match e {
            CheckinError::Storage(s) => s.into(),
            CheckinError::NotFound(id) => CommandError::not_found(format!("check-in {id}")),
            CheckinError::Minutes => CommandError::invalid("minutes", e.to_string()),
            CheckinError::Finished => CommandError {
                kind: ErrorKind::Finished,
                message: e.to_string(),
            },
        }
    }
}

impl From<AttachError> for CommandError {
    fn from(e: AttachError) -> Self {
        let kind = match &e {
            AttachError::Unreadable(_) => ErrorKind::FileUnreadable,
            AttachError::Changed { .. } => ErrorKind::FileChanged,
            AttachError::TooLarge(_) => ErrorKind::FileTooLarge,
            AttachError::NoReport => ErrorKind::NotFound,
            AttachError::Storage(s) => storage_kind(s),
        };
        CommandError {
            kind,
            message: e.to_string(),
        }
    }
}

/// The kind of a storage error, for the UI to branch on (the storage floor knows nothing of
/// commands; the mapping lives here, with the others).
pub fn storage_kind(e: &StorageError) -> ErrorKind {
    match e {
        StorageError::DiskFull { .. } => ErrorKind::DiskFull,
        StorageError::ReadOnly { .. } => ErrorKind::ReadOnly,
        StorageError::Corrupt { .. } => ErrorKind::Corrupt,
        StorageError::TooNew { .. } => ErrorKind::TooNew,
        StorageError::Busy { .. } => ErrorKind::Busy,
        StorageError::Locked => ErrorKind::Locked,
        StorageError::ScreenLocked => ErrorKind::ScreenLocked,
        StorageError::Other { .. } | StorageError::Decode { .. } => ErrorKind::Storage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_name_and_it_is_what_the_ui_receives() {
        let mut names = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
            assert!(names.insert(kind.as_str()), "{kind:?} named twice");
        }
        let e = CommandError::invalid("pin", "4–8 siffror");
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            serde_json::json!({ "kind": "invalid_input", "message": "pin: 4–8 siffror" })
        );
    }
}
