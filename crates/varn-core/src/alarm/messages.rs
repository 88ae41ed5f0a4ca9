//! The words between the person and the officer during an alarm: the messages on their way and
//! on the screen, the quick texts, and the number the region may call back on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::MessageFrom;

/// A message the person wrote during an alarm, durable on the device, not yet received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMessage {
    /// Its client id (UUIDv7), the same at every retry.
    pub id: Uuid,
    /// The text.
    pub text: String,
    /// When the person sent it (this device's clock).
    pub created_at: DateTime<Utc>,
}

/// A line of the conversation on the alarm screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownMessage {
    /// Its id.
    pub id: Uuid,
    /// Who wrote it.
    pub from: MessageFrom,
    /// The officer's name, or the person's.
    pub author: String,
    /// The text.
    pub text: String,
    /// When the server stored it (or, still on its way, when the person sent it).
    pub at: DateTime<Utc>,
    /// The person's message is still on its way.
    pub sending: bool,
}

/// The officer's quick texts on the dashboard: key, Swedish, English.
pub const QUICK_TO_PERSON: [(&str, &str, &str); 3] = [
    ("help_coming", "Hjälp är på väg", "Help is on its way"),
    (
        "can_you_talk",
        "Kan du prata? Svara med text",
        "Can you talk? Answer in text",
    ),
    (
        "police_alerted",
        "Polisen är larmad",
        "The police have been alerted",
    ),
];

/// The person's answers in one tap on the alarm screen: key, Swedish, English.
pub const QUICK_FROM_PERSON: [(&str, &str, &str); 4] = [
    ("cannot_talk", "Jag kan inte prata", "I can't talk"),
    ("safe", "Jag är i säkerhet", "I am safe"),
    ("send_help", "Skicka hjälp nu", "Send help now"),
    ("call_me", "Ring mig", "Call me"),
];

/// Why a callback number cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackNumberError {
    /// Something other than digits, spaces, `+`, `-` and `(`, `)`.
    #[error(
        "bara siffror, mellanslag, +, - och parenteser / only digits, spaces, +, - and brackets"
    )]
    NotANumber,
    /// Too few or too many digits for a phone number.
    #[error("ett telefonnummer har 3–15 siffror / a phone number has 3–15 digits")]
    Digits,
}

/// The number the region may call the person back on, tidied; empty means none.
pub fn callback_number(s: &str) -> Result<String, CallbackNumberError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
    {
        return Err(CallbackNumberError::NotANumber);
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !(3..=15).contains(&digits) {
        return Err(CallbackNumberError::Digits);
    }
    Ok(s.split_whitespace().collect::<Vec<_>>().join(" "))
}
