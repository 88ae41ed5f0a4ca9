//! Search over all text of the plan: case-insensitive, and å/ä/ö match a/a/o, so someone typing
//! "vald" on a keyboard without Swedish letters still finds "våld".

use serde::Serialize;

use crate::profile::{Profile, Text};

/// The language to search in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Swedish (the plan's own words).
    Sv,
    /// English translation.
    En,
}

impl Lang {
    fn pick<'a>(self, sv: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Sv => sv,
            Lang::En => en,
        }
    }
    fn text(self, t: &Text) -> &str {
        self.pick(&t.sv, &t.en)
    }
}

/// Which phase of the plan a hit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Introduction and responsibilities.
    Intro,
    /// FÖRE.
    Before,
    /// UNDER.
    During,
    /// EFTER.
    After,
    /// Contacts.
    Contacts,
}

/// A piece of a hit's text; `hit` pieces are what matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The text of the piece, unchanged.
    pub text: String,
    /// True when this piece matched the query.
    pub hit: bool,
}

/// One place in the plan where the query occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The phase.
    pub phase: Phase,
    /// Id of the section or card that holds the hit (what the view opens).
    pub container: String,
    /// Id of the element that holds the hit (what the view scrolls to).
    pub anchor: String,
    /// Heading of the section or card.
    pub heading: String,
    /// The matching text cut into pieces, with the matches marked.
    pub segments: Vec<Segment>,
}

/// Folds one character for matching: lower case, and å/ä → a, ö → o (also é → e, ü → u).
fn fold_char(c: char) -> char {
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'å' | 'ä' | 'á' | 'à' | 'â' => 'a',
        'ö' | 'ø' | 'ó' | 'ò' | 'ô' => 'o',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'ü' | 'ú' | 'ù' => 'u',
        other => other,
    }
}

/// Folds a string char by char; the result has exactly as many chars as the input.
pub fn fold(s: &str) -> Vec<char> {
    s.chars().map(fold_char).collect()
}

/// Splits `text` into pieces, marking every occurrence of `query` (folded, non-overlapping).
/// Returns `None` when the query does not occur.
pub fn highlight(text: &str, query: &[char]) -> Option<Vec<Segment>> {
    if query.is_empty() {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let folded = fold(text);
    let mut segments = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let mut found = false;
    while i + query.len() <= folded.len() {
        if folded[i..i + query.len()] == *query {
            if plain_start < i {
                segments.push(Segment {
                    text: chars[plain_start..i].iter().collect(),
                    hit: false,
                });
            }
            segments.push(Segment {
                text: chars[i..i + query.len()].iter().collect(),
                hit: true,
            });
            found = true;
            i += query.len();
            plain_start = i;
        } else {
            i += 1;
        }
    }
    if !found {
        return None;
    }
    if plain_start < chars.len() {
        segments.push(Segment {
            text: chars[plain_start..].iter().collect(),
            hit: false,
        });
    }
    Some(segments)
}

/// The most hits a search returns; more than this is no help to someone in a hurry.
pub const MAX_HITS: usize = 50;

/// Searches all text of the plan in one language. Whitespace around the query is ignored;
/// a query shorter than two characters finds nothing.
pub fn search(profile: &Profile, lang: Lang, query: &str) -> Vec<Hit> {
    let q = fold(query.trim());
    if q.len() < 2 {
        return Vec::new();
    }
    let mut hits = Vec::new();
    let mut push = |phase: Phase, container: &str, anchor: &str, heading: &str, text: &str| {
        if let Some(segments) = highlight(text, &q) {
            hits.push(Hit {
                phase,
                container: container.to_string(),
                anchor: anchor.to_string(),
                heading: heading.to_string(),
                segments,
            });
        }
    };

    let title = lang.text(&profile.plan.title);
    for (i, t) in profile.plan.intro.iter().enumerate() {
        push(
            Phase::Intro,
            "intro",
            &format!("intro-{i}"),
            title,
            lang.text(t),
        );
    }
    for s in &profile.responsibilities {
        let h = lang.text(&s.title);
        push(Phase::Intro, &s.id, &s.id, h, h);
        for item in &s.items {
            push(
                Phase::Intro,
                &s.id,
                &item.id,
                h,
                lang.pick(&item.sv, &item.en),
            );
        }
    }
    for s in &profile.before {
        let h = lang.text(&s.title);
        push(Phase::Before, &s.id, &s.id, h, h);
        for item in &s.items {
            push(
                Phase::Before,
                &s.id,
                &item.id,
                h,
                lang.pick(&item.sv, &item.en),
            );
        }
    }
    let r = &profile.risk;
    let h = lang.text(&r.title);
    push(Phase::Before, "risk", "risk", h, h);
    for (i, t) in r.intro.iter().enumerate() {
        push(
            Phase::Before,
            "risk",
            &format!("risk-intro-{i}"),
            h,
            lang.text(t),
        );
    }
    push(Phase::Before, "risk", "risk-rule", h, lang.text(&r.rule));
    for q in &r.questions {
        let anchor = format!("risk-q-{}", q.id);
        if let Some(l) = &q.label {
            push(Phase::Before, "risk", &anchor, h, lang.text(l));
        }
        push(Phase::Before, "risk", &anchor, h, lang.pick(&q.sv, &q.en));
    }
    for c in &profile.during {
        let h = lang.text(&c.title);
        push(Phase::During, &c.id, &c.id, h, h);
        if let Some(ctx) = &c.context {
            push(Phase::During, &c.id, &c.id, h, lang.text(ctx));
        }
        if let Some(intro) = &c.intro {
            push(
                Phase::During,
                &c.id,
                &format!("{}-intro", c.id),
                h,
                lang.text(intro),
            );
        }
        for (i, s) in c.steps.iter().enumerate() {
            let anchor = format!("{}-step-{}", c.id, i + 1);
            if let Some(l) = &s.label {
                push(Phase::During, &c.id, &anchor, h, lang.text(l));
            }
            push(Phase::During, &c.id, &anchor, h, lang.pick(&s.sv, &s.en));
        }
    }
    for s in &profile.after {
        let h = lang.text(&s.title);
        push(Phase::After, &s.id, &s.id, h, h);
        for item in &s.items {
            push(
                Phase::After,
                &s.id,
                &item.id,
                h,
                lang.pick(&item.sv, &item.en),
            );
        }
    }
    // Supporting material, found under the part of the plan it is shown in.
    for s in &profile.supplements {
        let phase = match s.placement.as_str() {
            "during" => Phase::During,
            "after" => Phase::After,
            id if profile.after.iter().any(|x| x.id == id) => Phase::After,
            id if profile.responsibilities.iter().any(|x| x.id == id) => Phase::Intro,
            _ => Phase::Before,
        };
        let h = lang.text(&s.title);
        push(phase, &s.id, &s.id, h, h);
        for item in &s.items {
            if let Some(l) = &item.label {
                push(phase, &s.id, &item.id, h, lang.text(l));
            }
            push(phase, &s.id, &item.id, h, lang.pick(&item.sv, &item.en));
        }
    }
    let c = &profile.checklist;
    let h = lang.text(&c.title);
    push(Phase::After, &c.id, &c.id, h, h);
    for item in &c.items {
        push(
            Phase::After,
            &c.id,
            &item.id,
            h,
            lang.pick(&item.sv, &item.en),
        );
    }
    for contact in &profile.contacts {
        let h = lang.text(&contact.name);
        let anchor = format!("contact-{}", contact.id);
        push(Phase::Contacts, "contacts", &anchor, h, h);
        for extra in [
            &contact.person,
            &contact.number,
            &contact.email,
            &contact.url,
        ]
        .into_iter()
        .flatten()
        {
            push(Phase::Contacts, "contacts", &anchor, h, extra);
        }
    }
    // What a person under stress looks for first: an action card whose title matches, then
    // any other title, then text; within each, the plan's order.
    hits.sort_by_key(rank);
    hits.truncate(MAX_HITS);
    hits
}

/// Where a hit goes in the list (lower first).
fn rank(hit: &Hit) -> u8 {
    let title = hit.anchor == hit.container;
    match (title, hit.phase) {
        (true, Phase::During) => 0,
        (true, _) => 1,
        (false, _) => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile::embedded_default().expect("embedded profile")
    }

    fn joined(h: &Hit) -> String {
        h.segments.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn fold_maps_swedish_letters_and_case() {
        assert_eq!(fold("ÅÄÖ åäö Våld"), fold("aao aao vald"));
        assert_eq!(fold("Våld").len(), 4);
    }

    #[test]
    fn query_without_swedish_letters_finds_them() {
        let hits = search(&profile(), Lang::Sv, "vald");
        assert!(hits.iter().any(|h| h.container == "valdssituation"));
        let first = hits
            .iter()
            .find(|h| h.container == "valdssituation")
            .unwrap();
        let marked: Vec<_> = first.segments.iter().filter(|s| s.hit).collect();
        assert!(marked.iter().all(|s| fold(&s.text) == fold("vald")));
        assert!(marked.iter().any(|s| s.text.eq_ignore_ascii_case("våld")));
    }

    #[test]
    fn query_with_swedish_letters_also_matches() {
        let a = search(&profile(), Lang::Sv, "SÖK SKYDD");
        let b = search(&profile(), Lang::Sv, "sok skydd");
        assert_eq!(a, b);
        assert!(a.iter().any(|h| h.anchor == "pdv-step-2"));
    }

    /// The other sources' tips are found where they are shown (FÖRE), under their own heading.
    #[test]
    fn supporting_material_is_found_in_its_part_of_the_plan() {
        let hits = search(&profile(), Lang::Sv, "variera dagliga rutiner");
        let tip = hits
            .iter()
            .find(|h| h.anchor == "stod-hpj-1")
            .expect("the tip");
        assert_eq!(tip.container, "stod-hot-pa-jobbet");
        assert_eq!(tip.phase, Phase::Before);
        let training = search(&profile(), Lang::Sv, "rättsprocess");
        assert!(training
            .iter()
            .any(|h| h.container == "stod-utbildning" && h.phase == Phase::Before));
    }

    /// "hot" is in many texts; the card *Vid en hotsituation* comes first.
    #[test]
    fn a_card_whose_title_matches_comes_first() {
        let hits = search(&profile(), Lang::Sv, "hot");
        assert!(hits.len() > 5);
        assert_eq!(hits[0].container, "hotsituation");
        assert_eq!(hits[0].anchor, "hotsituation");
        let first_text = hits.iter().position(|h| h.anchor != h.container).unwrap();
        assert!(hits[first_text..].iter().all(|h| h.anchor != h.container));
    }

    #[test]
    fn pdv_finds_the_card() {
        let hits = search(&profile(), Lang::Sv, "pdv");
        assert_eq!(hits[0].container, "pdv");
        assert_eq!(hits[0].phase, Phase::During);
    }

    #[test]
    fn segments_rebuild_the_original_text() {
        for h in search(&profile(), Lang::Sv, "polis") {
            assert!(h.segments.iter().any(|s| s.hit));
            assert!(!joined(&h).is_empty());
        }
    }

    #[test]
    fn every_occurrence_is_marked() {
        let segs = highlight("Håll i, Håll om, Håll tyst", &fold("hall")).unwrap();
        assert_eq!(segs.iter().filter(|s| s.hit).count(), 3);
        assert_eq!(
            segs.iter().map(|s| s.text.as_str()).collect::<String>(),
            "Håll i, Håll om, Håll tyst"
        );
    }

    #[test]
    fn numbers_are_searchable() {
        let hits = search(&profile(), Lang::Sv, "11414");
        assert!(hits.iter().any(|h| h.anchor == "contact-police"));
    }

    #[test]
    fn english_search_uses_the_translation() {
        let hits = search(&profile(), Lang::En, "flee");
        assert!(hits.iter().any(|h| h.anchor == "pdv-step-1"));
        assert!(search(&profile(), Lang::Sv, "flee").is_empty());
    }

    #[test]
    fn short_or_empty_queries_find_nothing() {
        assert!(search(&profile(), Lang::Sv, "").is_empty());
        assert!(search(&profile(), Lang::Sv, "  a ").is_empty());
    }

    #[test]
    fn hits_are_capped() {
        assert!(search(&profile(), Lang::Sv, "en").len() <= MAX_HITS);
    }
}
