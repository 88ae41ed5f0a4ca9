//! Commands for the plan, the checklist, the risk inventories, the planned appearances, the
//! person's own notes and the UI's own life cycle.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;
use varn_core::appearance::{Appearance, DEFAULT_REMIND_MINUTES};
use varn_core::profile::Profile;
use varn_core::risk::{self, Answer, Assessment, Inventory};
use varn_core::search::{self, Hit};

use super::Result;
use crate::error::{CommandError, ErrorKind};
use crate::i18n::{Lang, Strings};
use crate::profiles::ProfileNote;
use crate::state::AppState;
use crate::storage::{self, InventorySummary, Tick};

/// What the UI needs to draw its first view, in one call.
#[derive(Serialize)]
pub struct Boot {
    /// The chosen language.
    pub lang: Lang,
    /// Both string tables.
    pub strings: Strings,
    /// The region profile in use.
    pub profile: Profile,
    /// Where the profile came from.
    pub profile_source: String,
    /// Problems with offered profiles, to show.
    pub profile_notes: Vec<ProfileNote>,
    /// The link to the region server, if any.
    pub link: Option<crate::link::client::Link>,
    /// Where the linked region's profile key stands.
    pub profile_key: Option<crate::profiles::KeyStatus>,
    /// `online`, `offline` or `not_enrolled`.
    pub connection: crate::link::Connection,
    /// The alarm that still needs attention, if any.
    pub active_alarm: Option<crate::runners::alarm::AlarmView>,
    /// The global shortcut that raises the alarm.
    pub alarm_shortcut: String,
    /// How discreet an alarm is (sound, notification text); discreet behind the lock.
    pub discretion: crate::window::notices::Discretion,
    /// How many days reports the region has closed are kept (None: kept).
    pub closed_reports_days: Option<u32>,
    /// What the person told the region responders should know.
    pub instructions: String,
    /// Where the person said they are now.
    pub current_place: String,
    /// The number the region may call the person back on ("" when not given).
    pub callback_number: String,
    /// Set while the database is locked: what the unlock screen shows.
    pub locked: Option<LockView>,
    /// A suggested server address for linking (`VARN_SERVER_URL`, set by `scripts/run`).
    pub suggested_server_url: Option<String>,
    /// The app's version.
    pub version: &'static str,
    /// Whether PINs are set and the idle lock (none while the database is locked).
    pub pin: Option<crate::pin::PinStatus>,
    /// The lock screen is up (the app started with an idle lock set, or "Dölj").
    pub screen_locked: bool,
    /// How well Värn can protect the person now (none while the database is locked).
    pub protection: Option<varn_core::alarm::Protection>,
    /// Nothing set up yet (no link, no PIN, the guide not finished or skipped): the guide
    /// is shown.
    pub first_run: bool,
}

/// The unlock screen's content.
#[derive(Serialize)]
pub struct LockView {
    /// No database yet: choose a passphrase.
    pub first_time: bool,
    /// Why (e.g. "no Secret Service on the bus").
    pub reason: String,
    /// A passphrase cannot help; the message says what to do.
    pub fatal: bool,
}

/// The lock, if the database is locked.
pub fn lock_view(state: &AppState) -> Option<LockView> {
    if !state.is_locked() {
        return None;
    }
    let lock = state.lock.lock().unwrap_or_else(|p| p.into_inner());
    Some(LockView {
        first_time: lock.first_time,
        reason: lock.reason.clone(),
        fatal: lock.fatal,
    })
}

/// Everything the first view needs (behind the lock screen, only what the lock needs).
#[tauri::command]
pub fn boot(state: State<'_, AppState>) -> Result<Boot> {
    state.mark("boot called");
    let (profile, profile_source, profile_notes) =
        state.with_profile(|a| (a.profile.clone(), a.source.clone(), a.notes.clone()));
    let status = state.link_status()?;
    Ok(Boot {
        lang: state.lang(),
        strings: state.strings.clone(),
        profile,
        profile_source,
        profile_notes,
        link: status.link,
        profile_key: status.profile_key,
        connection: status.connection,
        active_alarm: match state.alarms() {
            Ok(a) => a.active()?,
            Err(_) => None,
        },
        alarm_shortcut: crate::window::shortcut::configured(&state),
        discretion: state
            .db()
            .map(|db| crate::window::notices::Discretion::load(db))
            .unwrap_or_default(),
        closed_reports_days: match state.db() {
            Ok(db) => db.closed_reports_days()?,
            Err(_) => None,
        },
        // Private (a code word, medical needs): not behind the lock screen.
        instructions: match state.db() {
            Ok(db) if !state.screen_is_locked() => db
                .setting(super::settings::INSTRUCTIONS)?
                .unwrap_or_default(),
            _ => String::new(),
        },
        // Behind the lock screen the window gets what it needs to draw the lock, 112 and the
        // alarm, and nothing the person keeps to themselves.
        current_place: match state.db() {
            Ok(db) if !state.screen_is_locked() => db.setting("current_place")?.unwrap_or_default(),
            _ => String::new(),
        },
        callback_number: match state.db() {
            Ok(db) if !state.screen_is_locked() => db
                .setting(super::settings::CALLBACK_NUMBER)?
                .unwrap_or_default(),
            _ => String::new(),
        },
        locked: lock_view(&state),
        suggested_server_url: std::env::var("VARN_SERVER_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        version: env!("CARGO_PKG_VERSION"),
        pin: match state.db() {
            Ok(db) => Some(crate::pin::status(db)?),
            Err(_) => None,
        },
        screen_locked: state
            .screen_locked
            .load(std::sync::atomic::Ordering::SeqCst),
        protection: state.protection().ok().filter(|_| state.db().is_ok()),
        first_run: match state.db() {
            Ok(db) => {
                db.setting(WELCOME_DONE)?.is_none()
                    && crate::link::client::load_link(db)?.is_none()
                    && !crate::pin::status(db)?.pin_set
            }
            Err(_) => false,
        },
    })
}

/// The setting that says the first-run guide was finished or skipped.
const WELCOME_DONE: &str = "welcome_done";

/// The person finished or skipped the first-run guide: it is not shown again.
#[tauri::command]
pub fn finish_welcome(state: State<'_, AppState>) -> Result<()> {
    state
        .db()?
        .set_setting(WELCOME_DONE, &crate::storage::now())?;
    Ok(())
}

/// The UI reports that its first view is on screen. Under `--smoke` this ends the run.
#[tauri::command]
pub fn ui_ready<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    marks: Option<Vec<(String, f64)>>,
    stage: Option<String>,
) {
    let elapsed = state.started.elapsed();
    for (label, at) in marks.unwrap_or_default() {
        state.mark_wall(&label, at);
    }
    // The shell (112, LARM, the tabs) is on screen: what `--smoke` reports as ready.
    if stage.as_deref() == Some("shell") {
        if !state.shell_ready.swap(true, Ordering::SeqCst) && state.smoke {
            println!("ready in {} ms", elapsed.as_millis());
        }
        crate::window::desktop::start_desktop_extras(&app);
        return;
    }
    if state.ui_ready.swap(true, Ordering::SeqCst) {
        return;
    }
    if let Some(trace) = &state.trace {
        let mut marks = trace.lock().unwrap_or_else(|p| p.into_inner()).clone();
        marks.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (label, ms) in marks {
            eprintln!("{ms:8.1} ms  {label}");
        }
    }
    if state.smoke {
        if !state.shell_ready.swap(true, Ordering::SeqCst) {
            println!("ready in {} ms", elapsed.as_millis());
        }
        // The whole first view too: the process ends only once the app is all there.
        println!("view in {} ms", elapsed.as_millis());
        app.exit(0);
    }
}

/// Switches the UI language and remembers it.
#[tauri::command]
pub fn set_language(state: State<'_, AppState>, lang: String) -> Result<Lang> {
    let lang = Lang::parse(&lang)
        .ok_or_else(|| CommandError::invalid("lang", format!("\"{lang}\" (sv eller en)")))?;
    state.db()?.set_setting("lang", lang.code())?;
    *state.lang.write().unwrap_or_else(|p| p.into_inner()) = lang;
    Ok(lang)
}

/// Searches the plan in the current language.
#[tauri::command]
pub fn search_plan(state: State<'_, AppState>, query: String) -> Vec<Hit> {
    let lang = state.lang().for_search();
    state.with_profile(|a| search::search(&a.profile, lang, &query))
}

/// The ticked items of the EFTER checklist.
#[tauri::command]
pub fn checklist_ticks(state: State<'_, AppState>) -> Result<Vec<Tick>> {
    Ok(state.db()?.checklist_ticks()?)
}

/// Ticks or unticks a checklist item; returns the saved tick.
#[tauri::command]
pub fn checklist_tick(
    state: State<'_, AppState>,
    item_id: String,
    ticked: bool,
) -> Result<Option<Tick>> {
    // Not behind the lock screen: an autosave on its way when "Dölj" is pressed must land.
    let known = state.with_profile(|a| a.profile.checklist.items.iter().any(|i| i.id == item_id));
    if !known {
        return Err(CommandError::not_found(format!("checklist item {item_id}")));
    }
    Ok(state
        .db()?
        .set_checklist_tick(&item_id, ticked, &storage::now())?)
}

/// Clears the checklist.
#[tauri::command]
pub fn checklist_reset(state: State<'_, AppState>) -> Result<()> {
    Ok(state.db()?.reset_checklist()?)
}

/// An inventory with its assessment under the current profile.
#[derive(Serialize)]
pub struct InventoryView {
    /// The inventory.
    pub inventory: Inventory,
    /// What the rule says about it.
    pub assessment: Assessment,
    /// When it was created.
    pub created_at: String,
    /// When it was last saved; the UI shows "Sparat" with this.
    pub updated_at: String,
}

fn view(state: &AppState, s: InventorySummary) -> InventoryView {
    let assessment = state.with_profile(|a| risk::assess(&a.profile.risk, &s.inventory.answers));
    InventoryView {
        inventory: s.inventory,
        assessment,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// All risk inventories, newest appearance first.
#[tauri::command]
pub fn inventories(state: State<'_, AppState>) -> Result<Vec<InventoryView>> {
    let list = state.db()?.list_inventories()?;
    Ok(list.into_iter().map(|s| view(&state, s)).collect())
}

/// One risk inventory.
#[tauri::command]
pub fn inventory(state: State<'_, AppState>, id: Uuid) -> Result<InventoryView> {
    let s = state
        .db()?
        .inventory(id)?
        .ok_or_else(|| CommandError::not_found(format!("inventory {id}")))?;
    Ok(view(&state, s))
}

/// An inventory as the form sends it; a missing id makes a new one.
#[derive(Deserialize)]
pub struct InventoryInput {
    id: Option<Uuid>,
    what: String,
    when: String,
    #[serde(rename = "where")]
    place: String,
    answers: BTreeMap<String, Answer>,
    /// The planned appearance this inventory is for (linked on save).
    #[serde(default)]
    appearance_id: Option<Uuid>,
}

/// Validates and saves an inventory durably; returns it as saved, with its assessment.
#[tauri::command]
pub fn save_inventory(state: State<'_, AppState>, input: InventoryInput) -> Result<InventoryView> {
    // Not behind the lock screen: an autosave on its way when "Dölj" is pressed must land.
    let inv = Inventory {
        id: input.id.unwrap_or_else(Uuid::now_v7),
        what: input.what,
        when: input.when,
        place: input.place,
        answers: input.answers,
    };
    let inv = state
        .with_profile(|a| inv.validated(&a.profile.risk))
        .map_err(|e| CommandError {
            kind: ErrorKind::InvalidInput,
            message: e.to_string(),
        })?;
    let db = state.db()?;
    db.save_inventory(&inv, &storage::now())?;
    if let Some(id) = input.appearance_id {
        if let Some(mut a) = db.appearance(id)? {
            if a.inventory_id != Some(inv.id) {
                a.inventory_id = Some(inv.id);
                db.save_appearance(&a)?;
            }
        }
    }
    inventory(state, inv.id)
}

/// Deletes an inventory.
#[tauri::command]
pub fn delete_inventory(state: State<'_, AppState>, id: Uuid) -> Result<()> {
    if state.db()?.delete_inventory(id)? {
        Ok(())
    } else {
        Err(CommandError::not_found(format!("inventory {id}")))
    }
}

/// The longest own note (the plan's *Egna anteckningar* page), in characters.
pub const MAX_OWN_NOTES_CHARS: usize = 20_000;

/// The person's own notes: the plan's *Egna anteckningar* page, kept in the encrypted
/// database like everything else, never sent anywhere.
#[tauri::command]
pub fn own_notes(state: State<'_, AppState>) -> Result<String> {
    Ok(state.db()?.setting(OWN_NOTES)?.unwrap_or_default())
}

/// Saves the own notes durably; returns when they were saved.
#[tauri::command]
pub fn save_own_notes(state: State<'_, AppState>, text: String) -> Result<String> {
    if text.chars().count() > MAX_OWN_NOTES_CHARS {
        return Err(CommandError::invalid(
            "text",
            format!(
                "högst {MAX_OWN_NOTES_CHARS} tecken / at most {MAX_OWN_NOTES_CHARS} characters"
            ),
        ));
    }
    let text = varn_core::incident::strip_controls(&text, true);
    state.db()?.set_setting(OWN_NOTES, &text)?;
    Ok(storage::now())
}

/// The setting the own notes are kept under.
const OWN_NOTES: &str = "own_notes";

/// A planned appearance with what its risk inventory says.
#[derive(Serialize)]
pub struct AppearanceView {
    /// The appearance.
    pub appearance: Appearance,
    /// Where its risk inventory stands.
    pub inventory: varn_core::risk::InventoryState,
    /// Minutes until its expected end (the check-in's length), if it has not ended.
    pub minutes_left: Option<u32>,
}

/// An appearance as the form sends it; a missing id makes a new one.
#[derive(Deserialize)]
pub struct AppearanceInput {
    id: Option<Uuid>,
    title: String,
    place: String,
    starts_at: String,
    ends_at: String,
    remind_minutes: Option<u32>,
}

fn appearance_view(state: &AppState, a: Appearance) -> Result<AppearanceView> {
    let now = chrono::Local::now().naive_local();
    let risk = state.with_profile(|p| p.profile.risk.clone());
    let inventory = crate::runners::reminders::inventory_state(state.db()?, &risk, &a)?;
    Ok(AppearanceView {
        minutes_left: a.minutes_left(now),
        appearance: a,
        inventory,
    })
}

/// Planned appearances that have not ended, soonest first.
#[tauri::command]
pub fn appearances(state: State<'_, AppState>) -> Result<Vec<AppearanceView>> {
    let since = chrono::Local::now()
        .naive_local()
        .format(varn_core::incident::LOCAL_TIME)
        .to_string();
    state
        .db()?
        .appearances(&since)?
        .into_iter()
        .map(|a| appearance_view(&state, a))
        .collect()
}

/// Validates and saves an appearance durably (its inventory link is kept).
#[tauri::command]
pub fn save_appearance(
    state: State<'_, AppState>,
    input: AppearanceInput,
) -> Result<AppearanceView> {
    let db = state.db()?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    let inventory_id = db.appearance(id)?.and_then(|a| a.inventory_id);
    let a = Appearance {
        id,
        title: input.title.trim().to_string(),
        place: input.place.trim().to_string(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        remind_minutes: input.remind_minutes.unwrap_or(DEFAULT_REMIND_MINUTES),
        inventory_id,
    };
    a.validate()
        .map_err(|e| CommandError::invalid("appearance", e.to_string()))?;
    db.save_appearance(&a)?;
    appearance_view(&state, a)
}

/// Deletes a planned appearance (its inventory stays).
#[tauri::command]
pub fn delete_appearance(state: State<'_, AppState>, id: Uuid) -> Result<()> {
    if state.db()?.delete_appearance(id)? {
        Ok(())
    } else {
        Err(CommandError::not_found(format!("appearance {id}")))
    }
}
