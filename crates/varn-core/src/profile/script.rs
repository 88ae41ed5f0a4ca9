//! Call scripts: the placeholders a line may use, filling them, and checking a profile's lines.

use super::validate::pair;
use super::{invalid, ProfileError, ScriptLine};

/// The placeholders a call script may use.
pub const SCRIPT_PLACEHOLDERS: [&str; 4] = ["name", "region", "meeting", "place"];

/// What a call script's placeholders are filled with; an empty value becomes "…" so the
/// line still reads as something to say.
#[derive(Debug, Clone, Default)]
pub struct ScriptFill<'a> {
    /// The person's name (from the link to the region).
    pub name: &'a str,
    /// The region's name.
    pub region: &'a str,
    /// The meeting happening now.
    pub meeting: &'a str,
    /// Where the person is now (the current meeting's place or the typed place).
    pub place: &'a str,
}

/// Checks a script's lines: both languages, and only known placeholders.
pub(super) fn script_lines(at: &str, lines: &[ScriptLine]) -> Result<(), ProfileError> {
    for (j, line) in lines.iter().enumerate() {
        let field = format!("{at}[{j}]");
        pair(&field, &line.sv, &line.en)?;
        for l in [&line.sv, &line.en] {
            if let Some(bad) = unknown_placeholder(l) {
                return Err(invalid(
                    field,
                    format!(
                        "okänd platshållare {{{bad}}}; tillåtna: {{name}}, {{region}}, {{meeting}}, {{place}}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Fills a script line's placeholders.
pub fn fill_script(line: &str, fill: &ScriptFill<'_>) -> String {
    let or_dots = |v: &str| {
        if v.trim().is_empty() {
            "…".to_string()
        } else {
            v.to_string()
        }
    };
    line.replace("{name}", &or_dots(fill.name))
        .replace("{region}", &or_dots(fill.region))
        .replace("{meeting}", &or_dots(fill.meeting))
        .replace("{place}", &or_dots(fill.place))
}

/// The placeholders used in `line` that are not known, if any.
fn unknown_placeholder(line: &str) -> Option<String> {
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Some(after.to_string());
        };
        let name = &after[..end];
        if !SCRIPT_PLACEHOLDERS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}
