//! Planned appearances (framträdanden): title, place, start and expected end, linked to their
//! risk inventory, and when to remind the person. Times are local, as the person typed them
//! (`YYYY-MM-DDTHH:MM`, like inventories and reports).

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::incident::LOCAL_TIME;
use crate::risk::InventoryState;

/// Longest title and place.
pub const MAX_FIELD_CHARS: usize = 200;
/// The furthest ahead a reminder can be, in minutes (a week).
pub const MAX_REMIND_MINUTES: u32 = 7 * 24 * 60;
/// The reminder when none is chosen.
pub const DEFAULT_REMIND_MINUTES: u32 = 60;

/// A planned appearance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appearance {
    /// Client-generated UUIDv7.
    pub id: Uuid,
    /// What it is ("Medborgardialog i Flen").
    pub title: String,
    /// Where.
    pub place: String,
    /// Start, local time.
    pub starts_at: String,
    /// Expected end, local time.
    pub ends_at: String,
    /// Remind this many minutes before the start.
    pub remind_minutes: u32,
    /// Its risk inventory, once there is one.
    #[serde(default)]
    pub inventory_id: Option<Uuid>,
}

/// Why an appearance cannot be saved; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppearanceError {
    /// A field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: &'static str,
    },
}

fn invalid(field: &'static str, message: &'static str) -> AppearanceError {
    AppearanceError::Invalid { field, message }
}

/// Parses a local time as typed.
pub fn parse_local(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, LOCAL_TIME).ok()
}

impl Appearance {
    /// Checks the fields; returns the start and end.
    pub fn validate(&self) -> Result<(NaiveDateTime, NaiveDateTime), AppearanceError> {
        if self.title.trim().is_empty() {
            return Err(invalid("title", "behövs / is needed"));
        }
        for (field, v) in [("title", &self.title), ("place", &self.place)] {
            if v.chars().count() > MAX_FIELD_CHARS {
                return Err(invalid(field, "högst 200 tecken / at most 200 characters"));
            }
        }
        let start = parse_local(&self.starts_at)
            .ok_or_else(|| invalid("starts_at", "ogiltig tid / not a valid time"))?;
        let end = parse_local(&self.ends_at)
            .ok_or_else(|| invalid("ends_at", "ogiltig tid / not a valid time"))?;
        if end <= start {
            return Err(invalid(
                "ends_at",
                "måste vara efter start / must be after the start",
            ));
        }
        if self.remind_minutes > MAX_REMIND_MINUTES {
            return Err(invalid("remind_minutes", "högst en vecka / at most a week"));
        }
        Ok((start, end))
    }

    /// Minutes from `now` to the expected end (at least 1): the check-in's length.
    pub fn minutes_left(&self, now: NaiveDateTime) -> Option<u32> {
        let end = parse_local(&self.ends_at)?;
        let m = (end - now).num_minutes();
        (m > 0).then(|| u32::try_from(m).unwrap_or(u32::MAX))
    }
}

/// The appearance under way at `now` (from its start to its end), if any: the only one a
/// call script may name as where the person is. The latest started wins when two overlap.
pub fn under_way<'a>(
    appearances: impl IntoIterator<Item = &'a Appearance>,
    now: NaiveDateTime,
) -> Option<&'a Appearance> {
    appearances
        .into_iter()
        .filter_map(|a| {
            let (start, end) = (parse_local(&a.starts_at)?, parse_local(&a.ends_at)?);
            (start <= now && now <= end).then_some((start, a))
        })
        .max_by_key(|(start, _)| *start)
        .map(|(_, a)| a)
}

/// Why the person is reminded before an appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reminder {
    /// No risk inventory has been made for it.
    NoInventory,
    /// Its risk inventory is started but not every question is answered.
    Incomplete,
    /// Its risk inventory advises measures.
    AdvisesMeasures,
}

/// Whether a reminder is due at `now`: from `remind_minutes` before the start until the
/// appearance ends, when its inventory is missing, unfinished or advises measures.
pub fn reminder_due(
    a: &Appearance,
    inventory: InventoryState,
    now: NaiveDateTime,
) -> Option<Reminder> {
    let start = parse_local(&a.starts_at)?;
    let end = parse_local(&a.ends_at)?;
    let from = start - Duration::minutes(a.remind_minutes.into());
    if now < from || now >= end {
        return None;
    }
    match inventory {
        InventoryState::Missing => Some(Reminder::NoInventory),
        InventoryState::Started => Some(Reminder::Incomplete),
        InventoryState::Advises => Some(Reminder::AdvisesMeasures),
        InventoryState::Complete => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        parse_local(s).unwrap()
    }

    fn appearance() -> Appearance {
        Appearance {
            id: Uuid::now_v7(),
            title: "Medborgardialog".into(),
            place: "Folkets hus, Flen".into(),
            starts_at: "2026-12-01T18:00".into(),
            ends_at: "2026-12-01T20:00".into(),
            remind_minutes: 60,
            inventory_id: None,
        }
    }

    #[test]
    fn a_reminder_is_due_from_the_chosen_time_until_the_end_when_it_needs_one() {
        let a = appearance();
        assert_eq!(
            reminder_due(&a, InventoryState::Missing, at("2026-12-01T16:59")),
            None
        );
        assert_eq!(
            reminder_due(&a, InventoryState::Missing, at("2026-12-01T17:00")),
            Some(Reminder::NoInventory)
        );
        assert_eq!(
            reminder_due(&a, InventoryState::Advises, at("2026-12-01T19:59")),
            Some(Reminder::AdvisesMeasures)
        );
        assert_eq!(
            reminder_due(&a, InventoryState::Started, at("2026-12-01T17:30")),
            Some(Reminder::Incomplete),
            "one answer of eleven is no inventory yet"
        );
        assert_eq!(
            reminder_due(&a, InventoryState::Complete, at("2026-12-01T17:30")),
            None
        );
        assert_eq!(
            reminder_due(&a, InventoryState::Missing, at("2026-12-01T20:00")),
            None
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let mut a = appearance();
        assert!(a.validate().is_ok());
        a.ends_at = "2026-12-01T17:00".into();
        assert!(matches!(
            a.validate(),
            Err(AppearanceError::Invalid {
                field: "ends_at",
                ..
            })
        ));
        a.ends_at = "i morgon".into();
        assert!(matches!(
            a.validate(),
            Err(AppearanceError::Invalid {
                field: "ends_at",
                ..
            })
        ));
        a = appearance();
        a.title = " ".into();
        assert!(matches!(
            a.validate(),
            Err(AppearanceError::Invalid { field: "title", .. })
        ));
        a = appearance();
        a.remind_minutes = MAX_REMIND_MINUTES + 1;
        assert!(a.validate().is_err());
        assert_eq!(appearance().minutes_left(at("2026-12-01T19:15")), Some(45));
        assert_eq!(appearance().minutes_left(at("2026-12-01T20:15")), None);
    }

    #[test]
    fn only_an_appearance_under_way_is_where_the_person_is() {
        let at = |s: &str| parse_local(s).unwrap();
        let meeting = |id: u128, start: &str, end: &str| Appearance {
            id: Uuid::from_u128(id),
            title: format!("m{id}"),
            place: format!("p{id}"),
            starts_at: start.into(),
            ends_at: end.into(),
            remind_minutes: 0,
            inventory_id: None,
        };
        let tomorrow = meeting(1, "2026-12-04T09:00", "2026-12-04T11:00");
        let tonight = meeting(2, "2026-12-03T19:00", "2026-12-03T21:00");
        let all = [tomorrow.clone(), tonight.clone()];
        assert_eq!(under_way(&all, at("2026-12-03T20:00")), Some(&tonight));
        assert_eq!(under_way(&all, at("2026-12-03T21:01")), None);
        assert_eq!(
            under_way(&all, at("2026-12-04T08:59")),
            None,
            "not before it starts"
        );
        assert_eq!(under_way(&all, at("2026-12-04T09:00")), Some(&tomorrow));
    }
}
