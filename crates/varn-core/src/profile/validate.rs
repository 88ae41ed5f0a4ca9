//! The rules a profile must keep that the type system cannot: unique ids, numbers, both languages,
//! references that resolve, and ranges.

use std::collections::HashSet;
use std::fmt;

use super::script::script_lines;
use super::*;

impl Profile {
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

pub(super) fn pair(at: &str, sv: &str, en: &str) -> Result<(), ProfileError> {
    non_empty(format!("{at}.sv"), sv)?;
    non_empty(format!("{at}.en"), en)
}

fn text(field: impl fmt::Display, t: &Text) -> Result<(), ProfileError> {
    pair(&field.to_string(), &t.sv, &t.en)
}
