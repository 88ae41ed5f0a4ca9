//! Fidelity of the default profile to the region's action plan (seed 002), and of its
//! supporting material to the other seeds. The seeds are read from `../shared/seeds/` (or
//! `VARN_SEEDS_DIR`).
//!
//! What is checked, case and punctuation included:
//! - **the whole plan, in order**: the profile's headings, items, steps, labels and texts,
//!   walked in the plan's order, are the plan's words, all of them and in the same order
//!   (nothing cut, nothing added, nothing moved, "SKALL" still in capitals);
//! - **every quoted text verbatim**: each Swedish text is the plan's exactly, and a call
//!   script's quoted lines are whole sentences of it;
//! - every number, the threshold rule, the checklist, and the supporting material's words in
//!   their own sources.
//!
//! The only differences allowed are listed below: [`CORRECTIONS`] (each a spelling or grammar
//! fix and nothing else), [`PRINT_REFERENCES`] (pointers to pages of the printed leaflet) and
//! [`NOISE`] (what the text extraction left of the leaflet's layout). A test at the end
//! checks that the checker finds a cut sentence, a lost capital and a missing item.

use std::path::PathBuf;

use varn_core::profile::{ContactRole, Profile};

/// The plan's spelling and grammar mistakes that the profile corrects, as (plan, profile).
/// Each one changes no meaning.
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
    (
        "Hur är förtroende för regionen",
        "Hur är förtroendet för regionen",
    ),
    ("göra /diskutera", "göra / diskutera"),
    (
        "Låg affektiv bemötande - Alltså",
        "lågaffektivt bemötande - Alltså",
    ),
    ("word dokument", "Word-dokument"),
    ("kan upplevs som", "kan upplevas som"),
    ("inga obehörig kommer", "inga obehöriga kommer"),
];

/// Pointers to pages of the printed leaflet, replaced by where the app shows the same thing
/// (or dropped), as (plan, profile).
const PRINT_REFERENCES: &[(&str, &str)] = &[
    ("samverkanswebben - se baksidan", "samverkanswebben"),
    ("samverkanswebben, se baksidan.", "samverkanswebben"),
];

/// What the extraction left of the leaflet's layout, removed before comparing.
const NOISE: &[&str] = &["forts på nästa sida"];

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
        "the seeds (shared/seeds/*.txt) were not found above {}; set VARN_SEEDS_DIR",
        manifest.display()
    );
}

fn seed(prefix: &str) -> String {
    let dir = seed_dir();
    let entry = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}*.txt in {}", dir.display()));
    std::fs::read_to_string(entry.path()).expect("seeds are UTF-8")
}

fn plan_text() -> String {
    seed("002_")
}

/// Whitespace collapsed to single spaces, bullets and blank-line underscores gone, words
/// hyphenated across a line break joined: the text as written, case and punctuation kept.
fn clean(s: &str) -> String {
    let mut joined = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        // "situa-\ntion" is one word broken by the leaflet's layout, and "-\nVad" a list
        // dash separated from its word by a line break.
        if c == '-' && chars.peek() == Some(&'\n') {
            let mut look = chars.clone();
            look.next();
            while look.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                look.next();
            }
            let leading_dash = joined.ends_with(' ');
            if look
                .peek()
                .is_some_and(|n| n.is_lowercase() || (leading_dash && n.is_alphabetic()))
            {
                joined.push(c);
                chars = look;
                if !leading_dash {
                    joined.pop();
                }
                continue;
            }
        }
        joined.push(c);
    }
    // Bullets stay (they end a point); the blank lines for notes go.
    joined
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The plan as the profile may quote it: cleaned, corrected, print references replaced,
/// layout noise removed. Fails if a listed difference no longer matches the plan.
fn corrected_plan(plan: &str) -> String {
    let mut text = clean(plan);
    for (from, to) in CORRECTIONS.iter().chain(PRINT_REFERENCES) {
        assert!(
            text.contains(from),
            "the listed difference {from:?} no longer matches the plan"
        );
        text = text.replace(from, to);
    }
    for n in NOISE {
        assert!(text.contains(n), "the noise {n:?} is no longer in the plan");
        text = text.replace(n, " ");
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The words of a text: letters and digits, case kept, punctuation dropped.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the profile says, in the plan's order, each piece with where it is in the profile.
fn in_plan_order(p: &Profile) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |at: String, sv: &str| out.push((at, sv.to_string()));
    for (i, t) in p.plan.intro.iter().enumerate() {
        push(format!("plan.intro[{i}]"), &t.sv);
    }
    let sections =
        |push: &mut dyn FnMut(String, &str), name: &str, list: &[varn_core::profile::Section]| {
            for s in list {
                push(format!("{name}.{}.title", s.id), &s.title.sv);
                for item in &s.items {
                    if let Some(l) = &item.label {
                        push(format!("{name}.{}.label", item.id), &l.sv);
                    }
                    push(format!("{name}.{}", item.id), &item.sv);
                }
            }
        };
    push("(part)".into(), "Ansvarsfördelning");
    sections(&mut push, "responsibilities", &p.responsibilities);
    push("(part)".into(), "FÖRE");
    sections(&mut push, "before", &p.before);
    let r = &p.risk;
    push("risk.title".into(), &r.title.sv);
    for (i, t) in r.intro.iter().enumerate() {
        push(format!("risk.intro[{i}]"), &t.sv);
    }
    push("risk.rule".into(), &r.rule.sv);
    push("risk.questions_heading".into(), &r.questions_heading.sv);
    for q in &r.questions {
        if let Some(l) = &q.label {
            push(format!("risk.{}.label", q.id), &l.sv);
        }
        push(format!("risk.{}", q.id), &q.sv);
    }
    push("(part)".into(), "UNDER");
    let mut context: Option<&str> = None;
    for c in &p.during {
        let this = c.context.as_ref().map(|t| t.sv.as_str());
        if this.is_some() && this != context {
            push(format!("during.{}.context", c.id), this.unwrap_or_default());
        }
        context = this;
        push(format!("during.{}.title", c.id), &c.title.sv);
        if let Some(t) = &c.intro {
            push(format!("during.{}.intro", c.id), &t.sv);
        }
        for (i, s) in c.steps.iter().enumerate() {
            if let Some(l) = &s.label {
                push(format!("during.{}.steps[{i}].label", c.id), &l.sv);
            }
            push(format!("during.{}.steps[{i}]", c.id), &s.sv);
        }
    }
    push("(part)".into(), "EFTER");
    sections(&mut push, "after", &p.after);
    if let Some(notes) = &p.plan.notes {
        push("plan.notes".into(), &notes.sv);
    }
    push("checklist.title".into(), &p.checklist.title.sv);
    for item in &p.checklist.items {
        push(format!("checklist.{}", item.id), &item.sv);
    }
    out
}

/// The plan's text from its first paragraph to the end of the checklist, as words.
fn plan_words(corrected: &str) -> Vec<String> {
    let start = corrected
        .find("I Region Sörmland bygger vi")
        .expect("the plan's first paragraph");
    let end = corrected
        .find("För mer information")
        .expect("the plan's contact page");
    words(&corrected[start..end])
}

/// Every way the profile differs from the plan (empty when it is faithful).
fn problems(p: &Profile, plan: &str) -> Vec<String> {
    let corrected = corrected_plan(plan);
    let mut out = Vec::new();

    // Verbatim: each piece is the plan's, exactly.
    for (at, sv) in in_plan_order(p) {
        if !corrected.contains(&sv) {
            out.push(format!("{at} is not the plan's text: {sv}"));
        }
    }
    for c in &p.contacts {
        if !corrected.contains(&c.name.sv) {
            out.push(format!(
                "contacts.{}.name is not the plan's: {}",
                c.id, c.name.sv
            ));
        }
        if let Some(n) = &c.note {
            if !corrected.contains(&n.sv) {
                out.push(format!(
                    "contacts.{}.note is not the plan's: {}",
                    c.id, n.sv
                ));
            }
        }
    }

    // Complete and in order: the profile walked in the plan's order is the plan, word for
    // word.
    let expected: Vec<(String, String)> = in_plan_order(p)
        .into_iter()
        .flat_map(|(at, sv)| words(&sv).into_iter().map(move |w| (at.clone(), w)))
        .collect();
    let actual = plan_words(&corrected);
    let first_diff = expected
        .iter()
        .zip(&actual)
        .position(|((_, e), a)| e != a)
        .or_else(|| (expected.len() != actual.len()).then(|| expected.len().min(actual.len())));
    if let Some(i) = first_diff {
        let around = |v: &[String]| v[i.saturating_sub(6)..(i + 8).min(v.len())].join(" ");
        let exp: Vec<String> = expected.iter().map(|(_, w)| w.clone()).collect();
        let at = expected
            .get(i)
            .or(expected.last())
            .map(|(at, _)| at.as_str())
            .unwrap_or("");
        out.push(format!(
            "the plan and the profile part at word {i} (near {at}):\n  plan:    …{}…\n  profile: …{}…",
            around(&actual),
            around(&exp)
        ));
    }

    // Call scripts: the plan's lines are whole sentences of it; Värn's own are marked.
    let mut scripts: Vec<(String, &varn_core::profile::ScriptLine)> = Vec::new();
    for c in &p.contacts {
        for (i, l) in c.script.iter().enumerate() {
            scripts.push((format!("contacts.{}.script[{i}]", c.id), l));
        }
    }
    for card in &p.during {
        for cs in &card.call_scripts {
            for (i, l) in cs.lines.iter().enumerate() {
                scripts.push((
                    format!("during.{}.call_scripts.{}[{i}]", card.id, cs.contact),
                    l,
                ));
            }
        }
    }
    for (at, line) in scripts {
        if line.own {
            continue;
        }
        if line.sv.contains('{') {
            out.push(format!(
                "{at} fills in a placeholder but is not marked as Värn's own"
            ));
            continue;
        }
        if !whole_sentences(&corrected, &line.sv) {
            out.push(format!(
                "{at} is not whole sentences of the plan: {}",
                line.sv
            ));
        }
    }
    out
}

/// Whether `quote` stands in `text` starting at a sentence's start and ending at its end.
fn whole_sentences(text: &str, quote: &str) -> bool {
    text.match_indices(quote).any(|(i, _)| {
        let before = text[..i].trim_end();
        let after = text[i + quote.len()..].trim_start();
        // A point's label ("LARMA -") and a bullet start a sentence; a bullet ends one.
        let starts = before.is_empty() || before.ends_with(['.', '!', '?', ':', '•', '-']);
        let ends = quote.ends_with(['.', '!', '?'])
            || after.is_empty()
            || after.starts_with(['.', '!', '?', '•']);
        starts && ends
    })
}

fn profile() -> Profile {
    Profile::embedded_default().expect("the default profile is valid")
}

#[test]
fn the_profile_is_the_plan_complete_in_order_and_word_for_word() {
    let found = problems(&profile(), &plan_text());
    assert!(
        found.is_empty(),
        "the profile differs from the plan:\n{}",
        found.join("\n")
    );
}

/// The checker above finds what the issue that asked for it found by reading: a cut
/// sentence, a lost capital, a missing item, two items swapped, an invented script line.
#[test]
fn the_fidelity_check_finds_a_cut_sentence_a_lost_capital_and_a_missing_item() {
    let plan = plan_text();
    let p = profile();
    let check = |name: &str, change: &dyn Fn(&mut Profile)| {
        let mut changed = p.clone();
        change(&mut changed);
        let found = problems(&changed, &plan);
        assert!(!found.is_empty(), "the check missed: {name}");
        found
    };
    // The 11414 script without the end of the plan's sentence on åtkomstskydd.
    let found = check("a cut script sentence", &|p| {
        let police = p.contacts.iter_mut().find(|c| c.id == "police").unwrap();
        let line = police
            .script
            .iter_mut()
            .find(|l| l.sv.contains("åtkomstskyddad"))
            .unwrap();
        line.sv = line
            .sv
            .replace(", detta upphör dock om anmälan leder till åtal.", "");
    });
    assert!(
        found.iter().any(|f| f.contains("whole sentences")),
        "{found:?}"
    );
    check("a cut item", &|p| {
        let item = &mut p
            .after
            .iter_mut()
            .find(|s| s.id == "efter-polisanmalan")
            .unwrap()
            .items[3];
        item.sv = item
            .sv
            .replace(", detta upphör dock om anmälan leder till åtal", "");
    });
    check("SKALL in lower case", &|p| {
        let item = &mut p
            .after
            .iter_mut()
            .find(|s| s.id == "efter-rapport")
            .unwrap()
            .items[0];
        item.sv = item.sv.replace("SKALL", "skall");
    });
    check("a missing item", &|p| {
        p.before
            .iter_mut()
            .find(|s| s.id == "fore-resor")
            .unwrap()
            .items
            .remove(2);
    });
    check("two steps swapped", &|p| {
        p.during
            .iter_mut()
            .find(|c| c.id == "valdssituation")
            .unwrap()
            .steps
            .swap(1, 2);
    });
    check("an added sentence", &|p| {
        p.checklist.items[4].sv.push_str(" Ta bilder.");
    });
    check("an invented script line", &|p| {
        p.contacts[0].script.push(varn_core::profile::ScriptLine {
            sv: "Säg att du är i fara.".into(),
            en: "Say you are in danger.".into(),
            own: false,
        });
    });
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
    assert_eq!(
        p.contact_by_role(ContactRole::Emergency)
            .and_then(|c| c.dial_string()),
        Some("112".into())
    );
}

#[test]
fn the_threshold_rule_matches_the_plan() {
    let plan = clean(&plan_text());
    assert!(plan.contains("Får du MÅTTLIG på fyra eller HÖG på fler än två bör du överväga"));
    let words = ["noll", "en", "två", "tre", "fyra", "fem", "sex"];
    let r = profile().risk;
    assert_eq!(words[r.moderate_at_least as usize], "fyra");
    assert_eq!(words[r.high_more_than as usize], "två");
    assert!(plan.contains("Risken bedöms i LÅG, MÅTTLIG, HÖG"));
    assert!(plan.contains("minst 500 m från händelsen"));
}

#[test]
fn the_plans_structure_is_all_there() {
    let p = profile();
    let cards: Vec<&str> = p.during.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        cards,
        [
            "hotsituation",
            "telefon",
            "brev",
            "mail-sms",
            "sociala-medier",
            "valdssituation",
            "pdv"
        ]
    );
    let pdv = p.during.iter().find(|c| c.id == "pdv").unwrap();
    let labels: Vec<&str> = pdv
        .steps
        .iter()
        .map(|s| s.label.as_ref().unwrap().sv.as_str())
        .collect();
    assert_eq!(labels, ["FLY", "SÖK SKYDD", "LARMA", "POLIS"]);
    // "prata tyst" is the plan's advice when hiding: on the PDV card's call to 112 only.
    let pdv_112 = &pdv
        .call_scripts
        .iter()
        .find(|s| s.contact == "sos")
        .unwrap()
        .lines;
    assert!(pdv_112.iter().any(|l| l.sv.contains("prata tyst")));
    let sos = p.contact("sos").unwrap();
    assert!(sos
        .script
        .iter()
        .all(|l| l.own && !l.sv.contains("prata tyst")));
    assert_eq!(
        p.checklist.items.len(),
        8,
        "the plan's checklist has 8 items"
    );
    assert_eq!(p.risk.questions.len(), 4 + 7);
}

/// The supporting material quotes its sources (seeds 000, 003, 004) and roles from seed 001,
/// word for word, each source named.
#[test]
fn supporting_material_is_its_sources_word_for_word() {
    let p = profile();
    let sources = [
        ("stod-polisen", "000_"),
        ("stod-hot-pa-jobbet", "003_"),
        ("stod-utbildning", "004_"),
    ];
    assert_eq!(p.supplements.len(), sources.len());
    for (id, prefix) in sources {
        let text = clean(&seed(prefix));
        let sup = p
            .supplements
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("{id}"));
        assert!(!sup.source.is_empty());
        for item in &sup.items {
            assert!(
                text.contains(&item.sv),
                "{id}.{}: not in seed {prefix}: {}",
                item.id,
                item.sv
            );
            if let Some(l) = &item.label {
                assert!(text.contains(&l.sv), "{id}.{}.label: {}", item.id, l.sv);
            }
        }
    }
    // Seed 004's topics sit under the plan's "Regionen erbjuder".
    let training = p
        .supplements
        .iter()
        .find(|s| s.id == "stod-utbildning")
        .unwrap();
    assert_eq!(training.placement, "fore-regionen");
    let roles = clean(&seed("001_"));
    let pc = p
        .personal_contacts
        .as_ref()
        .expect("roles for the person's own contacts");
    for s in &pc.suggestions {
        assert!(roles.contains(&s.sv), "{} is not in seed 001", s.sv);
    }
}

/// The follow-up lists say they are Brå's PTU categories where they are: every label that
/// names a category carries the reference's own word for it, and the reference has it
/// (`shared/reference/ptu-and-skr.md`). The kinds of event are PTU's three, by PTU's names.
#[test]
fn the_ptu_labels_are_the_references_words() {
    use varn_core::ptu::{EventType, NotReportedReason, Perpetrator};
    let reference_path = seed_dir().join("../reference/ptu-and-skr.md");
    let reference = std::fs::read_to_string(&reference_path)
        .unwrap_or_else(|e| panic!("{}: {e}", reference_path.display()))
        .to_lowercase();
    let check = |label: &str, word: &str| {
        assert!(
            label.to_lowercase().contains(word),
            "{label:?} does not say {word:?}"
        );
        assert!(
            reference.contains(word),
            "{word:?} (in {label:?}) is not in the reference"
        );
    };
    let events = [
        (EventType::ThreatHarassment, "hot och trakasserier"),
        (EventType::ViolenceDamageTheft, "våld, skadegörelse"),
        (EventType::Corruption, "korruptionsförsök"),
    ];
    assert_eq!(events.len(), EventType::ALL.len());
    for (e, word) in events {
        check(e.labels().0, word);
    }
    check(EventType::Corruption.labels().0, "vänskapskorruption");
    check(EventType::Corruption.labels().0, "mutförsök");
    assert!(
        !EventType::Corruption.labels().0.contains("påverkan"),
        "Brå's otillåten påverkan is the umbrella over all three, not the third"
    );
    for (p, word) in [
        (Perpetrator::AggrievedCitizen, "rättshaverist"),
        (Perpetrator::AggrievedCitizen, "förargad medborgare"),
        (Perpetrator::RightWingExtremists, "höger"),
        (Perpetrator::LeftWingExtremists, "vänster"),
        (Perpetrator::ReligiousExtremists, "religi"),
        (Perpetrator::CriminalNetwork, "kriminell"),
        (Perpetrator::EnvironmentalAnimalRights, "animal-rights"),
    ] {
        let label = if word == "animal-rights" {
            p.labels().1
        } else {
            p.labels().0
        };
        check(label, word);
    }
    // Not a survey answer of PTU's, but SKL finds it common and the plan answers it.
    assert_eq!(
        NotReportedReason::UnsureIfCrime.labels().0,
        "Osäker på om det är ett brott"
    );
    let plan = plan_text().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(plan
        .contains("det är sedan polisens uppgift att utreda om händelsen uppfyller lagens krav"));
}

/// The rule's "enligt sidan 4" stays as the plan says it, and the measures shown with it are
/// the sections of the printed plan's page 4: "ta del av", "ALLTID skall göra", "ALLTID kan
/// göra" (page 3 ends with what the region offers; page 5 holds social media and travel).
#[test]
fn the_measures_are_page_4s() {
    let p = profile();
    assert!(p
        .risk
        .rule
        .sv
        .contains("förebyggande åtgärder enligt sidan 4"));
    assert_eq!(
        p.risk.measures,
        ["fore-ta-del", "fore-alltid-skall", "fore-alltid-kan"]
    );
    let plan = plan_text();
    let page = |start: &str, end: &str| {
        let a = plan.find(start).expect(start);
        let b = plan.find(end).expect(end);
        plan[a..b].to_string()
    };
    // The extraction starts each printed page on a line with a leading space.
    let page4 = page(
        "\n Förebyggande arbete som Förtroendevald kontinuerligt skall",
        "\n Förebyggande arbete som Förtroendevald kan göra",
    );
    for id in &p.risk.measures {
        let s = p.before.iter().find(|s| &s.id == id).unwrap();
        let first = s.title.sv.split_whitespace().last().unwrap();
        assert!(page4.contains(first), "{id} is not on page 4");
    }
    assert!(!page4.contains("Sociala medier") && !page4.contains("resor"));
}
