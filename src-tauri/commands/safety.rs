//! Commands for the panic path and calls: enrollment, raising and cancelling alarms, calling a
//! contact, the person's own contacts, where they are now, and the alarm shortcut.

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};
use uuid::Uuid;
use varn_core::alarm::DrillStatus;
use varn_core::wire::{check_text, MAX_SHORT_CHARS};

use super::Result;
use crate::alarm::{AlarmError, AlarmView};
use crate::dialer::CallOutcome;
use crate::error::{CommandError, ErrorKind};
use crate::link::Connection;
use crate::region::{self, Link, LinkError};
use crate::state::AppState;
use crate::storage::UserContact;

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

/// The link to the region and the connection state.
#[derive(Serialize)]
pub struct LinkStatus {
    /// The link, if enrolled.
    pub link: Option<Link>,
    /// The connection as last seen.
    pub connection: Connection,
    /// After unlinking or relinking: whether the region server heard that this device left
    /// it (it then shows the device as unlinked); `None` otherwise.
    pub region_told: Option<bool>,
    /// Where the linked region's profile key stands (a key from linking waits for the person
    /// to compare its fingerprint with the region's letter).
    pub profile_key: Option<crate::profiles::KeyStatus>,
}

/// Unlocks (or, the first time, creates) the database with a passphrase. Wrong passphrases
/// make the next try wait longer.
#[tauri::command]
pub async fn unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<()> {
    if !state.is_locked() {
        return Ok(());
    }
    let first_time = {
        let lock = state.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(wait) = lock.attempts.check() {
            return Err(CommandError {
                kind: ErrorKind::Wait,
                message: wait.to_string(),
            });
        }
        lock.first_time
    };
    let dir = state.data_dir.clone();
    // Argon2id takes a moment on purpose; keep it off the UI thread.
    let opened = tauri::async_runtime::spawn_blocking(move || {
        let r = crate::vault::open_with_passphrase(&dir, &passphrase, first_time);
        crate::vault::forget(passphrase);
        r
    })
    .await
    .map_err(|e| CommandError {
        kind: ErrorKind::Storage,
        message: e.to_string(),
    })?;
    match opened {
        Ok(db) => {
            state.unlock_with(db)?;
            crate::shortcut::reregister(&app, &state);
            Ok(())
        }
        Err(crate::vault::VaultError::Passphrase(_)) if !first_time => {
            let wait = state
                .lock
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .attempts
                .failed();
            // The message is the wait in seconds; the UI words it.
            Err(CommandError {
                kind: ErrorKind::WrongPassphrase,
                message: wait.to_string(),
            })
        }
        Err(crate::vault::VaultError::Passphrase(m)) => Err(CommandError::invalid("passphrase", m)),
        Err(e) => Err(CommandError {
            kind: ErrorKind::Storage,
            message: e.to_string(),
        }),
    }
}

/// Tries the keychain again (after the person unlocked it).
#[tauri::command]
pub fn retry_unlock<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Result<bool> {
    if !state.is_locked() {
        return Ok(true);
    }
    crate::try_unlock(&state);
    if !state.is_locked() {
        crate::shortcut::reregister(&app, &state);
    }
    Ok(!state.is_locked())
}

/// The link and connection.
#[tauri::command]
pub fn link_status(state: State<'_, AppState>) -> Result<LinkStatus> {
    Ok(state.link_status()?)
}

/// The duress PIN where linking or unlinking asked for the PIN: nothing changes, a silent
/// duress alarm goes out, and the person's screen says what a failed attempt says.
pub(crate) fn duress_refusal(state: &AppState) -> CommandError {
    super::guard::settle(state, crate::pin::Guarded::Duress(()));
    CommandError {
        kind: ErrorKind::ServerUnreachable,
        message: "the region server could not be reached".into(),
    }
}

/// Tells the linked region server that this device leaves it (it revokes the token and its
/// dashboard shows the device as unlinked). Returns whether it heard.
async fn tell_region_unlinked(state: &AppState) -> bool {
    let Ok(link) = state.link() else {
        return false;
    };
    match link.client() {
        Ok(c) => match c.unlink().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("the region server did not hear of the unlink: {e}");
                false
            }
        },
        Err(_) => false,
    }
}

/// Links the app to a region server with a one-time enrollment code. Needs the PIN when one
/// is set; a link that replaces another first tells the old server.
#[tauri::command]
pub async fn enroll(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    pin: Option<String>,
) -> Result<LinkStatus> {
    check_text("code", &code, 40).map_err(|e| CommandError::invalid("code", e.to_string()))?;
    if super::guard::check_pin(&state, pin).await? == crate::pin::Entered::Duress {
        return Err(duress_refusal(&state));
    }
    let relinking = region::load_link(state.db()?)?.is_some();
    let told = if relinking {
        Some(tell_region_unlinked(&state).await)
    } else {
        None
    };
    let link = region::enroll(
        state.db()?,
        state.secrets.as_ref(),
        &state.token_key,
        &server_url,
        &code,
    )
    .await?;
    state.alarms()?.link_changed();
    // The server has just answered: say so now, not after the next health check, so the
    // answer below and the `connection` event agree whichever reaches the window first.
    state.link()?.server_answered();
    state.sync()?.trigger();
    crate::ui_bridge::notify_link_changed(&state, Some(&link));
    tracing::info!(region = %link.region_id, "linked to a region server");
    Ok(LinkStatus {
        region_told: told,
        ..state.link_status()?
    })
}

/// Forgets the link: the region server is told (it revokes the device and shows it as
/// unlinked), then the token leaves the keychain. Needs the PIN when one is set. With the
/// duress PIN it looks exactly like this to whoever watches (the answer, the notification,
/// the settings and the top bar afterwards), while the link stays and the silent alarm goes
/// out on it ([`crate::link::LinkService::conceal`]).
#[tauri::command]
pub async fn unlink(state: State<'_, AppState>, pin: Option<String>) -> Result<LinkStatus> {
    if super::guard::check_pin(&state, pin).await? == crate::pin::Entered::Duress {
        super::guard::settle(&state, crate::pin::Guarded::Duress(()));
        if let Err(e) = state.link()?.conceal() {
            tracing::error!("showing the link as removed failed: {e}");
        }
        crate::ui_bridge::notify_link_changed(&state, None);
        return Ok(LinkStatus {
            region_told: Some(true),
            ..state.link_status()?
        });
    }
    let told = tell_region_unlinked(&state).await;
    region::unlink(state.db()?, state.secrets.as_ref(), &state.token_key)?;
    state.alarms()?.link_changed();
    state.sync()?.trigger();
    crate::ui_bridge::notify_link_changed(&state, None);
    tracing::info!(region_told = told, "unlinked from the region server");
    Ok(LinkStatus {
        region_told: Some(told),
        ..state.link_status()?
    })
}

/// The person compared the region key's fingerprint with the one in the region's letter and
/// they match: the key is trusted, and the region's profile is fetched again at once. Needs
/// the PIN when one is set (who holds the laptop for a minute must not confirm a key).
#[tauri::command]
pub async fn confirm_profile_key(
    state: State<'_, AppState>,
    key: String,
    pin: Option<String>,
) -> Result<LinkStatus> {
    check_text("key", &key, 120).map_err(|e| CommandError::invalid("key", e.to_string()))?;
    if super::guard::check_pin(&state, pin).await? == crate::pin::Entered::Duress {
        return Err(duress_refusal(&state));
    }
    if !crate::profiles::confirm_linking_key(state.db()?, &key)? {
        return Err(CommandError::invalid(
            "key",
            "det finns ingen obekräftad nyckel från regionen att bekräfta",
        ));
    }
    tracing::info!("the region's profile key was confirmed by its fingerprint");
    state.sync()?.check_profile_now();
    Ok(state.link_status()?)
}

/// Raises the panic alarm. Durable locally when this returns; sending goes on in the background.
#[tauri::command]
pub fn raise_alarm(state: State<'_, AppState>) -> Result<AlarmView> {
    let (meeting, place) = state.alarm_context()?;
    Ok(state.alarms()?.raise(meeting, place)?)
}

/// Sends a drill ("Testlarm") through the whole path, marked TEST.
#[tauri::command]
pub fn raise_drill(state: State<'_, AppState>) -> Result<AlarmView> {
    let (meeting, place) = state.alarm_context()?;
    Ok(state.alarms()?.drill(meeting, place)?)
}

/// The last drill that went the whole way, and whether the region's interval has passed.
#[tauri::command]
pub fn drill_status(state: State<'_, AppState>) -> Result<DrillStatus> {
    Ok(state.drill_status()?)
}

/// How well Värn can protect the person now: protected, limited (the region does not
/// answer, or a drill is due) or not at all (not linked).
#[tauri::command]
pub fn protection(state: State<'_, AppState>) -> Result<varn_core::alarm::Protection> {
    Ok(state.protection()?)
}

/// One alarm.
#[tauri::command]
pub fn alarm(state: State<'_, AppState>, id: Uuid) -> Result<AlarmView> {
    Ok(state.alarms()?.view(id)?)
}

/// The alarm that still needs attention, if any.
#[tauri::command]
pub fn active_alarm(state: State<'_, AppState>) -> Result<Option<AlarmView>> {
    Ok(state.alarms()?.active()?)
}

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

/// Where the person is now (sent with an alarm for the next 12 hours).
#[tauri::command]
pub fn set_current_place(state: State<'_, AppState>, place: String) -> Result<()> {
    let place = place.trim();
    check_text("place", place, MAX_SHORT_CHARS)
        .map_err(|e| CommandError::invalid("place", e.to_string()))?;
    state.db()?.set_settings(&[
        ("current_place", place),
        ("current_place_at", &crate::storage::now()),
    ])?;
    Ok(())
}

/// The number the region may call the person back on (optional, kept here): the alarm
/// screen offers *Ring mig* only with it, and sends it with the answer.
#[tauri::command]
pub fn set_callback_number(state: State<'_, AppState>, number: String) -> Result<String> {
    let number = varn_core::alarm::callback_number(&number)
        .map_err(|e| CommandError::invalid("number", e.to_string()))?;
    state.db()?.set_setting(CALLBACK_NUMBER, &number)?;
    Ok(number)
}

/// The setting the callback number is kept under.
pub const CALLBACK_NUMBER: &str = "callback_number";

/// Changes the global keyboard shortcut for the alarm.
#[tauri::command]
pub fn set_alarm_shortcut<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    shortcut: String,
) -> Result<String> {
    let shortcut = shortcut.trim().to_string();
    crate::shortcut::replace(&app, &state, &shortcut)?;
    state.db()?.set_setting("alarm_shortcut", &shortcut)?;
    Ok(shortcut)
}

/// How discreet an alarm is: a tone, and notifications that say what happened (both off
/// unless the person turns them on).
#[tauri::command]
pub fn set_alarm_discretion(
    state: State<'_, AppState>,
    sound: bool,
    text: bool,
) -> Result<crate::notices::Discretion> {
    let d = crate::notices::Discretion { sound, text };
    d.save(state.db()?)?;
    Ok(d)
}

/// "Dölj": while the neutral screen is up, the window's title and the tray icon's tooltip
/// say nothing of Värn; back to them when it goes.
#[tauri::command]
pub fn set_hidden<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    hidden: bool,
) -> Result<()> {
    let title = if hidden {
        state.strings.get(state.lang(), "hide.window_title")
    } else {
        "Värn"
    };
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_title(title);
    }
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_tooltip(Some(title));
    }
    Ok(())
}

/// The setting: what the person wants responders to know, as last sent to the region.
pub const INSTRUCTIONS: &str = "instructions";

/// Writes to the region during an alarm (a quick answer or the person's own words): durable
/// when this returns, sent after the alarm itself. Not behind the lock screen: whoever holds
/// the locked laptop must not be able to tell the region the person is safe.
#[tauri::command]
pub fn send_alarm_message(state: State<'_, AppState>, id: Uuid, text: String) -> Result<AlarmView> {
    Ok(state.alarms()?.send_message(id, &text)?)
}

/// Tells the region what responders should know (e.g. "ring inte tillbaka", a code word,
/// medical needs); officers see it with every alarm of this person. Needs the region to
/// answer; kept here only once it has.
#[tauri::command]
pub async fn set_instructions(state: State<'_, AppState>, text: String) -> Result<String> {
    let text = text.trim().to_string();
    check_text("text", &text, varn_core::wire::MAX_MESSAGE_CHARS)
        .map_err(|e| CommandError::invalid("text", e.to_string()))?;
    let db = state.db()?.clone();
    let client =
        region::client_for(&db, state.secrets.as_ref(), &state.token_key).map_err(|b| {
            CommandError {
                kind: ErrorKind::ServerUnreachable,
                message: b.as_str().to_string(),
            }
        })?;
    let stored = client
        .put_instructions(&varn_core::wire::Instructions { text })
        .await
        .map_err(|e| CommandError {
            kind: if e.is_retryable() {
                ErrorKind::ServerUnreachable
            } else {
                ErrorKind::InvalidInput
            },
            message: e.to_string(),
        })?;
    db.set_setting(INSTRUCTIONS, &stored.text)?;
    Ok(stored.text)
}
