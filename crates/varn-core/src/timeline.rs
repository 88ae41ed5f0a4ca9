//! An alarm's timeline as plain text, for a police report: the same words on the dashboard's
//! export and in the app's.

use std::fmt::Write;

use chrono::{DateTime, TimeZone, Utc};

use crate::wire::{EventKind, TimelineEntry};

/// What the export says about the alarm itself.
#[derive(Debug, Clone, Default)]
pub struct Header<'a> {
    /// The alarm's id.
    pub id: &'a str,
    /// The person.
    pub who: &'a str,
    /// The meeting sent with it.
    pub meeting: &'a str,
    /// The place sent with it.
    pub place: &'a str,
    /// A drill.
    pub drill: bool,
}

/// The Swedish words for an event kind; unknown kinds are shown as they are.
pub fn kind_label(kind: &str) -> &str {
    let Some(known) = EventKind::parse(kind) else {
        return kind;
    };
    match known {
        EventKind::Triggered => "Larmet utlöstes (enhetens klocka)",
        EventKind::Stored => "Sparat i appen (enhetens klocka)",
        EventKind::Received => "Mottaget av regionens server",
        EventKind::Shown => "Visat i regionens larmvy",
        EventKind::Acknowledged => "Kvitterat",
        EventKind::Escalated => "Eskalerat – ingen hade kvitterat",
        EventKind::NotifyFailed => "Avisering misslyckades",
        EventKind::Cancelled => "Avbrutet",
        EventKind::Duress => "Avbrutet under tvång (hot-PIN) – larmet kvarstår",
        EventKind::Note => "Anteckning",
        EventKind::CheckedIn => "Incheckad (enhetens klocka)",
        EventKind::CheckinOverdue => "Missad utcheckning – larm",
        EventKind::CheckedOut => "Utcheckad",
        EventKind::MessageToPerson => "Meddelande till personen",
        EventKind::MessageFromPerson => "Meddelande från personen",
        EventKind::CentreReceived => "Mottaget av larmcentralen",
        EventKind::CentreRefused => "Larmcentralen tog inte emot",
    }
}

/// The timeline as text, times in `tz`, exported at `now`.
pub fn to_text<Tz: TimeZone>(
    header: &Header<'_>,
    entries: &[TimelineEntry],
    tz: &Tz,
    now: DateTime<Utc>,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let time = |t: &DateTime<Utc>| {
        t.with_timezone(tz)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string()
    };
    let mut out = String::new();
    let title = if header.drill {
        "Värn – tidslinje för TESTLARM"
    } else {
        "Värn – tidslinje för larm"
    };
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "Larm-id: {}", header.id);
    for (label, value) in [
        ("Person", header.who),
        ("Möte", header.meeting),
        ("Plats", header.place),
    ] {
        if !value.is_empty() {
            let _ = writeln!(out, "{label}: {value}");
        }
    }
    let _ = writeln!(out, "Exporterad: {}", time(&now));
    let _ = writeln!(out);
    for e in entries {
        let _ = write!(out, "{}  {}", time(&e.at), kind_label(&e.kind));
        if !e.actor.is_empty() && e.actor != "server" {
            let _ = write!(out, " – {}", e.actor);
        }
        if !e.detail.is_empty() {
            // One event per line: a note's line breaks become spaces.
            let detail = e.detail.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = write!(out, ": {detail}");
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, kind: &str, actor: &str, detail: &str) -> TimelineEntry {
        TimelineEntry {
            at: at.parse().unwrap(),
            kind: kind.into(),
            actor: actor.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn every_event_is_one_line_in_order_with_local_times() {
        let tz = chrono::FixedOffset::east_opt(3600).unwrap();
        let text = to_text(
            &Header {
                id: "0193",
                who: "Anna Andersson",
                meeting: "Fullmäktige",
                place: "Stora salen",
                drill: false,
            },
            &[
                entry("2026-11-24T10:00:00Z", "triggered", "Anna Andersson", ""),
                entry("2026-11-24T10:00:01Z", "received", "server", ""),
                entry(
                    "2026-11-24T10:00:30Z",
                    "note",
                    "Vakt Olsson",
                    "Ringt polisen.\nPatrull på väg",
                ),
            ],
            &tz,
            "2026-11-24T12:00:00Z".parse().unwrap(),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Värn – tidslinje för larm");
        assert!(lines.contains(&"Plats: Stora salen"));
        assert!(lines.contains(&"Exporterad: 2026-11-24 13:00:00 +01:00"));
        let events: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("2026"))
            .collect();
        assert_eq!(
            events,
            [
                "2026-11-24 11:00:00 +01:00  Larmet utlöstes (enhetens klocka) – Anna Andersson",
                "2026-11-24 11:00:01 +01:00  Mottaget av regionens server",
                "2026-11-24 11:00:30 +01:00  Anteckning – Vakt Olsson: Ringt polisen. Patrull på väg",
            ]
        );
    }

    #[test]
    fn a_drill_says_so_in_the_title() {
        let text = to_text(
            &Header {
                drill: true,
                ..Header::default()
            },
            &[],
            &Utc,
            Utc::now(),
        );
        assert!(text.starts_with("Värn – tidslinje för TESTLARM"));
    }
}
