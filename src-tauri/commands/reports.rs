//! Commands for incident reports: create (also from an alarm), autosave, mark ready, delete,
//! attachments (picked in the system's file dialog or dropped on the window), and the export
//! for a police report.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;
use varn_core::incident::{self, ExportLang, Incident};

use super::Result;
use crate::error::{CommandError, ErrorKind};
use crate::i18n::Lang;
use crate::runners::sync::SyncView;
use crate::state::AppState;
use crate::storage::{AttachError, IncidentRow};

/// Files dropped on the window, waiting for the UI to say which report they belong to. The UI
/// only ever sees a token and the names: it cannot make the app read a path of its choosing.
#[derive(Default)]
pub struct Dropped(Mutex<Option<(u64, Vec<PathBuf>)>>);

impl Dropped {
    /// Keeps dropped paths; returns the token and their names for the UI.
    pub fn put(&self, paths: Vec<PathBuf>) -> (u64, Vec<String>) {
        let token = rand::random::<u64>();
        let names = paths.iter().map(|p| display_name(p)).collect();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((token, paths));
        (token, names)
    }

    fn take(&self, token: u64) -> Option<Vec<PathBuf>> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some((t, paths)) if t == token => Some(paths),
            other => {
                *slot = other;
                None
            }
        }
    }
}

fn display_name(p: &Path) -> String {
    let name: String = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fil".into())
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if name.trim().is_empty() {
        "fil".into()
    } else {
        name
    }
}

/// The MIME type for a file name (by extension).
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "eml" => "message/rfc822",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        _ => "application/octet-stream",
    }
}

/// All reports, newest first.
#[tauri::command]
pub fn incidents(state: State<'_, AppState>) -> Result<Vec<IncidentRow>> {
    Ok(state.db()?.incidents()?)
}

/// One report.
#[tauri::command]
pub fn incident(state: State<'_, AppState>, id: Uuid) -> Result<IncidentRow> {
    state
        .db()?
        .incident(id)?
        .ok_or_else(|| CommandError::not_found(format!("report {id}")))
}

/// A new draft; from an alarm or a check-out with "något hände", with its time and place
/// filled in.
#[tauri::command]
pub fn new_incident(
    state: State<'_, AppState>,
    alarm_id: Option<Uuid>,
    checkin_id: Option<Uuid>,
) -> Result<IncidentRow> {
    let mut draft = Incident::default();
    if let Some(id) = checkin_id {
        let view = state.checkins()?.view(id)?;
        draft.started_at = view
            .started_at
            .with_timezone(&chrono::Local)
            .format(incident::LOCAL_TIME)
            .to_string();
        draft.place = view.place;
    }
    if let Some(alarm) = alarm_id {
        let view = state.alarms()?.view(alarm)?;
        draft.alarm_id = Some(alarm);
        draft.started_at = view
            .triggered_at
            .with_timezone(&chrono::Local)
            .format(incident::LOCAL_TIME)
            .to_string();
        draft.place = view.place;
    }
    Ok(state.db()?.create_incident(Uuid::now_v7(), &draft)?)
}

/// The person left a report they never wrote in: it is removed (a report with a word or an
/// attachment in it is never touched here). True when it went.
#[tauri::command]
pub fn discard_draft(state: State<'_, AppState>, id: Uuid) -> Result<bool> {
    Ok(state.db()?.discard_untouched_drafts(Some(id))? > 0)
}

/// Saves an edit (the UI calls this on every change, debounced); durable when it returns.
#[tauri::command]
pub fn save_incident(
    state: State<'_, AppState>,
    id: Uuid,
    incident: Incident,
) -> Result<IncidentRow> {
    let ids: Vec<String> = state.with_profile(|a| {
        a.profile
            .checklist
            .items
            .iter()
            .map(|i| i.id.clone())
            .collect()
    });
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    // An edit of a report written before the follow-up fields gives its old kind as the
    // kind of event and the channel (the person sees and can change them from then on).
    let incident = incident
        .upgraded()
        .validated(&ids)
        .map_err(|e| CommandError {
            kind: ErrorKind::InvalidInput,
            message: e.to_string(),
        })?;
    state
        .db()?
        .save_incident(id, &incident)?
        .ok_or_else(|| CommandError::not_found(format!("report {id}")))
}

/// Marks a draft as ready to send.
#[tauri::command]
pub fn mark_incident_ready(state: State<'_, AppState>, id: Uuid) -> Result<IncidentRow> {
    let row = state
        .db()?
        .mark_incident_ready(id)?
        .ok_or_else(|| CommandError::not_found(format!("report {id}")))?;
    // Queued in the same transaction; sync starts on it now.
    state.sync()?.trigger();
    Ok(row)
}

/// Where sync stands (queue, progress, why it waits).
#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncView> {
    Ok(state.sync()?.view())
}

/// "Skicka nu": send the queue now, refused items included. Also called by the UI when the
/// system reports the network is back.
#[tauri::command]
pub fn sync_now(state: State<'_, AppState>) -> Result<SyncView> {
    let sync = state.sync()?;
    sync.send_now()?;
    Ok(sync.view())
}

/// Deletes a report and its attachments for good (the confirm step is in the UI).
#[tauri::command]
pub fn delete_incident(state: State<'_, AppState>, id: Uuid) -> Result<()> {
    if state.db()?.delete_incident(id)? {
        Ok(())
    } else {
        Err(CommandError::not_found(format!("report {id}")))
    }
}

/// What happened to each file when attaching.
#[derive(Serialize)]
pub struct Attached {
    /// The report as it is now.
    pub incident: IncidentRow,
    /// Files that could not be attached, with why.
    pub failed: Vec<FailedFile>,
}

/// A file that could not be attached.
#[derive(Serialize)]
pub struct FailedFile {
    /// Its name.
    pub name: String,
    /// `file_unreadable`, `file_changed`, `file_too_large`, …
    pub kind: ErrorKind,
    /// Detail.
    pub message: String,
}

fn attach_paths(state: &AppState, id: Uuid, paths: Vec<PathBuf>) -> Result<Attached> {
    let db = state.db()?;
    let mut failed = Vec::new();
    for path in paths {
        let name = display_name(&path);
        let result = std::fs::File::open(&path)
            .and_then(|f| f.metadata().map(|m| (f, m.len())))
            .map_err(|e| AttachError::Unreadable(e.to_string()))
            .and_then(|(f, size)| {
                db.add_attachment(
                    id,
                    &name,
                    content_type(&name),
                    size,
                    std::io::BufReader::new(f),
                )
            });
        if let Err(e) = result {
            let e = CommandError::from(e);
            failed.push(FailedFile {
                name,
                kind: e.kind,
                message: e.message,
            });
        }
    }
    let incident = db
        .incident(id)?
        .ok_or_else(|| CommandError::not_found(format!("report {id}")))?;
    Ok(Attached { incident, failed })
}

/// Opens the system's file dialog and copies the chosen files into the report.
#[tauri::command]
pub async fn pick_attachments<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<Attached> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Välj bilagor – Värn")
        .pick_files(move |files| {
            let _ = tx.send(files);
        });
    let files = rx.await.ok().flatten().unwrap_or_default();
    let paths: Vec<PathBuf> = files
        .into_iter()
        .filter_map(|f| f.into_path().ok())
        .collect();
    let _ = state; // the state is read again on the blocking thread
                   // Copying may take a while for large files; it runs off the async threads.
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        use tauri::Manager;
        attach_paths(&app.state::<AppState>(), id, paths)
    })
    .await
    .map_err(|e| CommandError {
        kind: ErrorKind::Storage,
        message: e.to_string(),
    })?
}

/// Attaches the files last dropped on the window (by the token the drop event carried).
#[tauri::command]
pub fn attach_dropped(
    state: State<'_, AppState>,
    dropped: State<'_, Dropped>,
    id: Uuid,
    token: u64,
) -> Result<Attached> {
    let paths = dropped
        .take(token)
        .ok_or_else(|| CommandError::not_found("the dropped files (drop them again)"))?;
    attach_paths(&state, id, paths)
}

/// Removes an attachment for good.
#[tauri::command]
pub fn delete_attachment(
    state: State<'_, AppState>,
    incident: Uuid,
    id: Uuid,
) -> Result<IncidentRow> {
    let db = state.db()?;
    if !db.delete_attachment(incident, id)? {
        return Err(CommandError::not_found(format!("attachment {id}")));
    }
    db.incident(incident)?
        .ok_or_else(|| CommandError::not_found(format!("report {incident}")))
}

/// Where the export was written.
#[derive(Serialize)]
pub struct Exported {
    /// The PDF.
    pub pdf: String,
    /// The same as plain text, beside it.
    pub text: String,
}

/// Writes the police-report export as a PDF (where the person chooses) and as text beside it.
#[tauri::command]
pub async fn export_incident<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<Option<Exported>> {
    let row = state
        .db()?
        .incident(id)?
        .ok_or_else(|| CommandError::not_found(format!("report {id}")))?;
    let lang = match state.lang() {
        Lang::Sv => ExportLang::Sv,
        Lang::En => ExportLang::En,
    };
    let who = crate::link::client::load_link(state.db()?)?.map(|l| l.name);
    let sections = state.with_profile(|a| {
        incident::police_export(
            &row.incident,
            &row.attachments,
            &a.profile,
            who.as_deref(),
            lang,
        )
    });
    let day = row.incident.started_at.get(..10).unwrap_or("").to_string();
    let (title, default_name) = match lang {
        ExportLang::Sv => (
            "Händelserapport – underlag för polisanmälan",
            format!("handelserapport-{day}.pdf"),
        ),
        ExportLang::En => (
            "Incident report – for a police report",
            format!("incident-report-{day}.pdf"),
        ),
    };
    let subtitle = format!(
        "Värn · {} · id {} · revision {}",
        chrono::Local::now().format("%Y-%m-%d %H:%M"),
        row.id,
        row.revision
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Spara export – Värn")
        .set_file_name(default_name.replace("--", "-").replace("-.pdf", ".pdf"))
        .add_filter("PDF", &["pdf"])
        .save_file(move |p| {
            let _ = tx.send(p);
        });
    let Some(chosen) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else {
        return Ok(None); // cancelled
    };
    let pdf_path = if chosen
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
    {
        chosen
    } else {
        chosen.with_extension("pdf")
    };
    let text_path = pdf_path.with_extension("txt");
    let bytes = crate::export::pdf(title, &subtitle, &sections).map_err(|e| CommandError {
        kind: ErrorKind::Export,
        message: e.to_string(),
    })?;
    let text = incident::export_text(title, &sections);
    let write = |p: &Path, data: &[u8]| {
        std::fs::write(p, data).map_err(|e| CommandError {
            kind: ErrorKind::Export,
            message: format!("{}: {e}", p.display()),
        })
    };
    write(&pdf_path, &bytes)?;
    write(&text_path, text.as_bytes())?;
    Ok(Some(Exported {
        pdf: pdf_path.display().to_string(),
        text: text_path.display().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_files_are_only_taken_with_their_token() {
        let d = Dropped::default();
        let (token, names) = d.put(vec![PathBuf::from("/tmp/bild.jpg")]);
        assert_eq!(names, vec!["bild.jpg"]);
        assert!(d.take(token.wrapping_add(1)).is_none());
        assert_eq!(d.take(token).unwrap(), vec![PathBuf::from("/tmp/bild.jpg")]);
        assert!(d.take(token).is_none(), "once");
    }

    #[test]
    fn names_and_types() {
        assert_eq!(content_type("Skärmdump.PNG"), "image/png");
        assert_eq!(content_type("brev"), "application/octet-stream");
        assert_eq!(display_name(Path::new("/x/a\u{7}b.txt")), "ab.txt");
    }
}

/// The setting: how many days reports the region has closed are kept on this device.
pub use crate::storage::CLOSED_REPORTS_DAYS;

/// Sets how long reports the region has closed are kept here (one of
/// `varn_core::incident::CLOSED_KEEP_DAYS`, or none: kept), and removes at once those past it.
#[tauri::command]
pub fn set_closed_reports_days(
    state: State<'_, AppState>,
    days: Option<u32>,
) -> Result<Option<u32>> {
    if let Some(d) = days {
        if !varn_core::incident::CLOSED_KEEP_DAYS.contains(&d) {
            return Err(CommandError::invalid(
                "days",
                format!(
                    "{d} dagar går inte att välja / cannot be chosen ({:?})",
                    varn_core::incident::CLOSED_KEEP_DAYS
                ),
            ));
        }
    }
    let db = state.db()?;
    db.set_setting(
        CLOSED_REPORTS_DAYS,
        &days.map(|d| d.to_string()).unwrap_or_default(),
    )?;
    if let Some(d) = days {
        let removed = db.remove_closed_reports(d, chrono::Utc::now())?;
        tracing::info!(
            removed,
            days = d,
            "closed reports past the chosen time removed"
        );
    }
    Ok(db.closed_reports_days()?)
}
