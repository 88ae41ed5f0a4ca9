//! Fidelity of the default profile to the region's action plan (seed 002): every number, the
//! threshold rule, every checklist item, and every Swedish text of the profile must come from
//! the plan. The plan is read from `../shared/seeds/` (or `VARN_SEEDS_DIR`).

use std::path::PathBuf;

use varn_core::profile::{ContactRole, Profile};

/// The plan's own spelling mistakes that the profile corrects. Each pair is (plan, profile);
/// the meaning never changes. Everything else in the profile's Swedish text is verbatim.
const CORRECTIONS: &[(&str, &str)] = &[
    ("Regionen ansvar för", "Regionen ansvarar för"),
    ("säkerhets fokus", "säkerhetsfokus"),
    ("säkerhets tänk", "säkerhetstänk"),
    ("dörrarna var låsta", "dörrarna vara låsta"),
    ("real tidsbilder", "realtidsbilder"),
    (
        "koll igenom dina social medier",
        "kolla igenom dina sociala medier",
    ),
    ("kommentars fältet", "kommentarsfältet"),
    ("en bit i från", "en bit ifrån"),
    ("Riksinventering", "Riskinventering"),
    ("i social medier eller", "i sociala medier eller"),
    ("förtroende för regionen", "förtroendet för regionen"),
    ("Låg affektiv bemötande", "lågaffektivt bemötande"),
    ("word dokument", "Word-dokument"),
    ("kan upplevs som", "kan upplevas som"),
    // "sidan 4" points at a page of the printed leaflet; in the app the measures are under FÖRE.
    ("åtgärder enligt sidan 4 samt", "åtgärder under FÖRE samt"),
];

fn seed_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("VARN_SEEDS_DIR") {
        return PathBuf::from(dir);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in manifest.ancestors() {
        let candidate = dir.join("shared").join("seeds");
        if candidate.is_dir() {
            return candidate;
        }
        let sibling = dir.join("..").join("shared").join("seeds");
        if sibling.is_dir() {
            return sibling;
        }
    }
    panic!(
        "the action plan (shared/seeds/002_*.txt) was not found above {}; set VARN_SEEDS_DIR",
        manifest.display()
    );
}

fn plan_text() -> String {
    let dir = seed_dir();
    let entry = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("002_"))
        .unwrap_or_else(|| panic!("no 002_*.txt in {}", dir.display()));
    std::fs::read_to_string(entry.path()).expect("plan is UTF-8")
}

/// Lower case, no whitespace, no bullets: what remains is the wording.
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '•')
        .flat_map(char::to_lowercase)
        .collect()
}

fn corrected_plan() -> String {
    let mut plan = norm(&plan_text());
    for (from, to) in CORRECTIONS {
        let (f, t) = (norm(from), norm(to));
        assert!(
            plan.contains(&f),
            "correction {from:?} no longer matches the plan"
        );
        plan = plan.replace(&f, &t);
    }
    plan
}

fn profile() -> Profile {
    Profile::embedded_default().expect("the default profile is valid")
}

#[test]
fn every_phone_number_in_the_plan_is_a_contact() {
    let plan = plan_text();
    let p = profile();
    let numbers: Vec<String> = p.contacts.iter().filter_map(|c| c.dial_string()).collect();
    // Numbers as the plan prints them.
    for printed in ["010-470 55 64", "016-103000", "0703-377911", "11414", "112"] {
        assert!(
            plan.contains(printed),
            "{printed} is not in the plan any more"
        );
        let digits = varn_core::profile::dial_string(printed);
        assert!(
            numbers.contains(&digits),
            "{printed} is missing from the contacts"
        );
    }
    // And nothing that looks like a phone number in the plan is left out.
    let mut run = String::new();
    for c in plan.chars().chain(std::iter::once('.')) {
        if c.is_ascii_digit() || ((c == '-' || c == ' ') && !run.is_empty()) {
            run.push(c);
        } else {
            let digits = varn_core::profile::dial_string(&run);
            if digits.len() >= 5 {
                assert!(
                    numbers.contains(&digits),
                    "plan number {run:?} is not a contact"
                );
            }
            run.clear();
        }
    }
    assert!(plan.contains("https://samverkan.regionsormland.se/"));
    let web = p.contact("samverkanswebben").expect("samverkanswebben");
    assert_eq!(
        web.url.as_deref(),
        Some("https://samverkan.regionsormland.se/")
    );
    let officer = p.contact_by_role(ContactRole::SecurityOfficer).unwrap();
    assert_eq!(officer.person.as_deref(), Some("Joakim Strand"));
    assert_eq!(
        officer.email.as_deref(),
        Some("joakim.strand@regionsormland.se")
    );
    assert!(plan.contains("joakim.strand@regionsormland.se"));
}

#[test]
fn the_threshold_rule_matches_the_plan() {
    let plan = norm(&plan_text());
    // "Får du MÅTTLIG på fyra eller HÖG på fler än två"
    let rule = norm("MÅTTLIG på fyra eller HÖG på fler än två");
    assert!(
        plan.contains(&rule),
        "the rule's wording changed in the plan"
    );
    let words = ["noll", "en", "två", "tre", "fyra", "fem", "sex"];
    let r = profile().risk;
    assert_eq!(words[r.moderate_at_least as usize], "fyra");
    assert_eq!(words[r.high_more_than as usize], "två");
    assert!(plan.contains(&norm("Risken bedöms i LÅG, MÅTTLIG, HÖG")));
    assert!(plan.contains(&norm("minst 500 m från händelsen")));
}

#[test]
fn the_checklist_is_the_plans_word_for_word() {
    let plan = plan_text();
    let start = plan
        .find("CHECKLISTA (direkt efter akut händelse)")
        .expect("checklist heading");
    let end = plan[start..]
        .find("För mer information")
        .expect("end of checklist")
        + start;
    let items: Vec<String> = plan[start..end]
        .split('•')
        .skip(1)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(items.len(), 8, "the plan's checklist has 8 items");
    let p = profile();
    let ours: Vec<&str> = p.checklist.items.iter().map(|i| i.sv.as_str()).collect();
    assert_eq!(ours, items);
}

#[test]
fn every_swedish_text_comes_from_the_plan() {
    let plan = corrected_plan();
    let p = profile();
    let mut texts: Vec<(String, &str)> = Vec::new();
    for (i, t) in p.plan.intro.iter().enumerate() {
        texts.push((format!("plan.intro[{i}]"), &t.sv));
    }
    for (name, list) in [
        ("responsibilities", &p.responsibilities),
        ("before", &p.before),
        ("after", &p.after),
    ] {
        for s in list.iter() {
            texts.push((format!("{name}.{}.title", s.id), &s.title.sv));
            for item in &s.items {
                texts.push((format!("{name}.{}", item.id), &item.sv));
            }
        }
    }
    let r = &p.risk;
    texts.push(("risk.title".into(), &r.title.sv));
    texts.push(("risk.rule".into(), &r.rule.sv));
    texts.push(("risk.questions_heading".into(), &r.questions_heading.sv));
    for (i, t) in r.intro.iter().enumerate() {
        texts.push((format!("risk.intro[{i}]"), &t.sv));
    }
    for l in [&r.levels.low, &r.levels.moderate, &r.levels.high] {
        texts.push(("risk.levels".into(), &l.sv));
    }
    for q in &r.questions {
        texts.push((format!("risk.{}", q.id), &q.sv));
        if let Some(l) = &q.label {
            texts.push((format!("risk.{}.label", q.id), &l.sv));
        }
    }
    for c in &p.during {
        texts.push((format!("during.{}.title", c.id), &c.title.sv));
        if let Some(t) = &c.context {
            texts.push((format!("during.{}.context", c.id), &t.sv));
        }
        if let Some(t) = &c.intro {
            texts.push((format!("during.{}.intro", c.id), &t.sv));
        }
        for (i, s) in c.steps.iter().enumerate() {
            texts.push((format!("during.{}.steps[{i}]", c.id), &s.sv));
            if let Some(l) = &s.label {
                texts.push((format!("during.{}.steps[{i}].label", c.id), &l.sv));
            }
        }
    }
    texts.push(("checklist.title".into(), &p.checklist.title.sv));
    for c in &p.contacts {
        texts.push((format!("contacts.{}.name", c.id), &c.name.sv));
        if let Some(n) = &c.note {
            texts.push((format!("contacts.{}.note", c.id), &n.sv));
        }
    }
    let missing: Vec<String> = texts
        .iter()
        .filter(|(_, sv)| !plan.contains(&norm(sv)))
        .map(|(at, sv)| format!("{at}: {sv}"))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the plan:\n{}",
        missing.join("\n")
    );
    assert!(texts.len() > 100, "the walk above covers the profile");
}

#[test]
fn call_script_lines_that_quote_the_plan_are_its_word_for_word() {
    let plan = corrected_plan();
    let p = profile();
    // Lines that fill in the person's name or place are Värn's prompts; every other line
    // is the plan's own text.
    let quotes: Vec<(String, &str)> = p
        .contacts
        .iter()
        .flat_map(|c| {
            c.script
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.sv.contains('{') && !l.sv.contains(':'))
                .map(move |(i, l)| (format!("contacts.{}.script[{i}]", c.id), l.sv.as_str()))
        })
        .collect();
    assert!(
        quotes.len() >= 3,
        "the 112 and 11414 scripts quote the plan"
    );
    let missing: Vec<String> = quotes
        .iter()
        .filter(|(_, sv)| !plan.contains(&norm(sv)))
        .map(|(at, sv)| format!("{at}: {sv}"))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the plan:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_plan_covers_all_of_seed_002() {
    let p = profile();
    let card = |id: &str| {
        p.during
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("card {id}"))
    };
    for id in [
        "hotsituation",
        "telefon",
        "brev",
        "mail-sms",
        "sociala-medier",
        "valdssituation",
        "pdv",
    ] {
        card(id);
    }
    let pdv: Vec<&str> = card("pdv")
        .steps
        .iter()
        .map(|s| s.label.as_ref().unwrap().sv.as_str())
        .collect();
    assert_eq!(pdv, ["FLY", "SÖK SKYDD", "LARMA", "POLIS"]);
    for id in [
        "efter-direkt",
        "efter-uppfoljning",
        "efter-polisanmalan",
        "efter-rapport",
        "efter-rattegang",
    ] {
        assert!(p.after.iter().any(|s| s.id == id), "{id}");
    }
    for id in [
        "fore-regionen",
        "fore-ta-del",
        "fore-alltid-skall",
        "fore-alltid-kan",
        "fore-sociala-medier",
        "fore-resor",
    ] {
        assert!(p.before.iter().any(|s| s.id == id), "{id}");
    }
    assert_eq!(p.responsibilities.len(), 3);
    let labels: Vec<&str> = p
        .risk
        .questions
        .iter()
        .filter_map(|q| q.label.as_ref())
        .map(|l| l.sv.as_str())
        .collect();
    assert_eq!(labels, ["VEM", "VAD", "HUR", "VAR & NÄR"]);
    assert_eq!(p.risk.questions.len(), 4 + 7);
}
