//! The region profile: all plan content, contacts and rules of one region, as versioned data.
//!
//! A profile is parsed from TOML (the file a region edits) or JSON (what the region server sends
//! and the app stores), then validated. Any problem is reported with the path of the field that is
//! wrong, so whoever publishes a profile can fix it; the app keeps its last good profile meanwhile.

use std::fmt;

use serde::{Deserialize, Serialize};

mod script;
mod validate;

pub use script::{fill_script, ScriptFill, SCRIPT_PLACEHOLDERS};

/// The schema version this build understands.
pub const SCHEMA: u32 = 1;

/// The default profile, embedded in the binary: Region Sörmland's action plan.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("../../profiles/region-sormland.toml");

/// The public keys of the regions this build knows (`profiles/keys.toml`): a profile update
/// for one of them is adopted only when signed with its key.
pub const BUILT_IN_KEYS_TOML: &str = include_str!("../../profiles/keys.toml");

/// The longest a contact's `mark` may be (it is shown on every call button).
pub const MAX_MARK: usize = 24;

/// The emergency number. Not data: the emergency contact must be exactly this, and the app
/// dials it for that contact whatever a profile says.
pub const EMERGENCY_NUMBER: &str = "112";

/// A text in Swedish (the plan's own words) and its English translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Swedish, as the plan says it.
    pub sv: String,
    /// English translation made for Värn.
    pub en: String,
}

/// The whole profile of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Schema version of this document; must equal [`SCHEMA`].
    pub schema: u32,
    /// Publication number; a profile replaces another only when this is higher.
    pub version: u32,
    /// Which region this is.
    pub region: Region,
    /// Title and introduction of the plan.
    pub plan: PlanMeta,
    /// Ansvarsfördelning: who is responsible for what.
    pub responsibilities: Vec<Section>,
    /// FÖRE: prevention.
    pub before: Vec<Section>,
    /// The risk inventory and its threshold rule.
    pub risk: RiskConfig,
    /// UNDER: one action card per situation.
    pub during: Vec<Card>,
    /// EFTER: what to do afterwards.
    pub after: Vec<Section>,
    /// The checklist right after an acute event.
    pub checklist: Checklist,
    /// Phone numbers and addresses.
    pub contacts: Vec<Contact>,
    /// How the region's server treats alarms and drills (the region's own rules, not the
    /// plan's text; defaults when left out).
    #[serde(default)]
    pub alarm: AlarmRules,
    /// An election campaign (valrörelse) with heightened risk, if the region has switched it
    /// on: the home screen says so, every appearance is prompted for a risk inventory, and
    /// the check-in timer is suggested.
    #[serde(default)]
    pub election: Option<ElectionPeriod>,
    /// Supporting material from other sources than the plan (the police, a guide to safety at
    /// work, another region's commission), shown where it belongs with its source, never as
    /// the plan's own words.
    #[serde(default)]
    pub supplements: Vec<Supplement>,
    /// The region's own name for the report of an incident, when it has one (some regions
    /// say "avvikelserapport"); the app says "händelserapport" otherwise.
    #[serde(default)]
    pub report_name: Option<Text>,
    /// Roles the person may want among their own contacts (a region's phone list, e.g. the
    /// party's group leader), offered when adding one.
    #[serde(default)]
    pub personal_contacts: Option<PersonalContacts>,
}

/// Supporting material: a heading, its points, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplement {
    /// Stable id.
    pub id: String,
    /// Heading.
    pub title: Text,
    /// The document it comes from (publisher and title), shown with it.
    pub source: String,
    /// Where the document can be read, if public.
    #[serde(default)]
    pub url: Option<String>,
    /// Where it is shown: `before`, `during` or `after` (under the plan's part, after its
    /// sections), or the id of one of the plan's sections (right under it).
    pub placement: String,
    /// The points, the source's own words.
    pub items: Vec<Item>,
}

/// Roles to suggest for the person's own contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalContacts {
    /// The role names, e.g. "Gruppledare".
    pub suggestions: Vec<Text>,
    /// Where the list comes from.
    pub source: String,
}

/// The region's rules for alarms and drills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmRules {
    /// Seconds an alarm may stay unacknowledged before the server escalates it, and between
    /// further escalations.
    pub ack_limit_seconds: u32,
    /// Days after which the app reminds the person to run a drill again.
    pub drill_interval_days: u32,
    /// Whether the server acknowledges drills itself when no officer does.
    pub drill_auto_ack: bool,
}

impl Default for AlarmRules {
    fn default() -> Self {
        AlarmRules {
            ack_limit_seconds: 60,
            drill_interval_days: 30,
            drill_auto_ack: false,
        }
    }
}

/// The shortest and longest escalation interval a profile may set.
pub const ACK_LIMIT_RANGE: std::ops::RangeInclusive<u32> = 5..=3600;
/// The shortest and longest drill interval a profile may set.
pub const DRILL_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 1..=365;

/// Identity of a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Stable id, lower-case letters, digits and dashes.
    pub id: String,
    /// Name shown to people.
    pub name: String,
}

/// Title, source and introduction of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanMeta {
    /// The plan's title.
    pub title: Text,
    /// Where the content comes from, shown with the plan.
    pub source: String,
    /// Introductory paragraphs.
    #[serde(default)]
    pub intro: Vec<Text>,
    /// Contacts shown under the introduction.
    #[serde(default)]
    pub intro_contacts: Vec<String>,
    /// The heading of the plan's page for the person's own notes (*Egna anteckningar*), if
    /// it has one: the app keeps a free note under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Text>,
}

/// A section of the plan: a heading and its points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Stable id, used for links, search hits and saved state.
    pub id: String,
    /// Heading.
    pub title: Text,
    /// Where in the plan this comes from.
    #[serde(rename = "ref")]
    pub source_ref: String,
    /// The points of the section.
    pub items: Vec<Item>,
}

/// One point of a section or checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable id.
    pub id: String,
    /// A short heading in front of the point, where the source has one.
    #[serde(default)]
    pub label: Option<Text>,
    /// Swedish text.
    pub sv: String,
    /// English translation.
    pub en: String,
    /// Contacts to offer next to this point (ids into [`Profile::contacts`]).
    #[serde(default)]
    pub contacts: Vec<String>,
}

/// An action card for one situation during a threat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Stable id.
    pub id: String,
    /// The plan's heading above a group of cards, if any.
    #[serde(default)]
    pub context: Option<Text>,
    /// The situation.
    pub title: Text,
    /// Where in the plan this comes from.
    #[serde(rename = "ref")]
    pub source_ref: String,
    /// Contacts to call from the card.
    pub contacts: Vec<String>,
    /// A paragraph before the steps.
    #[serde(default)]
    pub intro: Option<Text>,
    /// The numbered steps.
    pub steps: Vec<Step>,
    /// What to say when calling a contact from this card, where the plan says something for
    /// this situation (the PDV card's "prata tyst" for 112), instead of the contact's script.
    #[serde(default)]
    pub call_scripts: Vec<CardScript>,
}

/// The script for calling one contact from a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardScript {
    /// The contact (an id in [`Profile::contacts`]).
    pub contact: String,
    /// The lines.
    pub lines: Vec<ScriptLine>,
}

/// One line of a call script: the plan's words, or — marked `own` — Värn's own help (what
/// anyone calling 112 is asked), which the app shows as Värn's, not as the plan's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptLine {
    /// Swedish.
    pub sv: String,
    /// English.
    pub en: String,
    /// Värn's own help rather than the plan's text.
    #[serde(default)]
    pub own: bool,
}

/// One numbered step of an action card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A short keyword in front of the step (e.g. "FLY").
    #[serde(default)]
    pub label: Option<Text>,
    /// Swedish text.
    pub sv: String,
    /// English translation.
    pub en: String,
}

fn rated_by_default() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl RiskConfig {
    /// The questions that are rated and count toward the rule.
    pub fn rated(&self) -> impl Iterator<Item = &Question> {
        self.questions.iter().filter(|q| q.rated)
    }
}

/// The risk inventory: its questions and the rule that turns answers into advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Heading.
    pub title: Text,
    /// Where in the plan this comes from.
    #[serde(rename = "ref")]
    pub source_ref: String,
    /// Paragraphs before the questions.
    pub intro: Vec<Text>,
    /// The rule as the plan words it.
    pub rule: Text,
    /// Heading above the questions.
    pub questions_heading: Text,
    /// Advise measures when at least this many answers are MÅTTLIG or higher.
    pub moderate_at_least: u32,
    /// Advise measures when more than this many answers are HÖG.
    pub high_more_than: u32,
    /// Sections (ids in [`Profile::before`]) shown as the preventive measures.
    pub measures: Vec<String>,
    /// Contacts offered with the advice.
    pub advice_contacts: Vec<String>,
    /// Names of the three levels.
    pub levels: Levels,
    /// The questions, in the plan's order.
    pub questions: Vec<Question>,
}

/// Display names of the risk levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// LÅG.
    pub low: Text,
    /// MÅTTLIG.
    pub moderate: Text,
    /// HÖG.
    pub high: Text,
}

/// One question of the risk inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id; answers are stored under it.
    pub id: String,
    /// A keyword in front of the question (VEM, VAD, …).
    #[serde(default)]
    pub label: Option<Text>,
    /// Swedish text.
    pub sv: String,
    /// English translation.
    pub en: String,
    /// Whether it is rated LÅG / MÅTTLIG / HÖG and counts toward the rule. An open question
    /// (VEM ska jag kontakta, VAD ska jag göra) cannot be rated: it takes a note only.
    #[serde(default = "rated_by_default", skip_serializing_if = "is_true")]
    pub rated: bool,
    /// Värn's help for reading the question as risk, shown marked as Värn's (not the plan's),
    /// e.g. where the question runs the other way: *Små möjligheter till hjälp = HÖG risk*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
}

/// The checklist right after an acute event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    /// Stable id.
    pub id: String,
    /// Heading.
    pub title: Text,
    /// Where in the plan this comes from.
    #[serde(rename = "ref")]
    pub source_ref: String,
    /// The points, in order.
    pub items: Vec<Item>,
}

/// What a contact is for; the app picks buttons and order by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// 112.
    Emergency,
    /// The guard company.
    Guard,
    /// Tjänsteman i beredskap.
    DutyOfficer,
    /// The region's security officer.
    SecurityOfficer,
    /// The police's non-emergency number.
    Police,
    /// A web address.
    Web,
}

/// A phone number or address from the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Stable id, referenced from items and cards.
    pub id: String,
    /// What the contact is for.
    pub role: ContactRole,
    /// Name shown on the button.
    pub name: Text,
    /// A named person, if the plan gives one.
    #[serde(default)]
    pub person: Option<String>,
    /// Phone number as printed in the plan.
    #[serde(default)]
    pub number: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Web address.
    #[serde(default)]
    pub url: Option<String>,
    /// A short note (when it applies, how it is reached).
    #[serde(default)]
    pub note: Option<Text>,
    /// A mark of a few words shown with the number wherever it appears, on every chip and
    /// button (e.g. that 11414 is not for emergencies, that TiB is reached via the
    /// switchboard).
    #[serde(default)]
    pub mark: Option<Text>,
    /// Where in the plan this comes from.
    #[serde(rename = "ref")]
    pub source_ref: String,
    /// What to say when calling, one line each, shown when the call button is tapped.
    /// `{name}`, `{region}`, `{meeting}` and `{place}` are filled in (see [`ScriptFill`]).
    #[serde(default)]
    pub script: Vec<ScriptLine>,
}

/// An election campaign (valrörelse, not valperiod — the four-year term): from and to (inclusive, local dates `YYYY-MM-DD`), and what the home
/// screen says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionPeriod {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Shown on the home screen.
    pub note: Text,
}

impl ElectionPeriod {
    /// Whether `today` falls within the period.
    pub fn covers(&self, today: chrono::NaiveDate) -> bool {
        let parse = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        matches!((parse(&self.from), parse(&self.to)), (Some(f), Some(t)) if f <= today && today <= t)
    }
}

impl Contact {
    /// The number as a dialable string for a `tel:` link (digits and a leading `+`).
    pub fn dial_string(&self) -> Option<String> {
        self.number.as_deref().map(dial_string)
    }
}

/// A contact whose number a newer profile changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberChange {
    /// The contact's id.
    pub contact_id: String,
    /// Its name (Swedish).
    pub name: String,
    /// The number before, as printed.
    pub old: String,
    /// The number now, as printed.
    pub new: String,
}

/// The contacts of `old` whose number is different in `new` (by id; a contact that is new or
/// gone is not a change of number).
pub fn changed_numbers(old: &Profile, new: &Profile) -> Vec<NumberChange> {
    new.contacts
        .iter()
        .filter_map(|n| {
            let o = old.contact(&n.id)?;
            let (Some(was), Some(now)) = (&o.number, &n.number) else {
                return None;
            };
            (dial_string(was) != dial_string(now)).then(|| NumberChange {
                contact_id: n.id.clone(),
                name: n.name.sv.clone(),
                old: was.clone(),
                new: now.clone(),
            })
        })
        .collect()
}

/// Digits (and a leading `+`) of a phone number as printed, e.g. "010-470 55 64" → "0104705564".
pub fn dial_string(printed: &str) -> String {
    let mut out = String::new();
    for (i, c) in printed.trim().chars().enumerate() {
        if c.is_ascii_digit() || (c == '+' && i == 0) {
            out.push(c);
        }
    }
    out
}

/// Why a profile was refused. The field path says where, the message what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The text is not TOML/JSON at all, or a field has the wrong type or is missing.
    #[error("regionprofilen kunde inte läsas: fältet `{field}`: {message}")]
    Syntax {
        /// Path of the field, e.g. `contacts[2].number`; empty for the whole document.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The document is well-formed but breaks a rule.
    #[error("regionprofilen är ogiltig: fältet `{field}`: {message}")]
    Invalid {
        /// Path of the field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl ProfileError {
    /// The path of the field that is wrong.
    pub fn field(&self) -> &str {
        match self {
            ProfileError::Syntax { field, .. } | ProfileError::Invalid { field, .. } => field,
        }
    }
}

fn invalid(field: impl fmt::Display, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

impl Profile {
    /// The embedded default profile. It is checked by the tests, so this cannot fail at run time
    /// unless the binary itself is broken; callers still get a `Result` rather than a panic.
    pub fn embedded_default() -> Result<Profile, ProfileError> {
        Profile::from_toml(DEFAULT_PROFILE_TOML)
    }

    /// Parse and validate a profile written as TOML.
    pub fn from_toml(text: &str) -> Result<Profile, ProfileError> {
        let de = toml::Deserializer::parse(text).map_err(|e| ProfileError::Syntax {
            field: String::new(),
            message: e.message().to_string(),
        })?;
        let profile: Profile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            ProfileError::Syntax {
                field: if field == "." { String::new() } else { field },
                message: e.into_inner().message().to_string(),
            }
        })?;
        profile.validate()?;
        Ok(profile)
    }

    /// Parse and validate a profile sent as JSON (by the region server, or stored by the app).
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let profile: Profile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            ProfileError::Syntax {
                field: if field == "." { String::new() } else { field },
                message: e.into_inner().to_string(),
            }
        })?;
        de.end().map_err(|e| ProfileError::Syntax {
            field: String::new(),
            message: e.to_string(),
        })?;
        profile.validate()?;
        Ok(profile)
    }

    /// The canonical JSON form (what a region signs).
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Looks up a contact by id.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    /// The first contact with the given role.
    pub fn contact_by_role(&self, role: ContactRole) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_profile() -> Profile {
        match Profile::embedded_default() {
            Ok(p) => p,
            Err(e) => panic!("embedded profile is invalid: {e}"),
        }
    }

    #[test]
    fn embedded_profile_is_valid() {
        let p = default_profile();
        assert_eq!(p.region.id, "sormland");
        assert_eq!(p.risk.questions.len(), 11);
        assert_eq!(p.checklist.items.len(), 8);
        assert_eq!(p.during.len(), 7);
    }

    #[test]
    fn call_scripts_fill_their_placeholders_and_refuse_unknown_ones() {
        let p = default_profile();
        let sos = p.contact_by_role(ContactRole::Emergency).unwrap();
        assert!(!sos.script.is_empty(), "112 has a script");
        let police = p.contact_by_role(ContactRole::Police).unwrap();
        assert!(police.script.iter().any(|l| l.sv.contains("åtkomstskydd")));
        assert!(police
            .script
            .iter()
            .any(|l| l.sv.contains("förtroendevald")));
        let fill = ScriptFill {
            name: "Anna Andersson",
            region: "Region Sörmland",
            meeting: "",
            place: "Stora salen",
        };
        assert_eq!(
            fill_script("Jag heter {name}, {place}, {meeting}.", &fill),
            "Jag heter Anna Andersson, Stora salen, ….",
        );
        let mut bad = p.clone();
        bad.contacts[0].script = vec![ScriptLine {
            sv: "Jag är på {plats}".into(),
            en: "I am at {place}".into(),
            own: true,
        }];
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field(), "contacts[0].script[0]");
        assert!(err.to_string().contains("{plats}"), "{err}");
    }

    #[test]
    fn a_changed_number_is_found_and_a_reformatted_one_is_not() {
        let old = default_profile();
        let mut new = old.clone();
        new.contacts
            .iter_mut()
            .find(|c| c.id == "guard")
            .unwrap()
            .number = Some("010-470 55 99".into());
        new.contacts
            .iter_mut()
            .find(|c| c.id == "tib")
            .unwrap()
            .number = Some("016 10 30 00".into());
        let changes = changed_numbers(&old, &new);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].contact_id, "guard");
        assert_eq!(
            (changes[0].old.as_str(), changes[0].new.as_str()),
            ("010-470 55 64", "010-470 55 99")
        );
        assert!(changed_numbers(&old, &old).is_empty());
    }

    #[test]
    fn the_second_regions_test_profile_is_valid_and_says_it_is_test_data() {
        let p = Profile::from_toml(include_str!("../../profiles/fixtures/region-exempel.toml"))
            .unwrap();
        assert_eq!(p.region.id, "exempel");
        assert!(p.region.name.contains("testdata"));
        assert_eq!(p.report_name.as_ref().unwrap().sv, "Avvikelserapport");
        assert_eq!(
            p.contact_by_role(ContactRole::Emergency)
                .unwrap()
                .dial_string()
                .as_deref(),
            Some("112")
        );
        for c in p
            .contacts
            .iter()
            .filter(|c| c.role != ContactRole::Emergency && c.role != ContactRole::Police)
        {
            assert!(c.name.sv.starts_with("Testdata"), "{}", c.name.sv);
        }
    }

    /// 112 is not data: a profile whose emergency contact is any other number is invalid,
    /// however it is written.
    #[test]
    fn the_emergency_number_is_always_112() {
        let p = default_profile();
        let sos = p
            .contacts
            .iter()
            .position(|c| c.role == ContactRole::Emergency)
            .unwrap();
        for number in ["0701234567", "11414", "1 1 2 0", "911"] {
            let mut bad = p.clone();
            bad.contacts[sos].number = Some(number.into());
            let err = bad.validate().unwrap_err();
            assert_eq!(err.field(), format!("contacts[{sos}].number"), "{number}");
            assert!(err.to_string().contains("112"), "{err}");
        }
        let mut spaced = p.clone();
        spaced.contacts[sos].number = Some(" 112 ".into());
        assert!(spaced.validate().is_ok());
    }

    /// 11414 says it is not for emergencies and TiB that it goes through the switchboard, on
    /// every button; a mark too long for a button is refused.
    #[test]
    fn numbers_carry_their_marks_and_a_mark_fits_a_button() {
        let p = default_profile();
        let mark = |id: &str| p.contact(id).and_then(|c| c.mark.clone()).map(|m| m.sv);
        assert_eq!(mark("police").as_deref(), Some("ej akut"));
        assert_eq!(mark("tib").as_deref(), Some("via växeln"));
        let mut long = p.clone();
        let i = long.contacts.iter().position(|c| c.id == "police").unwrap();
        long.contacts[i].mark = Some(Text {
            sv: "ring bara när det inte är akut".into(),
            en: "not urgent".into(),
        });
        assert_eq!(
            long.validate().unwrap_err().field(),
            format!("contacts[{i}].mark")
        );
    }

    #[test]
    fn supplements_name_their_source_and_a_known_place() {
        let p = default_profile();
        assert!(!p.supplements.is_empty());
        let mut bad = p.clone();
        bad.supplements[0].placement = "nowhere".into();
        assert_eq!(
            bad.validate().unwrap_err().field(),
            "supplements[0].placement"
        );
        let mut bad = p.clone();
        bad.supplements[0].source = " ".into();
        assert_eq!(bad.validate().unwrap_err().field(), "supplements[0].source");
        let mut bad = p.clone();
        bad.during[0].call_scripts.push(CardScript {
            contact: "nobody".into(),
            lines: Vec::new(),
        });
        assert_eq!(
            bad.validate().unwrap_err().field(),
            "during[0].call_scripts[0].contact[0]"
        );
    }

    #[test]
    fn an_election_period_covers_its_days_and_bad_dates_are_refused() {
        let mut p = default_profile();
        let e = ElectionPeriod {
            from: "2026-08-01".into(),
            to: "2026-09-13".into(),
            note: Text {
                sv: "Valrörelse".into(),
                en: "Election campaign".into(),
            },
        };
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(e.covers(day("2026-08-01")) && e.covers(day("2026-09-13")));
        assert!(!e.covers(day("2026-09-14")) && !e.covers(day("2026-07-31")));
        p.election = Some(e.clone());
        assert!(p.validate().is_ok());
        p.election = Some(ElectionPeriod {
            to: "2026-07-01".into(),
            ..e
        });
        assert_eq!(p.validate().unwrap_err().field(), "election.to");
    }

    #[test]
    fn json_round_trip_keeps_everything() {
        let p = default_profile();
        let back = Profile::from_json(&p.to_json()).expect("round trip");
        assert_eq!(p, back);
    }

    #[test]
    fn bad_number_names_the_field() {
        let text = DEFAULT_PROFILE_TOML.replace("number = \"016-103000\"", "number = \"växeln\"");
        let err = Profile::from_toml(&text).unwrap_err();
        assert_eq!(err.field(), "contacts[2].number");
        assert!(err.to_string().contains("växeln"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let text =
            DEFAULT_PROFILE_TOML.replace("moderate_at_least = 4", "moderate_at_least = \"fyra\"");
        let err = Profile::from_toml(&text).unwrap_err();
        assert!(matches!(err, ProfileError::Syntax { .. }), "{err:?}");
        assert_eq!(err.field(), "risk.moderate_at_least");
    }

    #[test]
    fn unknown_contact_reference_is_refused() {
        let text = DEFAULT_PROFILE_TOML.replacen(
            "contacts = [\"sos\", \"guard\"]",
            "contacts = [\"sos\", \"vaktbolaget\"]",
            1,
        );
        let err = Profile::from_toml(&text).unwrap_err();
        assert_eq!(err.field(), "during[0].contacts[1]");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let text = DEFAULT_PROFILE_TOML.replace("id = \"fore-resor-2\"", "id = \"fore-resor-1\"");
        let err = Profile::from_toml(&text).unwrap_err();
        assert_eq!(err.field(), "before[5].items[1].id");
    }

    #[test]
    fn thresholds_outside_the_questions_are_refused() {
        let text = DEFAULT_PROFILE_TOML.replace("high_more_than = 2", "high_more_than = 11");
        let err = Profile::from_toml(&text).unwrap_err();
        assert_eq!(err.field(), "risk.high_more_than");
    }

    #[test]
    fn empty_translation_is_refused() {
        let text = DEFAULT_PROFILE_TOML.replace("en = \"Document the incident\"", "en = \" \"");
        let err = Profile::from_toml(&text).unwrap_err();
        assert_eq!(err.field(), "checklist.items[4].en");
    }

    #[test]
    fn unknown_schema_is_refused() {
        let text = DEFAULT_PROFILE_TOML.replace("schema = 1", "schema = 2");
        let err = Profile::from_toml(&text).unwrap_err();
        assert_eq!(err.field(), "schema");
    }

    #[test]
    fn garbage_is_a_syntax_error_not_a_panic() {
        for bad in ["", "schema = ", "\u{0}\u{1}", "[[[", "version = 1"] {
            assert!(Profile::from_toml(bad).is_err(), "{bad:?}");
            assert!(Profile::from_json(bad).is_err(), "{bad:?}");
        }
        assert!(Profile::from_json("{} trailing").is_err());
    }

    #[test]
    fn dial_string_keeps_digits_and_leading_plus() {
        assert_eq!(dial_string("010-470 55 64"), "0104705564");
        assert_eq!(
            dial_string("+46 16-10 30 00"),
            "+46161030 00".replace(' ', "")
        );
        assert_eq!(dial_string("112"), "112");
    }
}
