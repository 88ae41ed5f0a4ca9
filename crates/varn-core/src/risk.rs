//! The risk inventory for one appearance and the plan's rule that turns its answers into advice.
//!
//! The plan says: "Får du MÅTTLIG på fyra eller HÖG på fler än två bör du överväga förebyggande
//! åtgärder". Värn reads "MÅTTLIG på fyra" conservatively: an answer of HÖG is at least as
//! serious as MÅTTLIG, so it counts toward the four as well. Three MÅTTLIG and one HÖG therefore
//! advise measures, although a literal reading would not. Erring towards advice is the safe side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::profile::RiskConfig;

/// A rating of one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// LÅG.
    Low,
    /// MÅTTLIG.
    Moderate,
    /// HÖG.
    High,
}

/// The answer to one question: a level (a rated question) and a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The rating; none on an open question, or before the person has rated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// The person's own note.
    #[serde(default)]
    pub note: String,
}

/// A risk inventory for one appearance, as the app stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Client-generated UUIDv7.
    pub id: uuid::Uuid,
    /// What the appearance is.
    pub what: String,
    /// When it takes place (local date and time as the person typed it, ISO 8601).
    pub when: String,
    /// Where it takes place.
    #[serde(rename = "where")]
    pub place: String,
    /// Answers by question id.
    pub answers: BTreeMap<String, Answer>,
}

/// Longest text accepted for what / where.
pub const MAX_FIELD_CHARS: usize = 200;
/// Longest note accepted per answer.
pub const MAX_NOTE_CHARS: usize = 4000;

/// Why an inventory cannot be saved; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// A required field is empty.
    #[error("{0}: får inte vara tomt / must not be empty")]
    Empty(&'static str),
    /// A field is longer than allowed.
    #[error("{field}: högst {max} tecken / at most {max} characters")]
    TooLong {
        /// The field.
        field: String,
        /// The limit.
        max: usize,
    },
    /// A field holds control characters.
    #[error("{0}: innehåller otillåtna kontrolltecken / contains control characters")]
    ControlChars(String),
    /// The time is not a date and time.
    #[error("when: \"{0}\" är ingen tidpunkt (ÅÅÅÅ-MM-DDTHH:MM) / is not a date and time")]
    BadTime(String),
    /// An answer to a question the profile does not have.
    #[error("answers.{0}: frågan finns inte i regionprofilen / no such question")]
    UnknownQuestion(String),
}

fn check_text(field: &str, value: &str, max: usize, multiline: bool) -> Result<(), InventoryError> {
    if value.chars().count() > max {
        return Err(InventoryError::TooLong {
            field: field.to_string(),
            max,
        });
    }
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad {
        return Err(InventoryError::ControlChars(field.to_string()));
    }
    Ok(())
}

impl Inventory {
    /// Trims the fields and checks them against the profile's questions.
    pub fn validated(mut self, config: &RiskConfig) -> Result<Inventory, InventoryError> {
        self.what = self.what.trim().to_string();
        self.place = self.place.trim().to_string();
        self.when = self.when.trim().to_string();
        if self.what.is_empty() {
            return Err(InventoryError::Empty("what"));
        }
        check_text("what", &self.what, MAX_FIELD_CHARS, false)?;
        check_text("where", &self.place, MAX_FIELD_CHARS, false)?;
        if chrono::NaiveDateTime::parse_from_str(&self.when, "%Y-%m-%dT%H:%M").is_err() {
            return Err(InventoryError::BadTime(
                self.when.chars().take(40).collect(),
            ));
        }
        for (id, answer) in &mut self.answers {
            let Some(question) = config.questions.iter().find(|q| &q.id == id) else {
                return Err(InventoryError::UnknownQuestion(
                    id.chars().take(64).collect(),
                ));
            };
            // An open question takes no rating (one from before it became open is dropped).
            if !question.rated {
                answer.level = None;
            }
            check_text(
                &format!("answers.{id}.note"),
                &answer.note,
                MAX_NOTE_CHARS,
                true,
            )?;
        }
        self.answers
            .retain(|_, a| a.level.is_some() || !a.note.trim().is_empty());
        Ok(self)
    }
}

/// The appearance happening around `now` (local time), if any: the inventory whose time is
/// closest to `now` within `window` either side. An alarm carries its meeting and place, so an
/// old inventory must never be taken for the present one.
pub fn current_appearance<'a>(
    inventories: impl IntoIterator<Item = &'a Inventory>,
    now: chrono::NaiveDateTime,
    window: chrono::Duration,
) -> Option<&'a Inventory> {
    inventories
        .into_iter()
        .filter_map(|i| {
            let when = chrono::NaiveDateTime::parse_from_str(&i.when, "%Y-%m-%dT%H:%M").ok()?;
            let distance = (when - now).abs();
            (distance <= window).then_some((distance, i))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, i)| i)
}

/// The result of applying the rule to a set of answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// How many rated questions have a rating.
    pub answered: u32,
    /// How many rated questions there are.
    pub questions: u32,
    /// Answers of MÅTTLIG or HÖG.
    pub moderate_or_higher: u32,
    /// Answers of HÖG.
    pub high: u32,
    /// True when the plan advises preventive measures and talking to the party / security officer.
    pub advise_measures: bool,
    /// Where the inventory stands (what the views and reminders show).
    pub state: InventoryState,
}

/// Where a risk inventory stands by the plan's rule. The plan's advice is shown as soon as
/// the rule is met (more answers can only add to the counts); that the rule is *not* met is
/// said only once every question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryState {
    /// No question answered (or no inventory at all).
    Missing,
    /// Some questions answered, the rule not met yet: no verdict.
    Started,
    /// The rule is met: the plan advises considering preventive measures.
    Advises,
    /// Every question answered and the rule not met.
    Complete,
}

impl InventoryState {
    /// The state of an appearance's inventory: `None` when it has none.
    pub fn of(assessment: Option<&Assessment>) -> InventoryState {
        assessment.map_or(InventoryState::Missing, |a| a.state)
    }
}

/// Applies the plan's rule, with thresholds from the region profile, to the rated questions.
///
/// Answers to question ids that the profile does not have, and ratings of open questions,
/// are ignored, so an inventory saved under an older profile is still judged only by the
/// questions that are rated now.
pub fn assess(config: &RiskConfig, answers: &BTreeMap<String, Answer>) -> Assessment {
    let mut answered = 0;
    let mut moderate_or_higher = 0;
    let mut high = 0;
    for q in config.rated() {
        if let Some(level) = answers.get(&q.id).and_then(|a| a.level) {
            answered += 1;
            if level >= Level::Moderate {
                moderate_or_higher += 1;
            }
            if level == Level::High {
                high += 1;
            }
        }
    }
    let questions = config.rated().count() as u32;
    let advise_measures =
        moderate_or_higher >= config.moderate_at_least || high > config.high_more_than;
    let state = if advise_measures {
        InventoryState::Advises
    } else if answered == 0 {
        InventoryState::Missing
    } else if answered < questions {
        InventoryState::Started
    } else {
        InventoryState::Complete
    };
    Assessment {
        answered,
        questions,
        moderate_or_higher,
        high,
        advise_measures,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn config() -> RiskConfig {
        Profile::embedded_default().expect("embedded profile").risk
    }

    /// Answers the first questions with the given levels, in order.
    fn answers(levels: &[Level]) -> BTreeMap<String, Answer> {
        config()
            .rated()
            .zip(levels)
            .map(|(q, l)| {
                (
                    q.id.clone(),
                    Answer {
                        level: Some(*l),
                        note: String::new(),
                    },
                )
            })
            .collect()
    }

    use Level::{High as H, Low as L, Moderate as M};

    #[test]
    fn the_plan_thresholds_are_four_moderate_and_more_than_two_high() {
        let c = config();
        assert_eq!(c.moderate_at_least, 4);
        assert_eq!(c.high_more_than, 2);
    }

    #[test]
    fn nothing_answered_gives_no_advice() {
        let a = assess(&config(), &BTreeMap::new());
        assert_eq!(a.answered, 0);
        assert_eq!(a.questions, 9, "eleven questions, VEM and VAD open");
        assert!(!a.advise_measures);
    }

    /// No verdict from one answer of nine: "not met" only once every question is answered;
    /// the advice as soon as the rule is met.
    #[test]
    fn the_state_says_no_verdict_until_every_question_is_answered() {
        let one_low = answers(&[L]);
        assert_eq!(
            assess(&config(), &BTreeMap::new()).state,
            InventoryState::Missing
        );
        assert_eq!(assess(&config(), &one_low).state, InventoryState::Started);
        let eight = answers(&[L, L, L, L, L, L, L, L]);
        assert_eq!(assess(&config(), &eight).state, InventoryState::Started);
        let all = answers(&[L, L, L, L, L, L, L, L, L]);
        assert_eq!(assess(&config(), &all).state, InventoryState::Complete);
        let early = answers(&[M, M, M, M]);
        assert_eq!(assess(&config(), &early).state, InventoryState::Advises);
        assert_eq!(InventoryState::of(None), InventoryState::Missing);
    }

    #[test]
    fn three_moderate_is_below_the_threshold() {
        let a = assess(&config(), &answers(&[M, M, M, L, L, L, L, L, L, L, L]));
        assert_eq!(a.moderate_or_higher, 3);
        assert!(!a.advise_measures);
    }

    #[test]
    fn four_moderate_advises_measures() {
        let a = assess(&config(), &answers(&[M, M, M, M, L, L, L, L, L, L, L]));
        assert_eq!(a.moderate_or_higher, 4);
        assert!(a.advise_measures);
    }

    #[test]
    fn two_high_alone_is_below_the_threshold() {
        let a = assess(&config(), &answers(&[H, H, L, L, L, L, L, L, L, L, L]));
        assert_eq!(a.high, 2);
        assert!(!a.advise_measures);
    }

    #[test]
    fn three_high_advises_measures() {
        let a = assess(&config(), &answers(&[H, H, H, L, L, L, L, L, L, L, L]));
        assert_eq!(a.high, 3);
        assert!(a.advise_measures);
    }

    #[test]
    fn high_counts_toward_the_four_moderate() {
        // Literal reading: 3 MÅTTLIG + 1 HÖG is neither "MÅTTLIG på fyra" nor "HÖG på fler än två".
        // Värn's conservative reading counts the HÖG as well and advises measures.
        let a = assess(&config(), &answers(&[M, M, M, H, L, L, L, L, L, L, L]));
        assert_eq!(a.moderate_or_higher, 4);
        assert_eq!(a.high, 1);
        assert!(a.advise_measures);
        let a = assess(&config(), &answers(&[M, H, H, L, L, L, L, L, L, L, L]));
        assert_eq!(a.moderate_or_higher, 3);
        assert!(!a.advise_measures);
    }

    #[test]
    fn two_moderate_and_two_high_advise_measures() {
        let a = assess(&config(), &answers(&[M, M, H, H]));
        assert_eq!(a.answered, 4);
        assert!(a.advise_measures);
    }

    #[test]
    fn all_low_gives_no_advice() {
        let a = assess(&config(), &answers(&[L; 9]));
        assert_eq!(a.answered, 9);
        assert!(!a.advise_measures);
    }

    #[test]
    fn answers_to_unknown_questions_are_ignored() {
        let mut a = answers(&[M, M, M]);
        a.insert(
            "finns-inte".into(),
            Answer {
                level: Some(Level::High),
                note: String::new(),
            },
        );
        let r = assess(&config(), &a);
        assert_eq!(r.answered, 3);
        assert!(!r.advise_measures);
    }

    fn inventory() -> Inventory {
        Inventory {
            id: uuid::Uuid::now_v7(),
            what: "  Fullmäktige  ".into(),
            when: "2026-12-01T18:00".into(),
            place: "Nyköping".into(),
            answers: answers(&[M, H]),
        }
    }

    #[test]
    fn a_valid_inventory_is_trimmed() {
        let v = inventory().validated(&config()).unwrap();
        assert_eq!(v.what, "Fullmäktige");
    }

    #[test]
    fn bad_inventories_name_the_field() {
        let c = config();
        let mut i = inventory();
        i.what = "   ".into();
        assert_eq!(i.validated(&c), Err(InventoryError::Empty("what")));
        let mut i = inventory();
        i.when = "i morgon".into();
        assert!(matches!(i.validated(&c), Err(InventoryError::BadTime(_))));
        let mut i = inventory();
        i.place = "x".repeat(MAX_FIELD_CHARS + 1);
        assert!(matches!(
            i.validated(&c),
            Err(InventoryError::TooLong { .. })
        ));
        let mut i = inventory();
        i.what = "Möte\u{7}".into();
        assert_eq!(
            i.validated(&c),
            Err(InventoryError::ControlChars("what".into()))
        );
        let mut i = inventory();
        i.answers.insert(
            "nope".into(),
            Answer {
                level: Some(Level::Low),
                note: String::new(),
            },
        );
        assert_eq!(
            i.validated(&c),
            Err(InventoryError::UnknownQuestion("nope".into()))
        );
        let mut i = inventory();
        i.answers.insert(
            "vem".into(),
            Answer {
                level: None,
                note: "rad 1\nrad 2".into(),
            },
        );
        assert!(i.validated(&c).is_ok(), "line breaks are fine in notes");
    }

    #[test]
    fn the_current_appearance_is_the_nearest_within_the_window() {
        let mk = |what: &str, when: &str| Inventory {
            what: what.into(),
            when: when.into(),
            ..inventory()
        };
        let list = [
            mk("förra veckan", "2026-11-17T18:00"),
            mk("i kväll", "2026-11-24T19:00"),
            mk("i morgon", "2026-11-25T09:00"),
        ];
        let now =
            chrono::NaiveDateTime::parse_from_str("2026-11-24T17:30", "%Y-%m-%dT%H:%M").unwrap();
        let w = chrono::Duration::hours(12);
        assert_eq!(current_appearance(&list, now, w).unwrap().what, "i kväll");
        let late =
            chrono::NaiveDateTime::parse_from_str("2026-11-21T12:00", "%Y-%m-%dT%H:%M").unwrap();
        assert!(
            current_appearance(&list, late, w).is_none(),
            "nothing near: no meeting is claimed"
        );
    }

    #[test]
    fn thresholds_come_from_the_profile() {
        let mut c = config();
        c.moderate_at_least = 2;
        assert!(assess(&c, &answers(&[M, M])).advise_measures);
        c.high_more_than = 0;
        c.moderate_at_least = 9;
        assert!(assess(&c, &answers(&[H])).advise_measures);
    }

    /// VEM and VAD are open questions: a note, never a rating. A rating saved before they
    /// became open is dropped on save and never counted.
    #[test]
    fn open_questions_take_a_note_and_no_rating() {
        let c = config();
        let open: Vec<&str> = c
            .questions
            .iter()
            .filter(|q| !q.rated)
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(open, ["vem", "vad"]);
        let mut i = inventory();
        i.answers = answers(&[M, M, M]);
        for id in ["vem", "vad"] {
            i.answers.insert(
                id.into(),
                Answer {
                    level: Some(Level::High),
                    note: "Ordföranden".into(),
                },
            );
        }
        assert_eq!(assess(&c, &i.answers).moderate_or_higher, 3);
        let v = i.validated(&c).unwrap();
        assert_eq!(v.answers["vem"].level, None);
        assert_eq!(v.answers["vem"].note, "Ordföranden");
        assert!(!assess(&c, &v.answers).advise_measures);
        let mut empty = inventory();
        empty.answers.insert(
            "vad".into(),
            Answer {
                level: None,
                note: " ".into(),
            },
        );
        assert!(!empty.validated(&c).unwrap().answers.contains_key("vad"));
    }

    /// The two questions that run the other way carry Värn's hint, which reads them as risk.
    #[test]
    fn the_inverted_questions_say_which_way_is_high_risk() {
        let c = config();
        for id in ["hur", "fortroende"] {
            let q = c.questions.iter().find(|q| q.id == id).unwrap();
            let hint = q
                .hint
                .as_ref()
                .unwrap_or_else(|| panic!("{id} has no hint"));
            assert!(hint.sv.contains("HÖG risk"), "{}", hint.sv);
        }
        assert_eq!(c.questions.iter().filter(|q| q.hint.is_some()).count(), 2);
    }
}
