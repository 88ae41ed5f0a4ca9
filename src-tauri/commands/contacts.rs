//! Commands for calls and contacts: call one of the region's contacts or the person's own
//! (the system's dialer, or the number shown large with what to say), and the person's own
//! contacts.

use super::Result;
use crate::error::CommandError;
use crate::os::dialer::CallOutcome;
use crate::state::AppState;
use crate::storage::UserContact;
use serde::Deserialize;
use serde::Serialize;
use tauri::State;
use uuid::Uuid;
use varn_core::wire::check_text;
use varn_core::wire::MAX_SHORT_CHARS;

/// Whom to call: a contact of the region profile or one of the person's own.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallTarget {
    /// A contact of the region profile, by id.
    Profile {
        /// The contact's id.
        id: String,
    },
    /// One of the person's own contacts.
    User {
        /// The contact's id.
        id: Uuid,
    },
}

/// What a tap on a call button did, and what to say.
#[derive(Serialize)]
pub struct Called {
    /// Whether the system's dialer took the number (the UI shows the number large
    /// otherwise); `None` when it was not dialled because the number changed (see `notice`).
    pub outcome: Option<CallOutcome>,
    /// What to say, in the UI's language, filled in: the card's script for this contact where
    /// the plan gives one for the situation, else the contact's (may be empty).
    pub script: Vec<crate::state::ScriptLineView>,
    /// The region's newer profile changed this number and the person has not seen it yet:
    /// shown first, and the call goes out when they call again with `seen_notice`.
    pub notice: Option<crate::storage::NumberNotice>,
}

/// Hands the number to the system's dialer and gives the script to show while calling. From
/// an action card (`card`), the card's script for this contact is used where it has one.
/// A number a newer profile changed is shown once before it is dialled.
#[tauri::command]
pub fn call(
    state: State<'_, AppState>,
    target: CallTarget,
    card: Option<String>,
    seen_notice: Option<bool>,
) -> Result<Called> {
    let (number, script) = match target {
        CallTarget::Profile { id } => {
            if let Ok(db) = state.db() {
                if let Some(notice) = db.number_notice(&id)? {
                    if seen_notice != Some(true) {
                        return Ok(Called {
                            outcome: None,
                            script: Vec::new(),
                            notice: Some(notice),
                        });
                    }
                    db.number_notice_seen(&id)?;
                }
            }
            state
                .with_profile(|a| {
                    let c = a.profile.contact(&id)?;
                    let from_card = card
                        .as_deref()
                        .and_then(|card| a.profile.during.iter().find(|x| x.id == card))
                        .and_then(|card| card.call_scripts.iter().find(|s| s.contact == id))
                        .map(|s| s.lines.clone());
                    let number = if c.role == varn_core::profile::ContactRole::Emergency {
                        varn_core::profile::EMERGENCY_NUMBER.to_string()
                    } else {
                        c.number.clone()?
                    };
                    Some((number, from_card.unwrap_or_else(|| c.script.clone())))
                })
                .ok_or_else(|| CommandError::not_found(format!("contact {id}")))?
        }
        // The person's own contacts are private: not behind the lock screen (the region's
        // numbers, 112 first, always work).
        CallTarget::User { id } => state
            .screen_open()
            .and_then(|()| state.db())?
            .user_contacts()?
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| (c.number, Vec::new()))
            .ok_or_else(|| CommandError::not_found(format!("contact {id}")))?,
    };
    let outcome = state.dialer().dial(&number);
    Ok(Called {
        outcome: Some(outcome),
        script: state.call_script(&script),
        notice: None,
    })
}

/// The person's own contacts, in order.
#[tauri::command]
pub fn user_contacts(state: State<'_, AppState>) -> Result<Vec<UserContact>> {
    Ok(state.db()?.user_contacts()?)
}

/// A contact as the form sends it; a missing id makes a new one.
#[derive(Deserialize)]
pub struct UserContactInput {
    id: Option<Uuid>,
    name: String,
    number: String,
}

/// Adds or edits one of the person's contacts.
#[tauri::command]
pub fn save_user_contact(
    state: State<'_, AppState>,
    input: UserContactInput,
) -> Result<Vec<UserContact>> {
    let name = input.name.trim().to_string();
    let number = input.number.trim().to_string();
    if name.is_empty() {
        return Err(CommandError::invalid(
            "name",
            "får inte vara tomt / must not be empty",
        ));
    }
    check_text("name", &name, MAX_SHORT_CHARS)
        .map_err(|e| CommandError::invalid("name", e.to_string()))?;
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let allowed = number
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -()".contains(c) || (c == '+' && i == 0));
    if !allowed || !(3..=15).contains(&digits) {
        return Err(CommandError::invalid(
            "number",
            format!("\"{number}\" är inget telefonnummer / is not a phone number"),
        ));
    }
    let contact = UserContact {
        id: input.id.unwrap_or_else(Uuid::now_v7),
        name,
        number,
    };
    state.db()?.save_user_contact(&contact)?;
    Ok(state.db()?.user_contacts()?)
}

/// Deletes one of the person's contacts.
#[tauri::command]
pub fn delete_user_contact(state: State<'_, AppState>, id: Uuid) -> Result<Vec<UserContact>> {
    if !state.db()?.delete_user_contact(id)? {
        return Err(CommandError::not_found(format!("contact {id}")));
    }
    Ok(state.db()?.user_contacts()?)
}

/// Puts the person's contacts in this order.
#[tauri::command]
pub fn order_user_contacts(state: State<'_, AppState>, ids: Vec<Uuid>) -> Result<Vec<UserContact>> {
    state.db()?.order_user_contacts(&ids)?;
    Ok(state.db()?.user_contacts()?)
}
