//! Commands for the alarm: raise it (or a drill), see it, write to the region during it, cancel it
//! (with the PIN: the duress PIN looks the same), and its timeline from the region.

use super::lock::blocking;
use super::Result;
use crate::error::CommandError;
use crate::error::ErrorKind;
use crate::pin;
use crate::pin::Entered;
use crate::runners::alarm::AlarmView;
use crate::state::AppState;
use tauri::AppHandle;
use tauri::Runtime;
use tauri::State;
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;
use varn_core::alarm::DrillStatus;
use varn_core::wire::TimelineEntry;

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

/// Writes to the region during an alarm (a quick answer or the person's own words): durable
/// when this returns, sent after the alarm itself. Not behind the lock screen: whoever holds
/// the locked laptop must not be able to tell the region the person is safe.
#[tauri::command]
pub fn send_alarm_message(state: State<'_, AppState>, id: Uuid, text: String) -> Result<AlarmView> {
    Ok(state.alarms()?.send_message(id, &text)?)
}

/// Cancels an alarm as a false alarm. Once a PIN is set the cancel needs it; the duress PIN
/// shows the same cancel on screen while the region keeps the alarm open, marked as under
/// duress.
#[tauri::command]
pub async fn cancel_alarm(
    state: State<'_, AppState>,
    id: Uuid,
    pin: Option<String>,
) -> Result<AlarmView> {
    let db = state.db()?.clone();
    let entered = blocking(move || {
        if !pin::status(&db)?.pin_set {
            return Ok(Entered::Pin);
        }
        pin::verify(&db, pin.as_deref().unwrap_or(""), chrono::Utc::now())
    })
    .await?;
    Ok(state.alarms()?.cancel(id, entered == Entered::Duress)?)
}

/// The alarm's timeline from the region server.
#[tauri::command]
pub async fn alarm_timeline(state: State<'_, AppState>, id: Uuid) -> Result<Vec<TimelineEntry>> {
    Ok(state.alarms()?.timeline(id).await?)
}

/// Saves the alarm's timeline as text for a police report, where the person chooses.
/// Returns the path, or nothing if the person cancelled the dialog.
#[tauri::command]
pub async fn export_alarm_timeline<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<Option<String>> {
    let alarms = state.alarms()?;
    let view = alarms.view(id)?;
    let entries = alarms.timeline(id).await?;
    let who = crate::link::client::load_link(state.db()?)?
        .map(|l| l.name)
        .unwrap_or_default();
    let id_text = id.to_string();
    let text = varn_core::timeline::to_text(
        &varn_core::timeline::Header {
            id: &id_text,
            who: &who,
            meeting: &view.meeting,
            place: &view.place,
            drill: view.drill,
        },
        &entries,
        &chrono::Local,
        chrono::Utc::now(),
    );
    let day = view
        .triggered_at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d");
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Spara tidslinje – Värn")
        .set_file_name(format!("larm-tidslinje-{day}.txt"))
        .add_filter("Text", &["txt"])
        .save_file(move |p| {
            let _ = tx.send(p);
        });
    let Some(path) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    std::fs::write(&path, text.as_bytes()).map_err(|e| CommandError {
        kind: ErrorKind::Export,
        message: format!("{}: {e}", path.display()),
    })?;
    Ok(Some(path.display().to_string()))
}
