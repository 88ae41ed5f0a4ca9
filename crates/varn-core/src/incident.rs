//! An incident report as the person writes it: what happened before, during, and what was
//! done (the plan's three questions), who and where, and whether it was reported to the police
//! and the region. Times are local, as typed; they become UTC on the wire.

use chrono::{Local, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::profile::Profile;
use crate::wire::{
    check_text, FollowupFields, IncidentKind, IncidentReport, WireError, MAX_REPORT_TEXT_CHARS,
    MAX_SHORT_CHARS,
};

/// The format of local times in reports (what `<input type="datetime-local">` gives).
pub const LOCAL_TIME: &str = "%Y-%m-%dT%H:%M";

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Utkast: being written.
    Draft,
    /// Klar att skicka: the person marked it ready.
    Ready,
    /// I kö: waiting in the outbox for the network.
    Queued,
    /// Skickad: the report is on the server, attachments still on their way.
    Sent,
    /// Mottagen av regionen: everything arrived.
    Received,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Ready => "ready",
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Received => "received",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Draft,
            Status::Ready,
            Status::Queued,
            Status::Sent,
            Status::Received,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// The content of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Incident {
    /// What kind of incident.
    pub kind: Option<IncidentKind>,
    /// When it started (local, `YYYY-MM-DDTHH:MM`, or empty).
    pub started_at: String,
    /// When it ended (local, or empty).
    pub ended_at: String,
    /// Where.
    pub place: String,
    /// Who was involved (a description).
    pub involved: String,
    /// Vad hände innan.
    pub before: String,
    /// Vad hände under.
    pub during: String,
    /// Vad gjorde vi.
    pub actions: String,
    /// Witnesses.
    pub witnesses: String,
    /// Reported to the police.
    pub police_reported: bool,
    /// When (local, or empty).
    pub police_reported_at: String,
    /// The police report's number.
    pub police_report_number: String,
    /// Reported to the region otherwise (e.g. samverkanswebben).
    pub reported_to_region: bool,
    /// The EFTER checklist's items ticked for this incident.
    pub checklist: Vec<String>,
    /// The alarm this report follows, if any.
    pub alarm_id: Option<Uuid>,
    /// The region's follow-up fields (PTU's categories), all optional.
    #[serde(flatten)]
    pub followup: FollowupFields,
}

/// Why a report cannot be saved as it is; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    /// A text is too long or holds control characters.
    #[error(transparent)]
    Text(#[from] WireError),
    /// A time is not a date and time.
    #[error("{0}: \"{1}\" är ingen tidpunkt (ÅÅÅÅ-MM-DDTHH:MM) / is not a date and time")]
    BadTime(&'static str, String),
    /// The end is before the start.
    #[error("ended_at: slutet är före början / the end is before the start")]
    EndBeforeStart,
    /// A checklist item the profile does not have.
    #[error("checklist: \"{0}\" finns inte i checklistan / is not in the checklist")]
    UnknownChecklistItem(String),
}

fn check_time(field: &'static str, s: &str) -> Result<Option<NaiveDateTime>, IncidentError> {
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDateTime::parse_from_str(s, LOCAL_TIME)
        .map(Some)
        .map_err(|_| IncidentError::BadTime(field, s.chars().take(40).collect()))
}

/// Removes control characters; keeps line breaks and tabs where `multiline`.
pub fn strip_controls(s: &str, multiline: bool) -> String {
    s.chars()
        .filter(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\t')))
        .collect()
}

/// A local time as UTC (the earlier instant when a clock change makes it ambiguous).
pub fn local_to_utc(s: &str) -> Option<chrono::DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s, LOCAL_TIME).ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

impl Incident {
    /// Checks every field. Single-line fields are trimmed; control characters (other than line
    /// breaks and tabs), which a paste can carry invisibly, are removed rather than refused, so
    /// the person's words are always saved.
    pub fn validated(mut self, checklist_ids: &[&str]) -> Result<Incident, IncidentError> {
        for f in [
            &mut self.place,
            &mut self.police_report_number,
            &mut self.started_at,
            &mut self.ended_at,
            &mut self.police_reported_at,
        ] {
            *f = strip_controls(f.trim(), false);
        }
        for f in [
            &mut self.involved,
            &mut self.before,
            &mut self.during,
            &mut self.actions,
            &mut self.witnesses,
        ] {
            *f = strip_controls(f, true);
        }
        check_text("place", &self.place, MAX_SHORT_CHARS)?;
        check_text(
            "police_report_number",
            &self.police_report_number,
            MAX_SHORT_CHARS,
        )?;
        for (name, text) in [
            ("involved", &self.involved),
            ("before", &self.before),
            ("during", &self.during),
            ("actions", &self.actions),
            ("witnesses", &self.witnesses),
        ] {
            check_text(name, text, MAX_REPORT_TEXT_CHARS)?;
        }
        let start = check_time("started_at", &self.started_at)?;
        let end = check_time("ended_at", &self.ended_at)?;
        check_time("police_reported_at", &self.police_reported_at)?;
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                return Err(IncidentError::EndBeforeStart);
            }
        }
        for id in &self.checklist {
            if !checklist_ids.contains(&id.as_str()) {
                return Err(IncidentError::UnknownChecklistItem(
                    id.chars().take(64).collect(),
                ));
            }
        }
        self.checklist.sort();
        self.checklist.dedup();
        self.followup = self.followup.normalised(self.police_reported);
        Ok(self)
    }

    /// A report written before the follow-up fields existed, read as if written now: its old
    /// kind gives the kind of event and the channel (see [`from_legacy_kind`]) and is
    /// then dropped. A report that has either field, or no old kind, is left as it is.
    pub fn upgraded(mut self) -> Incident {
        if let Some(kind) = self.kind {
            if self.followup.event.is_none() && self.followup.channel.is_none() {
                let (event, channel) = from_legacy_kind(kind);
                self.followup.event = event;
                self.followup.channel = channel;
            }
            self.kind = None;
        }
        self
    }

    /// The report as the region server receives it.
    pub fn to_wire(&self, attachments: Vec<Uuid>) -> IncidentReport {
        IncidentReport {
            kind: self.kind,
            started_at: local_to_utc(&self.started_at),
            ended_at: local_to_utc(&self.ended_at),
            place: self.place.clone(),
            involved: self.involved.clone(),
            before: self.before.clone(),
            during: self.during.clone(),
            actions: self.actions.clone(),
            witnesses: self.witnesses.clone(),
            police_reported: self.police_reported,
            police_reported_at: local_to_utc(&self.police_reported_at),
            police_report_number: self.police_report_number.clone(),
            reported_to_region: self.reported_to_region,
            checklist: self.checklist.clone(),
            attachments,
            alarm_id: self.alarm_id,
            followup: self.followup.clone(),
        }
    }
}

/// How long the person may keep a report the region has closed, in days (or keep it: the
/// default). The choices Inställningar offers.
pub const CLOSED_KEEP_DAYS: [u32; 3] = [30, 90, 365];

/// Whether a report whose follow-up the region closed at `closed_at` is removed from the
/// device at `now` when closed reports are kept `days` days.
pub fn closed_report_expired(
    closed_at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
    days: u32,
) -> bool {
    now - closed_at >= chrono::Duration::days(i64::from(days))
}

/// An attachment as an export lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    /// The attachment's id.
    pub id: Uuid,
    /// The file name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The language of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportLang {
    /// Svenska.
    Sv,
    /// English.
    En,
}

fn label(lang: ExportLang, sv: &'static str, en: &'static str) -> &'static str {
    match lang {
        ExportLang::Sv => sv,
        ExportLang::En => en,
    }
}

/// One of a label's two languages.
pub fn pick(lang: ExportLang, (sv, en): (&'static str, &'static str)) -> &'static str {
    label(lang, sv, en)
}

/// The name of a kind of incident.
pub fn kind_name(kind: IncidentKind, lang: ExportLang) -> &'static str {
    use IncidentKind::*;
    match kind {
        OnSite => label(lang, "Hot på plats", "Threat on site"),
        Phone => label(lang, "Telefon", "Phone"),
        Letter => label(lang, "Brev", "Letter"),
        MailSms => label(lang, "Mail/SMS", "E-mail/text message"),
        SocialMedia => label(lang, "Sociala medier", "Social media"),
        Violence => label(lang, "Våld", "Violence"),
        Other => label(lang, "Annat", "Other"),
    }
}

/// One section of an export: a heading and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSection {
    /// The heading.
    pub heading: String,
    /// The lines (a field per line, or paragraphs).
    pub lines: Vec<String>,
}

/// The text for a police report: what happened, the attachments with their checksums, and the
/// plan's reminders for reporting (from the region profile, so they are the plan's words).
/// The fields asked only for the region's follow-up and PTU's survey (what it led to, why it
/// was not reported, whether it was reported to the region) stay out: this goes to the police.
pub fn police_export(
    incident: &Incident,
    attachments: &[AttachmentInfo],
    profile: &Profile,
    who: Option<&str>,
    lang: ExportLang,
) -> Vec<ExportSection> {
    let l = |sv, en| label(lang, sv, en).to_string();
    let field = |name: &str, value: &str| -> Option<String> {
        (!value.trim().is_empty()).then(|| format!("{name}: {value}"))
    };
    let yes_no = |b| l(if b { "ja" } else { "nej" }, if b { "yes" } else { "no" });
    let mut facts = Vec::new();
    if let Some(w) = who {
        facts.push(format!(
            "{}: {w} ({})",
            l("Anmälare", "Reporter"),
            l("förtroendevald", "elected official")
        ));
    }
    facts.extend(
        [
            incident.kind.map(|k| {
                format!(
                    "{}: {}",
                    l(
                        "Typ av händelse (äldre indelning)",
                        "Kind of incident (older list)"
                    ),
                    kind_name(k, lang)
                )
            }),
            incident.followup.event.map(|e| {
                format!(
                    "{}: {}",
                    l("Typ av händelse", "Kind of event"),
                    pick(lang, e.labels())
                )
            }),
            incident
                .followup
                .channel
                .map(|c| format!("{}: {}", l("Kanal", "Channel"), pick(lang, c.labels()))),
            incident.followup.sexual.map(|b| {
                format!(
                    "{}: {}",
                    l("Av sexuell karaktär", "Of a sexual character"),
                    yes_no(b)
                )
            }),
            incident.followup.repeated.map(|b| {
                format!(
                    "{}: {}",
                    l("Har hänt förut", "Has happened before"),
                    yes_no(b)
                )
            }),
            incident.followup.perpetrator.map(|p| {
                format!(
                    "{}: {}",
                    l("Gärningsperson", "Perpetrator"),
                    pick(lang, p.labels())
                )
            }),
            field(
                &l("Började", "Began"),
                &incident.started_at.replace('T', " "),
            ),
            field(&l("Slutade", "Ended"), &incident.ended_at.replace('T', " ")),
            field(&l("Plats", "Place"), &incident.place),
            field(&l("Inblandade", "Involved"), &incident.involved),
            field(&l("Vittnen", "Witnesses"), &incident.witnesses),
            field(
                &l("Datum för polisanmälan", "Date of the police report"),
                &incident.police_reported_at.replace('T', " "),
            ),
            field(
                &l("Diarienummer", "Report number"),
                &incident.police_report_number,
            ),
        ]
        .into_iter()
        .flatten(),
    );
    let mut out = vec![ExportSection {
        heading: l("Händelse", "Incident"),
        lines: facts,
    }];
    for (heading, text) in [
        (
            l("Vad hände innan", "What happened before"),
            &incident.before,
        ),
        (
            l("Vad hände under", "What happened during"),
            &incident.during,
        ),
        (l("Vad gjorde vi", "What we did"), &incident.actions),
    ] {
        let lines = if text.trim().is_empty() {
            vec![l("(inget angivet)", "(nothing given)")]
        } else {
            text.lines().map(str::to_string).collect()
        };
        out.push(ExportSection { heading, lines });
    }
    if !incident.checklist.is_empty() {
        let items = profile
            .checklist
            .items
            .iter()
            .filter(|i| incident.checklist.contains(&i.id))
            .map(|i| format!("✓ {}", if lang == ExportLang::Sv { &i.sv } else { &i.en }))
            .collect();
        out.push(ExportSection {
            heading: l(
                "Checklista (direkt efter akut händelse)",
                "Checklist (right after an acute incident)",
            ),
            lines: items,
        });
    }
    out.push(ExportSection {
        heading: l("Bilagor", "Attachments"),
        lines: if attachments.is_empty() {
            vec![l("(inga)", "(none)")]
        } else {
            attachments
                .iter()
                .map(|a| {
                    format!(
                        "{} ({} B, {}) SHA-256 {}",
                        a.filename, a.size, a.content_type, a.sha256
                    )
                })
                .collect()
        },
    });
    // The plan's reminders for reporting, in its own words.
    let item = |id: &str| {
        profile
            .after
            .iter()
            .flat_map(|s| &s.items)
            .find(|i| i.id == id)
            .map(|i| {
                if lang == ExportLang::Sv {
                    i.sv.clone()
                } else {
                    i.en.clone()
                }
            })
    };
    let reminders: Vec<String> = [
        "efter-polisanmalan-6",
        "efter-polisanmalan-4",
        "efter-polisanmalan-2",
        "efter-polisanmalan-5",
    ]
    .iter()
    .filter_map(|id| item(id))
    .collect();
    out.push(ExportSection {
        heading: l(
            "Att tänka på vid polisanmälan (ur handlingsplanen)",
            "When reporting to the police (from the action plan)",
        ),
        lines: reminders,
    });
    out
}

/// The export as plain text.
pub fn export_text(title: &str, sections: &[ExportSection]) -> String {
    let mut s = format!("{title}\n{}\n", "=".repeat(title.chars().count()));
    for sec in sections {
        s.push_str(&format!(
            "\n{}\n{}\n",
            sec.heading,
            "-".repeat(sec.heading.chars().count())
        ));
        for line in &sec.lines {
            s.push_str(line);
            s.push('\n');
        }
    }
    s
}

/// How a report written before these fields existed reads: its one "kind", which mixed the
/// kind of event with the channel, gives both where it can. Every old kind but *Våld* and
/// *Annat* was a threat; *Mail/SMS* is read as e-mail (the person can correct it).
pub fn from_legacy_kind(
    kind: IncidentKind,
) -> (Option<crate::ptu::EventType>, Option<crate::ptu::Channel>) {
    use crate::ptu::{Channel, EventType};
    use IncidentKind as K;
    let threat = Some(EventType::ThreatHarassment);
    match kind {
        K::OnSite => (threat, Some(Channel::InPerson)),
        K::Phone => (threat, Some(Channel::Phone)),
        K::Letter => (threat, Some(Channel::Letter)),
        K::MailSms => (threat, Some(Channel::Email)),
        K::SocialMedia => (threat, Some(Channel::SocialMedia)),
        K::Violence => (
            Some(EventType::ViolenceDamageTheft),
            Some(Channel::InPerson),
        ),
        K::Other => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<&'static str> {
        vec!["checklista-1", "checklista-5"]
    }

    fn incident() -> Incident {
        Incident {
            kind: Some(IncidentKind::Phone),
            started_at: "2026-11-24T18:05".into(),
            ended_at: "2026-11-24T18:12".into(),
            place: " Kommunhuset ".into(),
            during: "Han sa att han skulle komma till mötet.\nHan lät arg.".into(),
            checklist: vec![
                "checklista-5".into(),
                "checklista-1".into(),
                "checklista-5".into(),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_incident_is_tidied() {
        let i = incident().validated(&ids()).unwrap();
        assert_eq!(i.place, "Kommunhuset");
        assert_eq!(i.checklist, vec!["checklista-1", "checklista-5"]);
        assert!(i.during.contains('\n'), "line breaks stay");
    }

    #[test]
    fn bad_fields_are_named() {
        let mut i = incident();
        i.started_at = "igår".into();
        assert_eq!(
            i.validated(&ids()),
            Err(IncidentError::BadTime("started_at", "igår".into()))
        );
        let mut i = incident();
        i.ended_at = "2026-11-24T17:00".into();
        assert_eq!(i.validated(&ids()), Err(IncidentError::EndBeforeStart));
        let mut i = incident();
        i.before = "färg\u{1b}[31m röd\r\nrad två\u{0}".into();
        i.place = "Torget\u{7}".into();
        let v = i.validated(&ids()).unwrap();
        assert_eq!(
            v.before, "färg[31m röd\nrad två",
            "control characters go, the words stay"
        );
        assert_eq!(v.place, "Torget");
        let mut i = incident();
        i.during = "x".repeat(MAX_REPORT_TEXT_CHARS + 1);
        assert!(matches!(
            i.validated(&ids()),
            Err(IncidentError::Text(WireError::TooLong {
                field: "during",
                ..
            }))
        ));
        let mut i = incident();
        i.checklist = vec!["finns-inte".into()];
        assert!(matches!(
            i.validated(&ids()),
            Err(IncidentError::UnknownChecklistItem(_))
        ));
    }

    #[test]
    fn local_times_become_utc_on_the_wire() {
        let i = incident().validated(&ids()).unwrap();
        let w = i.to_wire(vec![]);
        let expected = Local
            .from_local_datetime(
                &NaiveDateTime::parse_from_str("2026-11-24T18:05", LOCAL_TIME).unwrap(),
            )
            .unwrap();
        assert_eq!(w.started_at, Some(expected.with_timezone(&Utc)));
        assert_eq!(w.police_reported_at, None);
        assert_eq!(w.place, "Kommunhuset");
    }

    #[test]
    fn a_closed_report_expires_after_the_chosen_days_and_not_before() {
        let closed = Utc::now() - chrono::Duration::days(30);
        assert!(closed_report_expired(closed, Utc::now(), 30));
        assert!(!closed_report_expired(closed, Utc::now(), 90));
        assert!(!closed_report_expired(Utc::now(), Utc::now(), 30));
        assert!(
            CLOSED_KEEP_DAYS.iter().all(|&d| d >= 30),
            "never sooner than a month"
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            Status::Draft,
            Status::Ready,
            Status::Queued,
            Status::Sent,
            Status::Received,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(Status::Draft < Status::Received);
    }

    #[test]
    fn the_police_export_has_every_field_the_attachments_and_the_plans_reminders() {
        let profile = Profile::embedded_default().unwrap();
        let mut i = incident().validated(&ids()).unwrap();
        i.police_report_number = "5000-K123-26".into();
        let att = AttachmentInfo {
            id: Uuid::nil(),
            filename: "skärmdump.png".into(),
            content_type: "image/png".into(),
            size: 1234,
            sha256: "ab".repeat(32),
        };
        let text = export_text(
            "Händelserapport",
            &police_export(&i, &[att], &profile, Some("Anna Andersson"), ExportLang::Sv),
        );
        for needle in [
            "Anna Andersson (förtroendevald)",
            "Typ av händelse (äldre indelning): Telefon",
            "Började: 2026-11-24 18:05",
            "Plats: Kommunhuset",
            "Han lät arg.",
            "Diarienummer: 5000-K123-26",
            "Vad hände innan",
            "(inget angivet)",
            "✓ Vid behov larma Polis, Ambulans 112",
            "skärmdump.png (1234 B, image/png) SHA-256 abab",
            "Viktigt att det framgår att du är förtroendevald vid anmälan.",
            "åtkomstskyddad",
            "Är det akut ring 112, är det lugnare skede ring 11414.",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        let en = export_text(
            "Incident report",
            &police_export(&i, &[], &profile, None, ExportLang::En),
        );
        assert!(en.contains("What happened during") && en.contains("If it is acute, call 112"));
    }

    #[test]
    fn the_police_export_has_the_facts_and_none_of_the_survey_fields() {
        use crate::ptu::*;
        let profile = Profile::embedded_default().unwrap();
        let mut i = incident().upgraded();
        i.followup.sexual = Some(false);
        i.followup.repeated = Some(true);
        i.followup.perpetrator = Some(Perpetrator::UnknownPerson);
        i.followup.consequences = vec![
            Consequence::Fear,
            Consequence::RefrainedFromSpeaking,
            Consequence::Fear,
        ];
        i.followup.not_reported_reason = Some(NotReportedReason::Pointless);
        let v = i.clone().validated(&ids()).unwrap();
        assert_eq!(
            v.followup.consequences,
            vec![Consequence::RefrainedFromSpeaking, Consequence::Fear],
            "sorted in the list's order, once each"
        );
        let text = export_text("R", &police_export(&v, &[], &profile, None, ExportLang::Sv));
        for needle in [
            "Typ av händelse: Hot och trakasserier",
            "Kanal: Telefon",
            "Av sexuell karaktär: nej",
            "Har hänt förut: ja",
            "Gärningsperson: En annan enskild person som jag inte känner",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        for survey in [
            "Följder",
            "Oro eller rädsla",
            "Varför inte",
            "Tror inte att det leder till något",
            "Polisanmäld:",
            "Rapporterad till regionen",
            "samverkanswebben:",
        ] {
            assert!(
                !text.contains(survey),
                "{survey:?} in the police export:\n{text}"
            );
        }
        assert!(
            !text.contains("äldre indelning"),
            "the old kind is read as the new fields"
        );
        i.police_reported = true;
        let v = i.validated(&ids()).unwrap();
        assert_eq!(v.followup.not_reported_reason, None);
        let en = export_text("R", &police_export(&v, &[], &profile, None, ExportLang::En));
        assert!(en.contains("Channel: Phone") && !en.contains("Why not reported"));
    }

    #[test]
    fn an_old_report_reads_the_same_and_its_json_is_unchanged_until_edited() {
        let old_json = r#"{"kind":"violence","place":"Torget","during":"slag"}"#;
        let old: IncidentReport = serde_json::from_str(old_json).unwrap();
        assert_eq!(old.followup, FollowupFields::default());
        let again = serde_json::to_value(&old).unwrap();
        for key in [
            "event",
            "channel",
            "sexual",
            "consequences",
            "not_reported_reason",
        ] {
            assert!(again.get(key).is_none(), "{key} is left out when empty");
        }
        let device: Incident = serde_json::from_str(old_json).unwrap();
        let up = device.upgraded();
        assert_eq!(up.kind, None);
        assert_eq!(
            up.followup.event,
            Some(crate::ptu::EventType::ViolenceDamageTheft)
        );
        let chosen = Incident {
            kind: Some(IncidentKind::Phone),
            followup: FollowupFields {
                channel: Some(crate::ptu::Channel::Email),
                ..Default::default()
            },
            ..Default::default()
        }
        .upgraded();
        assert_eq!(
            (chosen.followup.event, chosen.followup.channel),
            (None, Some(crate::ptu::Channel::Email)),
            "what the person chose is never overwritten"
        );
    }

    #[test]
    fn old_kinds_give_the_kind_of_event_and_the_channel_they_meant() {
        assert_eq!(
            from_legacy_kind(IncidentKind::Violence),
            (
                Some(crate::ptu::EventType::ViolenceDamageTheft),
                Some(crate::ptu::Channel::InPerson)
            )
        );
        assert_eq!(
            from_legacy_kind(IncidentKind::SocialMedia),
            (
                Some(crate::ptu::EventType::ThreatHarassment),
                Some(crate::ptu::Channel::SocialMedia)
            )
        );
        assert_eq!(from_legacy_kind(IncidentKind::Other), (None, None));
    }
}
