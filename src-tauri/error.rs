//! The error every command returns: `{ "kind": "...", "message": "..." }`. The UI shows the
//! localised text for `kind` and the message as detail.

use serde::Serialize;

use crate::storage::StorageError;

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CommandError {
    /// Stable name the UI branches on (and looks up as `error.<kind>`).
    pub kind: &'static str,
    /// Detail for the person: which field, which file, what the system said.
    pub message: String,
}

impl CommandError {
    /// Input the user gave that cannot be used.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CommandError {
            kind: "invalid_input",
            message: format!("{field}: {}", message.into()),
        }
    }

    /// Something asked for that does not exist (any more).
    pub fn not_found(what: impl Into<String>) -> Self {
        CommandError {
            kind: "not_found",
            message: what.into(),
        }
    }
}

impl From<StorageError> for CommandError {
    fn from(e: StorageError) -> Self {
        CommandError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}
