//! The region profile: all plan content, contacts and rules of one region, as versioned data.
//!
//! A profile is parsed from TOML (the file a region edits) or JSON (what the region server sends
//! and the app stores), then validated. Any problem is reported with the path of the field that is
//! wrong, so whoever publishes a profile can fix it; the app keeps its last good profile meanwhile.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The schema version this build understands.
pub const SCHEMA: u32 = 1;

/// The default profile, embedded in the binary: Region Sörmland's action plan.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("../profiles/region-sormland.toml");

/// The public keys of the regions this build knows (`profiles/keys.toml`): a profile update
/// for one of them is adopted only when signed with its key.
pub const BUILT_IN_KEYS_TOML: &str = include_str!("../profiles/keys.toml");

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
fn script_lines(at: &str, lines: &[ScriptLine]) -> Result<(), ProfileError> {
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

    /// Checks every rule that the type system cannot.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.schema != SCHEMA {
            return Err(invalid(
                "schema",
                format!(
                    "schemaversion {} stöds inte, den här versionen av Värn läser {SCHEMA}",
                    self.schema
                ),
            ));
        }
        if self.version == 0 {
            return Err(invalid("version", "måste vara 1 eller högre"));
        }
        check_id("region.id", &self.region.id)?;
        non_empty("region.name", &self.region.name)?;
        text("plan.title", &self.plan.title)?;
        if let Some(notes) = &self.plan.notes {
            text("plan.notes", notes)?;
        }
        non_empty("plan.source", &self.plan.source)?;
        for (i, t) in self.plan.intro.iter().enumerate() {
            text(format!("plan.intro[{i}]"), t)?;
        }

        if !ACK_LIMIT_RANGE.contains(&self.alarm.ack_limit_seconds) {
            return Err(invalid(
                "alarm.ack_limit_seconds",
                format!(
                    "{} sekunder: måste vara mellan {} och {}",
                    self.alarm.ack_limit_seconds,
                    ACK_LIMIT_RANGE.start(),
                    ACK_LIMIT_RANGE.end()
                ),
            ));
        }
        if !DRILL_INTERVAL_RANGE.contains(&self.alarm.drill_interval_days) {
            return Err(invalid(
                "alarm.drill_interval_days",
                format!(
                    "{} dagar: måste vara mellan {} och {}",
                    self.alarm.drill_interval_days,
                    DRILL_INTERVAL_RANGE.start(),
                    DRILL_INTERVAL_RANGE.end()
                ),
            ));
        }

        // Contacts first: everything else refers to them.
        let mut ids = Ids::default();
        let mut contact_ids = HashSet::new();
        if self.contacts.is_empty() {
            return Err(invalid("contacts", "minst en kontakt behövs"));
        }
        for (i, c) in self.contacts.iter().enumerate() {
            let at = format!("contacts[{i}]");
            ids.add(&format!("{at}.id"), &c.id)?;
            contact_ids.insert(c.id.as_str());
            text(format!("{at}.name"), &c.name)?;
            non_empty(format!("{at}.ref"), &c.source_ref)?;
            if let Some(n) = &c.number {
                check_number(&format!("{at}.number"), n)?;
            }
            if let Some(u) = &c.url {
                if !u.starts_with("https://") {
                    return Err(invalid(
                        format!("{at}.url"),
                        format!("\"{u}\" måste börja med https://"),
                    ));
                }
            }
            if let Some(e) = &c.email {
                if !e.contains('@') || e.trim() != e {
                    return Err(invalid(
                        format!("{at}.email"),
                        format!("\"{e}\" är ingen e-postadress"),
                    ));
                }
            }
            if c.number.is_none() && c.url.is_none() {
                return Err(invalid(
                    format!("{at}.number"),
                    "en kontakt behöver ett telefonnummer (number) eller en webbadress (url)",
                ));
            }
            if c.role != ContactRole::Web && c.number.is_none() {
                return Err(invalid(
                    format!("{at}.number"),
                    "saknas; bara kontakter med role = \"web\" får sakna nummer",
                ));
            }
            if let Some(note) = &c.note {
                text(format!("{at}.note"), note)?;
            }
            if let Some(mark) = &c.mark {
                text(format!("{at}.mark"), mark)?;
                if mark.sv.chars().count() > MAX_MARK || mark.en.chars().count() > MAX_MARK {
                    return Err(invalid(
                        format!("{at}.mark"),
                        format!("högst {MAX_MARK} tecken: det står på varje knapp"),
                    ));
                }
            }
            script_lines(&format!("{at}.script"), &c.script)?;
            // 112 is not data: the emergency contact is 112, whatever a profile says.
            if c.role == ContactRole::Emergency
                && c.dial_string().as_deref() != Some(EMERGENCY_NUMBER)
            {
                return Err(invalid(
                    format!("{at}.number"),
                    format!(
                        "\"{}\": nödnumret (role = \"emergency\") är alltid 112",
                        c.number.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
        if let Some(e) = &self.election {
            let parse = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
            let (Some(from), Some(to)) = (parse(&e.from), parse(&e.to)) else {
                return Err(invalid("election", "from och to är datum (ÅÅÅÅ-MM-DD)"));
            };
            if to < from {
                return Err(invalid("election.to", "slutar före from"));
            }
            text("election.note", &e.note)?;
        }
        if self.contact_by_role(ContactRole::Emergency).is_none() {
            return Err(invalid(
                "contacts",
                "en kontakt med role = \"emergency\" (112) krävs",
            ));
        }
        let refs = |at: String, list: &[String]| -> Result<(), ProfileError> {
            for (j, id) in list.iter().enumerate() {
                if !contact_ids.contains(id.as_str()) {
                    return Err(invalid(
                        format!("{at}[{j}]"),
                        format!("kontakten \"{id}\" finns inte under contacts"),
                    ));
                }
            }
            Ok(())
        };
        refs("plan.intro_contacts".into(), &self.plan.intro_contacts)?;

        for (list, name) in [
            (&self.responsibilities, "responsibilities"),
            (&self.before, "before"),
            (&self.after, "after"),
        ] {
            if list.is_empty() {
                return Err(invalid(name, "minst ett avsnitt behövs"));
            }
            for (i, s) in list.iter().enumerate() {
                let at = format!("{name}[{i}]");
                ids.add(&format!("{at}.id"), &s.id)?;
                text(format!("{at}.title"), &s.title)?;
                non_empty(format!("{at}.ref"), &s.source_ref)?;
                if s.items.is_empty() {
                    return Err(invalid(format!("{at}.items"), "avsnittet har inga punkter"));
                }
                for (j, item) in s.items.iter().enumerate() {
                    let at = format!("{at}.items[{j}]");
                    ids.add(&format!("{at}.id"), &item.id)?;
                    pair(&at, &item.sv, &item.en)?;
                    refs(format!("{at}.contacts"), &item.contacts)?;
                }
            }
        }

        if self.during.is_empty() {
            return Err(invalid("during", "minst ett handlingskort behövs"));
        }
        for (i, c) in self.during.iter().enumerate() {
            let at = format!("during[{i}]");
            ids.add(&format!("{at}.id"), &c.id)?;
            text(format!("{at}.title"), &c.title)?;
            non_empty(format!("{at}.ref"), &c.source_ref)?;
            if let Some(t) = &c.context {
                text(format!("{at}.context"), t)?;
            }
            if let Some(t) = &c.intro {
                text(format!("{at}.intro"), t)?;
            }
            if c.steps.is_empty() {
                return Err(invalid(format!("{at}.steps"), "kortet har inga steg"));
            }
            for (j, s) in c.steps.iter().enumerate() {
                let at = format!("{at}.steps[{j}]");
                pair(&at, &s.sv, &s.en)?;
                if let Some(l) = &s.label {
                    text(format!("{at}.label"), l)?;
                }
            }
            refs(format!("{at}.contacts"), &c.contacts)?;
            for (j, cs) in c.call_scripts.iter().enumerate() {
                let at = format!("{at}.call_scripts[{j}]");
                refs(format!("{at}.contact"), std::slice::from_ref(&cs.contact))?;
                script_lines(&format!("{at}.lines"), &cs.lines)?;
            }
        }
        for (i, sup) in self.supplements.iter().enumerate() {
            let at = format!("supplements[{i}]");
            ids.add(&format!("{at}.id"), &sup.id)?;
            text(format!("{at}.title"), &sup.title)?;
            non_empty(format!("{at}.source"), &sup.source)?;
            let known_section = self
                .before
                .iter()
                .chain(&self.after)
                .chain(&self.responsibilities)
                .any(|s| s.id == sup.placement);
            if !["before", "during", "after"].contains(&sup.placement.as_str()) && !known_section {
                return Err(invalid(
                    format!("{at}.placement"),
                    format!(
                        "\"{}\": before, during, after eller id:t på ett avsnitt i planen",
                        sup.placement
                    ),
                ));
            }
            if let Some(u) = &sup.url {
                if !u.starts_with("https://") {
                    return Err(invalid(
                        format!("{at}.url"),
                        format!("\"{u}\" måste börja med https://"),
                    ));
                }
            }
            if sup.items.is_empty() {
                return Err(invalid(
                    format!("{at}.items"),
                    "stödmaterialet har inga punkter",
                ));
            }
            for (j, item) in sup.items.iter().enumerate() {
                let at = format!("{at}.items[{j}]");
                ids.add(&format!("{at}.id"), &item.id)?;
                pair(&at, &item.sv, &item.en)?;
                refs(format!("{at}.contacts"), &item.contacts)?;
            }
        }
        if let Some(name) = &self.report_name {
            text("report_name", name)?;
        }
        if let Some(pc) = &self.personal_contacts {
            non_empty("personal_contacts.source", &pc.source)?;
            for (i, t) in pc.suggestions.iter().enumerate() {
                text(format!("personal_contacts.suggestions[{i}]"), t)?;
            }
        }

        let r = &self.risk;
        text("risk.title", &r.title)?;
        text("risk.rule", &r.rule)?;
        text("risk.questions_heading", &r.questions_heading)?;
        text("risk.levels.low", &r.levels.low)?;
        text("risk.levels.moderate", &r.levels.moderate)?;
        text("risk.levels.high", &r.levels.high)?;
        if r.questions.is_empty() {
            return Err(invalid("risk.questions", "minst en fråga behövs"));
        }
        let mut question_ids = HashSet::new();
        for (i, q) in r.questions.iter().enumerate() {
            let at = format!("risk.questions[{i}]");
            check_id(&format!("{at}.id"), &q.id)?;
            if !question_ids.insert(q.id.as_str()) {
                return Err(invalid(
                    format!("{at}.id"),
                    format!("\"{}\" används redan av en annan fråga", q.id),
                ));
            }
            pair(&at, &q.sv, &q.en)?;
            if let Some(l) = &q.label {
                text(format!("{at}.label"), l)?;
            }
            if let Some(hint) = &q.hint {
                text(format!("{at}.hint"), hint)?;
            }
        }
        let n = r.rated().count() as u32;
        if n == 0 {
            return Err(invalid(
                "risk.questions",
                "minst en fråga ska bedömas (rated)",
            ));
        }
        if r.moderate_at_least == 0 || r.moderate_at_least > n {
            return Err(invalid(
                "risk.moderate_at_least",
                format!(
                    "måste vara mellan 1 och antalet bedömda frågor ({n}), är {}",
                    r.moderate_at_least
                ),
            ));
        }
        if r.high_more_than >= n {
            return Err(invalid(
                "risk.high_more_than",
                format!(
                    "måste vara mindre än antalet bedömda frågor ({n}), är {}",
                    r.high_more_than
                ),
            ));
        }
        for (i, m) in r.measures.iter().enumerate() {
            if !self.before.iter().any(|s| &s.id == m) {
                return Err(invalid(
                    format!("risk.measures[{i}]"),
                    format!("avsnittet \"{m}\" finns inte under before"),
                ));
            }
        }
        refs("risk.advice_contacts".into(), &r.advice_contacts)?;

        let c = &self.checklist;
        ids.add("checklist.id", &c.id)?;
        text("checklist.title", &c.title)?;
        if c.items.is_empty() {
            return Err(invalid("checklist.items", "checklistan har inga punkter"));
        }
        for (j, item) in c.items.iter().enumerate() {
            let at = format!("checklist.items[{j}]");
            ids.add(&format!("{at}.id"), &item.id)?;
            pair(&at, &item.sv, &item.en)?;
            refs(format!("{at}.contacts"), &item.contacts)?;
        }
        Ok(())
    }
}

/// Ids must be unique across the whole profile: they key saved state and search hits.
#[derive(Default)]
struct Ids(HashSet<String>);

impl Ids {
    fn add(&mut self, field: &str, id: &str) -> Result<(), ProfileError> {
        check_id(field, id)?;
        if !self.0.insert(id.to_string()) {
            return Err(invalid(field, format!("id \"{id}\" används redan")));
        }
        Ok(())
    }
}

fn check_id(field: &str, id: &str) -> Result<(), ProfileError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("\"{id}\" är inget giltigt id (a–z, 0–9 och -, högst 64 tecken)"),
        ))
    }
}

fn check_number(field: &str, number: &str) -> Result<(), ProfileError> {
    let allowed = number
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if allowed && (3..=15).contains(&digits) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "\"{number}\" är inget telefonnummer (siffror, mellanslag och -, 3–15 siffror)"
            ),
        ))
    }
}

fn non_empty(field: impl fmt::Display, value: &str) -> Result<(), ProfileError> {
    if value.trim().is_empty() {
        Err(invalid(field, "får inte vara tomt"))
    } else {
        Ok(())
    }
}

fn pair(at: &str, sv: &str, en: &str) -> Result<(), ProfileError> {
    non_empty(format!("{at}.sv"), sv)?;
    non_empty(format!("{at}.en"), en)
}

fn text(field: impl fmt::Display, t: &Text) -> Result<(), ProfileError> {
    pair(&field.to_string(), &t.sv, &t.en)
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
        let p =
            Profile::from_toml(include_str!("../profiles/fixtures/region-exempel.toml")).unwrap();
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
