//! Where the person is now, as an alarm carries it and a call script reads it out: a place
//! they typed recently, else the place of the appearance happening now. A typed place goes
//! stale: an alarm (for the officer, who sees when it was typed) takes one up to
//! [`FOR_ALARM`] old, but a script the person reads to 112 only one up to [`FOR_SCRIPT`] old —
//! reading out where one was this morning sends help to the wrong place.

use chrono::{DateTime, Duration, Utc};

/// How old a typed place an alarm may carry.
pub const FOR_ALARM: Duration = Duration::hours(12);
/// How old a typed place a call script may read out.
pub const FOR_SCRIPT: Duration = Duration::hours(1);

/// The place to use at `now`: `typed` (with when it was typed) if it is younger than
/// `fresh_for`, else the appearance's place, else nothing.
pub fn current(
    typed: Option<(&str, DateTime<Utc>)>,
    appearance: Option<&str>,
    now: DateTime<Utc>,
    fresh_for: Duration,
) -> String {
    match typed {
        Some((place, at))
            if !place.trim().is_empty()
                && now - at < fresh_for
                && at <= now + Duration::minutes(5) =>
        {
            place.trim().to_string()
        }
        _ => appearance.unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_place_is_used_while_fresh_then_the_appearances() {
        let now: DateTime<Utc> = "2026-11-29T12:00:00Z".parse().unwrap();
        let typed = |mins: i64| Some(("Stora torget", now - Duration::minutes(mins)));
        assert_eq!(
            current(typed(59), Some("Stadshuset"), now, FOR_SCRIPT),
            "Stora torget"
        );
        assert_eq!(
            current(typed(60), Some("Stadshuset"), now, FOR_SCRIPT),
            "Stadshuset"
        );
        assert_eq!(current(typed(60), None, now, FOR_SCRIPT), "");
        assert_eq!(
            current(typed(11 * 60), None, now, FOR_ALARM),
            "Stora torget"
        );
        assert_eq!(
            current(typed(12 * 60), Some("Stadshuset"), now, FOR_ALARM),
            "Stadshuset"
        );
        assert_eq!(
            current(Some(("  ", now)), Some("Stadshuset"), now, FOR_ALARM),
            "Stadshuset"
        );
        // A time in the future (a wrong clock) is not taken as fresh.
        assert_eq!(
            current(Some(("X", now + Duration::hours(3))), None, now, FOR_ALARM),
            ""
        );
    }
}
