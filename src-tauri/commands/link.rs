//! Commands for the link to the region's server: its state, linking with a one-time code,
//! unlinking (the region is told), and trusting the region's profile key. The duress PIN
//! where one is asked for changes nothing and raises a silent alarm.

use super::Result;
use crate::error::CommandError;
use crate::error::ErrorKind;
use crate::link::LinkStatus;
use crate::link::{client, enroll};
use crate::state::AppState;
use tauri::State;
use varn_core::wire::check_text;

/// The link and connection.
#[tauri::command]
pub fn link_status(state: State<'_, AppState>) -> Result<LinkStatus> {
    Ok(state.link_status()?)
}

/// The duress PIN where linking or unlinking asked for the PIN: nothing changes, a silent
/// duress alarm goes out, and the person's screen says what a failed attempt says.
pub(crate) fn duress_refusal(state: &AppState) -> CommandError {
    super::lock::settle(state, crate::pin::Guarded::Duress(()));
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
    if super::lock::check_pin(&state, pin).await? == crate::pin::Entered::Duress {
        return Err(duress_refusal(&state));
    }
    let relinking = client::load_link(state.db()?)?.is_some();
    let told = if relinking {
        Some(tell_region_unlinked(&state).await)
    } else {
        None
    };
    let link = enroll::enroll(
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
    crate::window::bridge::notify_link_changed(&state, Some(&link));
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
    if super::lock::check_pin(&state, pin).await? == crate::pin::Entered::Duress {
        super::lock::settle(&state, crate::pin::Guarded::Duress(()));
        if let Err(e) = state.link()?.conceal() {
            tracing::error!("showing the link as removed failed: {e}");
        }
        crate::window::bridge::notify_link_changed(&state, None);
        return Ok(LinkStatus {
            region_told: Some(true),
            ..state.link_status()?
        });
    }
    let told = tell_region_unlinked(&state).await;
    enroll::unlink(state.db()?, state.secrets.as_ref(), &state.token_key)?;
    state.alarms()?.link_changed();
    state.sync()?.trigger();
    crate::window::bridge::notify_link_changed(&state, None);
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
    if super::lock::check_pin(&state, pin).await? == crate::pin::Entered::Duress {
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
