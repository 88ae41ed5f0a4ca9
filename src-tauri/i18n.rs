//! The UI's strings: one table per language in `ui/i18n/*.json`, embedded in the binary and
//! handed to the UI at start. Rust uses the same tables for notifications and the tray.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The Swedish table (the default language).
pub const SV_JSON: &str = include_str!("../ui/i18n/sv.json");
/// The English table.
pub const EN_JSON: &str = include_str!("../ui/i18n/en.json");

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Svenska (default).
    #[default]
    Sv,
    /// English.
    En,
}

impl Lang {
    /// Parses "sv" / "en".
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "sv" => Some(Lang::Sv),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// "sv" / "en".
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// The same language for plan search.
    pub fn for_search(self) -> varn_core::search::Lang {
        match self {
            Lang::Sv => varn_core::search::Lang::Sv,
            Lang::En => varn_core::search::Lang::En,
        }
    }
}

/// A table of strings by key.
pub type Table = BTreeMap<String, String>;

/// Both tables, parsed.
#[derive(Debug, Clone, Serialize)]
pub struct Strings {
    /// Svenska.
    pub sv: Table,
    /// English.
    pub en: Table,
}

impl Strings {
    /// Parses the embedded tables. They are checked by the tests; a broken table gives an
    /// empty one rather than a crash, and the UI then shows keys instead of text.
    pub fn embedded() -> Strings {
        Strings {
            sv: serde_json::from_str(SV_JSON).unwrap_or_default(),
            en: serde_json::from_str(EN_JSON).unwrap_or_default(),
        }
    }

    /// A string in the given language, or the key itself if it is missing.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let table = match lang {
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        };
        table.get(key).map(String::as_str).unwrap_or(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};
    use std::path::Path;

    fn table(json: &str, name: &str) -> Table {
        serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{name} is not a flat JSON table: {e}"))
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let sv = table(SV_JSON, "sv.json");
        let en = table(EN_JSON, "en.json");
        let sv_keys: BTreeSet<_> = sv.keys().collect();
        let en_keys: BTreeSet<_> = en.keys().collect();
        let only_sv: Vec<_> = sv_keys.difference(&en_keys).collect();
        let only_en: Vec<_> = en_keys.difference(&sv_keys).collect();
        assert!(only_sv.is_empty(), "missing in en.json: {only_sv:?}");
        assert!(only_en.is_empty(), "missing in sv.json: {only_en:?}");
        for (k, v) in sv.iter().chain(en.iter()) {
            assert!(!v.trim().is_empty(), "empty string for {k}");
        }
    }

    /// Every `t("key")` in the UI's modules must exist in the tables.
    #[test]
    fn every_key_the_ui_uses_exists() {
        let sv = table(SV_JSON, "sv.json");
        let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let mut used = BTreeSet::new();
        let mut stack = vec![ui];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "js") {
                    let src = std::fs::read_to_string(&path).unwrap();
                    for quote in ['"', '\''] {
                        let pat = format!("t({quote}");
                        for (i, _) in src.match_indices(&pat) {
                            // `t(` itself, not `split(`, `get(` or `x.t(`.
                            let before = src[..i].chars().next_back();
                            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                                continue;
                            }
                            let rest = &src[i + pat.len()..];
                            if let Some(end) = rest.find(quote) {
                                used.insert(rest[..end].to_string());
                            }
                        }
                    }
                }
            }
        }
        assert!(
            used.len() > 20,
            "the scan found the UI's keys ({})",
            used.len()
        );
        let missing: Vec<_> = used.iter().filter(|k| !sv.contains_key(*k)).collect();
        assert!(
            missing.is_empty(),
            "keys used in ui/ but not in the tables: {missing:?}"
        );
    }

    /// index.html's shell is painted before the tables arrive: each of its texts names its
    /// key (`data-i18n`) and must be that key's Swedish text, with the English in `data-en`.
    #[test]
    fn the_shells_texts_are_the_tables() {
        let sv = table(SV_JSON, "sv.json");
        let en = table(EN_JSON, "en.json");
        let html =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/index.html"))
                .unwrap();
        let unescape = |s: &str| s.replace("&amp;", "&");
        let mut seen = 0;
        for (i, _) in html.match_indices("data-i18n=\"") {
            let tag = &html[i..];
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                let end = tag[start..].find('"')? + start;
                Some(unescape(&tag[start..end]))
            };
            let key = attr("data-i18n").unwrap();
            let text_start = tag.find('>').unwrap() + 1;
            let text =
                unescape(&tag[text_start..text_start + tag[text_start..].find('<').unwrap()]);
            assert_eq!(Some(&text), sv.get(&key), "the shell's Swedish for {key}");
            assert_eq!(
                attr("data-en").as_ref(),
                en.get(&key),
                "the shell's English for {key}"
            );
            seen += 1;
        }
        assert!(seen >= 7, "the shell's texts were found ({seen})");
    }

    /// The shell's icons are written out in index.html (a `<use>` of a sprite costs the first
    /// paint): each names its icon (`data-icon`) and must draw exactly that entry of
    /// ui/icons.js, where the app's other icons come from.
    #[test]
    fn the_shells_icons_are_the_icon_table() {
        let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let js = std::fs::read_to_string(ui.join("icons.js")).unwrap();
        let icons: HashMap<&str, (&str, &str)> = js
            .lines()
            .filter_map(|l| {
                let (name, rest) = l.trim().split_once(": ['")?;
                let (view_box, rest) = rest.split_once("', '")?;
                Some((name, (view_box, rest.strip_suffix("'],")?)))
            })
            .collect();
        assert!(icons.len() >= 12, "icons.js read ({})", icons.len());
        let html = std::fs::read_to_string(ui.join("index.html")).unwrap();
        let mut seen = 0;
        for (i, _) in html.match_indices("data-icon=\"") {
            let tag = &html[i..];
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                Some(&tag[start..tag[start..].find('"')? + start])
            };
            let name = attr("data-icon").unwrap();
            let body_start = tag.find('>').unwrap() + 1;
            let body = &tag[body_start..body_start + tag[body_start..].find("</svg>").unwrap()];
            let (view_box, want) = icons.get(name).unwrap_or_else(|| panic!("no icon {name}"));
            assert_eq!(attr("viewBox"), Some(*view_box), "{name}'s viewBox");
            assert_eq!(body, *want, "the shell's {name} icon");
            seen += 1;
        }
        assert!(seen >= 7, "the shell's icons were found ({seen})");
        assert!(!html.contains("<use"), "no sprite in the shell");
    }

    /// Keys built at run time (`error.${kind}`, `banner.${phase}`, notifications and the tray
    /// in Rust) are not visible to the scan above; they are listed here.
    #[test]
    fn keys_built_at_run_time_exist() {
        let sv = table(SV_JSON, "sv.json");
        let mut keys: Vec<String> = Vec::new();
        for phase in [
            "sending",
            "unconfirmed",
            "blocked",
            "received",
            "acknowledged",
            "cancelling",
            "cancelled",
        ] {
            keys.push(format!("banner.{phase}"));
        }
        for kind in varn_core::wire::EventKind::ALL {
            keys.push(format!("timeline.kind.{}", kind.as_str()));
        }
        for b in ["not_enrolled", "token_refused", "keychain_unavailable"] {
            keys.push(format!("alarm.blocked.{b}"));
        }
        // Every kind a command returns, and the two the UI makes itself.
        for k in crate::error::ErrorKind::ALL
            .map(|k| k.as_str())
            .into_iter()
            .chain(["ipc", "view"])
        {
            keys.push(format!("error.{k}"));
        }
        for state in varn_core::wire::FollowupState::ALL {
            keys.push(format!("notify.followup_{}", state.as_str()));
            keys.push(format!("followup.{}", state.as_str()));
        }
        keys.push("notify.followup_title".into());
        keys.push("notify.alarm_message_title".into());
        for k in [
            "title",
            "sending",
            "unconfirmed",
            "received",
            "acknowledged",
            "cancelled",
            "refused",
            "keychain",
            "not_enrolled",
            "checkin_title",
            "checkin_due",
            "checkin_overdue",
            "checkin_unconfirmed",
            "reminder_title",
            "reminder_missing",
            "reminder_advises",
            "link_title",
            "linked",
            "unlinked",
            "discreet_title",
            "discreet",
        ] {
            keys.push(format!("notify.{k}"));
        }
        keys.push("hide.window_title".into());
        for k in [
            "tray.alarm",
            "tray.show",
            "tray.quit",
            "number.no_dialer",
            "number.dial_failed",
        ] {
            keys.push(k.to_string());
        }
        for k in [
            "conn.online",
            "conn.offline",
            "conn.not_enrolled",
            "conn.refused",
            "profile.note.refused",
            "profile.note.stored_invalid",
            "profile.note.other_region",
        ] {
            keys.push(k.to_string());
        }
        let missing: Vec<_> = keys.iter().filter(|k| !sv.contains_key(*k)).collect();
        assert!(missing.is_empty(), "missing keys: {missing:?}");
    }

    /// The form names the follow-up lists' values as the exports, the statistics and the
    /// dashboard do: every label is `varn_core::ptu`'s, in both languages.
    #[test]
    fn the_follow_up_lists_labels_are_the_cores() {
        use varn_core::ptu::*;
        let (sv, en) = (table(SV_JSON, "sv.json"), table(EN_JSON, "en.json"));
        let mut checked = 0;
        let mut check = |prefix: &str, key: &str, (s, e): (&str, &str)| {
            let k = format!("{prefix}.{key}");
            assert_eq!(sv.get(&k).map(String::as_str), Some(s), "{k} (sv)");
            assert_eq!(en.get(&k).map(String::as_str), Some(e), "{k} (en)");
            checked += 1;
        };
        for &x in EventType::ALL {
            check("event", x.as_str(), x.labels());
        }
        for &x in Channel::ALL {
            check("channel", x.as_str(), x.labels());
        }
        for &x in Perpetrator::ALL {
            check("perpetrator", x.as_str(), x.labels());
        }
        for &x in Consequence::ALL {
            check("consequence", x.as_str(), x.labels());
        }
        for &x in NotReportedReason::ALL {
            check("reason", x.as_str(), x.labels());
        }
        assert_eq!(checked, 32);
        // The form offers every member, in the core's order.
        let js = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/views/incident.js"),
        )
        .expect("incident.js");
        let listed = |name: &str, all: Vec<&str>| {
            let line = format!(
                "const {name} = [{}];",
                all.iter()
                    .map(|k| format!("'{k}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            assert!(js.contains(&line), "incident.js lacks {line}");
        };
        listed(
            "EVENTS",
            EventType::ALL.iter().map(|x| x.as_str()).collect(),
        );
        listed(
            "CHANNELS",
            Channel::ALL.iter().map(|x| x.as_str()).collect(),
        );
        listed(
            "PERPETRATORS",
            Perpetrator::ALL.iter().map(|x| x.as_str()).collect(),
        );
        listed(
            "CONSEQUENCES",
            Consequence::ALL.iter().map(|x| x.as_str()).collect(),
        );
        listed(
            "REASONS",
            NotReportedReason::ALL.iter().map(|x| x.as_str()).collect(),
        );
    }

    /// The alarm screen's quick answers are `varn_core::alarm`'s, in both languages.
    #[test]
    fn the_quick_answers_are_the_cores() {
        let (sv, en) = (table(SV_JSON, "sv.json"), table(EN_JSON, "en.json"));
        for (key, s, e) in varn_core::alarm::QUICK_FROM_PERSON {
            let k = format!("quick.{key}");
            assert_eq!(sv.get(&k).map(String::as_str), Some(s), "{k}");
            assert_eq!(en.get(&k).map(String::as_str), Some(e), "{k}");
        }
        let js = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/views/alarm.js"),
        )
        .expect("alarm.js");
        let keys: Vec<&str> = varn_core::alarm::QUICK_FROM_PERSON
            .iter()
            .map(|(k, _, _)| *k)
            .collect();
        let listed = format!(
            "const QUICK = [{}];",
            keys.iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(js.contains(&listed), "alarm.js lists {listed}");
    }

    #[test]
    fn missing_key_falls_back_to_the_key() {
        let s = Strings::embedded();
        assert_eq!(s.get(Lang::Sv, "no.such.key"), "no.such.key");
        assert_eq!(s.get(Lang::Sv, "app.name"), "Värn");
    }

    /// Every Swedish string that claims what happened to an alarm or a report — received,
    /// acknowledged, an alarm centre, protection — listed with the state it may be shown in.
    /// A new claim fails here until it is added with its state (and looked at), and the alarm
    /// screen's texts are checked to sit in the phase they describe.
    #[test]
    fn every_claim_is_listed_with_the_state_it_may_be_shown_in() {
        const CLAIMS: &[(&str, &str)] = &[
            ("alarm.received", "phase received: the server's receipt"),
            (
                "alarm.received_detail",
                "phase received, nobody has acknowledged",
            ),
            (
                "alarm.escalated_detail",
                "phase received, escalated_to not empty",
            ),
            ("alarm.acknowledged", "phase acknowledged"),
            ("alarm.acknowledged_detail", "phase acknowledged"),
            ("banner.acknowledged", "phase acknowledged"),
            ("notify.received", "phase received"),
            ("notify.acknowledged", "phase acknowledged"),
            ("status.received", "a report the server has answered"),
            ("status.received_short", "a report the server has answered"),
            ("notify.delivered_one", "one report the server has answered"),
            ("notify.delivered_many", "reports the server has answered"),
            ("drill.last", "a drill acknowledged by an officer"),
            ("discretion.text", "a setting, claims nothing"),
            ("timeline.kind.received", "the server's own timeline entry"),
            (
                "timeline.kind.acknowledged",
                "the server's own timeline entry",
            ),
            ("timeline.kind.escalated", "the server's own timeline entry"),
            (
                "checkin.phase.overdue",
                "a check-in the server has, past its deadline",
            ),
            (
                "alarm.region_host",
                "beside the receipt: the server that received it",
            ),
            (
                "followup.new",
                "a report the server has, not taken for follow-up",
            ),
            ("alarm.centre", "centre_received_at set: the centre's ACK"),
            (
                "alarm.centre_at",
                "centre_received_at set: the centre's ACK",
            ),
            (
                "timeline.kind.centre_received",
                "the server's own timeline entry",
            ),
            (
                "timeline.kind.centre_refused",
                "the server's own timeline entry",
            ),
            (
                "protection.protected",
                "protection state protected: linked, answering, drill recent",
            ),
            (
                "update.unavailable.no_key",
                "not a claim about an alarm (matches \"mottag\")",
            ),
            (
                "alarm.drill_round_trip",
                "a drill acknowledged, with its round trip measured",
            ),
            ("drill.explain", "what a drill is for, claims nothing"),
            ("error.enroll_refused_do", "a refused code, claims nothing"),
            (
                "key.why",
                "an unconfirmed profile key: the alarm does not depend on it",
            ),
            (
                "lock.help",
                "the lock screen: LARM and 112 run without the PIN (commands marked locked)",
            ),
        ];
        let sv = table(SV_JSON, "sv.json");
        let claim = |text: &str| {
            let t = text.to_lowercase();
            [
                "skydd",
                "mottag",
                "larmcentral",
                "kvitter",
                "hanterar",
                "tagit emot",
                "fungerar",
                "kommit fram",
                "gick fram",
            ]
            .iter()
            .any(|w| t.contains(w))
        };
        let found: BTreeSet<&str> = sv
            .iter()
            .filter(|(_, v)| claim(v))
            .map(|(k, _)| k.as_str())
            .collect();
        let listed: BTreeSet<&str> = CLAIMS.iter().map(|(k, _)| *k).collect();
        let unlisted: Vec<_> = found.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "claims without a state: {unlisted:?} (add them to CLAIMS with the state that may show them)"
        );
        let stale: Vec<_> = listed.difference(&found).collect();
        assert!(
            stale.is_empty(),
            "CLAIMS lists strings that claim nothing now: {stale:?}"
        );
        // Nothing claims the person is protected, or that the region handles the alarm.
        for (k, v) in &sv {
            let t = v.to_lowercase();
            assert!(
                !t.contains("skyddad") && !t.contains("hanterar larmet"),
                "{k}: {v}"
            );
        }
        // The alarm screen: each receipt text only in its own phase.
        let js = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/views/alarm.js"),
        )
        .expect("alarm.js");
        let case = |phase: &str| -> String {
            let start = js
                .find(&format!("case '{phase}':"))
                .unwrap_or_else(|| panic!("no case '{phase}' in alarm.js"));
            let rest = &js[start + 1..];
            let end = rest.find("case '").unwrap_or(rest.len());
            rest[..end].to_string()
        };
        for (phase, keys) in [
            (
                "received",
                &[
                    "alarm.received",
                    "alarm.received_detail",
                    "alarm.escalated_detail",
                ][..],
            ),
            (
                "acknowledged",
                &["alarm.acknowledged", "alarm.acknowledged_detail"][..],
            ),
        ] {
            for key in keys {
                assert!(case(phase).contains(key), "{key} not in case '{phase}'");
                for other in [
                    "sending",
                    "unconfirmed",
                    "blocked",
                    "cancelling",
                    "cancelled",
                ] {
                    assert!(!case(other).contains(key), "{key} in case '{other}'");
                }
            }
        }
        assert!(
            js.contains("view.centre_received_at ?") || js.contains("view.centre_received_at &&"),
            "the centre's receipt is shown only with centre_received_at"
        );
    }

    /// The strings the app presents as the plan's words are found in the plan (seed 002).
    #[test]
    fn what_the_app_quotes_from_the_plan_is_in_the_plan() {
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
        let Some(plan) = std::fs::read_dir(&seeds).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .find(|e| e.file_name().to_string_lossy().starts_with("002_"))
                .and_then(|e| std::fs::read_to_string(e.path()).ok())
        }) else {
            panic!(
                "the plan (shared/seeds/002_*.txt) is not at {}",
                seeds.display()
            );
        };
        let plan = plan
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let sv = table(SV_JSON, "sv.json");
        // Keys whose Swedish text is the plan's own words.
        for key in [
            "inventory.measures",
            "phase.before",
            "phase.during",
            "phase.after",
        ] {
            let text = sv[key].to_lowercase();
            assert!(plan.contains(&text), "{key} = {text:?} is not in the plan");
        }
    }
}
