//! The global keyboard shortcut that raises the alarm from anywhere, even when Värn is not in
//! front. Configurable in Inställningar; the default is deliberately hard to press by mistake.

use tauri::{AppHandle, Runtime};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut};

use crate::error::CommandError;
use crate::state::AppState;

/// The default shortcut: Ctrl (Cmd on macOS) + Alt + Shift + L ("larm").
pub const DEFAULT: &str = "CommandOrControl+Alt+Shift+L";

/// The configured shortcut.
pub fn configured(state: &AppState) -> String {
    state
        .db()
        .ok()
        .and_then(|db| db.setting("alarm_shortcut").ok())
        .flatten()
        .unwrap_or_else(|| DEFAULT.to_string())
}

/// Parses a shortcut such as `Ctrl+Alt+Shift+L`; it needs at least two modifiers.
pub fn parse(text: &str) -> Result<Shortcut, CommandError> {
    let s: Shortcut = text.parse().map_err(|e| {
        CommandError::invalid(
            "shortcut",
            format!("\"{text}\" kan inte tolkas som kortkommando: {e}"),
        )
    })?;
    let modifiers = s.mods.bits().count_ones();
    let text_upper = text.to_uppercase();
    let ctrl_alt = (text_upper.contains("CTRL") || text_upper.contains("CONTROL"))
        && text_upper.contains("ALT");
    let function_key = text_upper
        .rsplit('+')
        .next()
        .and_then(|k| k.strip_prefix('F'))
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=12).contains(&n));
    if cfg!(target_os = "linux") && ctrl_alt && function_key {
        // X turns Ctrl+Alt+F1..F12 into console switching: such a shortcut never arrives.
        return Err(CommandError::invalid(
            "shortcut",
            "Ctrl+Alt+F1–F12 byter konsol i Linux och når aldrig Värn; välj en annan tangent",
        ));
    }
    if modifiers < 2 {
        return Err(CommandError::invalid(
            "shortcut",
            "minst två av Ctrl, Alt, Shift och Super, så att larmet inte går av av misstag",
        ));
    }
    Ok(s)
}

/// Registers the configured shortcut at start. A failure (the combination is taken) is logged;
/// the button and the tray still raise the alarm.
pub fn register<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    let text = configured(state);
    match parse(&text) {
        Ok(s) => {
            if let Err(e) = app.global_shortcut().register(s) {
                tracing::warn!("the alarm shortcut {text} could not be registered: {e}");
            }
        }
        Err(e) => tracing::warn!("the stored alarm shortcut is not valid: {e}"),
    }
}

/// After unlocking: the stored shortcut may differ from the default registered at start.
pub fn reregister<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    let _ = app.global_shortcut().unregister_all();
    register(app, state);
}

/// Swaps the registered shortcut for `text`.
pub fn replace<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    text: &str,
) -> Result<(), CommandError> {
    let new = parse(text)?;
    let gs = app.global_shortcut();
    let _ = gs.unregister_all();
    if let Err(e) = gs.register(new) {
        // Put the old one back.
        register(app, state);
        return Err(CommandError::invalid(
            "shortcut",
            format!("\"{text}\" används redan av ett annat program: {e}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_need_two_modifiers() {
        assert!(parse(DEFAULT).is_ok());
        assert!(parse("Ctrl+Shift+F12").is_ok());
        assert!(parse("Ctrl+L").is_err());
        assert!(parse("L").is_err());
        assert!(parse("Ctrl+Alt+").is_err());
        if cfg!(target_os = "linux") {
            assert!(parse("Ctrl+Alt+F9").is_err(), "console switching on Linux");
            assert!(parse("Ctrl+Shift+F9").is_ok());
        }
    }
}
