//! The region's figures: incidents by month and by PTU's categories, the police-report share
//! and the reasons for not reporting, the election campaign against the rest of the period,
//! and how alarms went. Computed here, once, from the few facts the server keeps per report
//! and per alarm, for both database backends, the dashboard's charts, the JSON endpoint and
//! the CSV export.
//!
//! Small counts (1 or 2) are never shown as they are: a chart, a table and a CSV say "<3",
//! and a share or a rate that would give such a count away is left out, so that a person
//! cannot be recognised from the figures. Drills are never counted as alarms.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Serialize, Serializer};

use crate::ptu::{self, Channel, Consequence, EventType, NotReportedReason, Perpetrator};
use crate::wire::IncidentReport;

/// Counts below this (and above 0) are shown as "<3".
pub const MIN_SHOWN: u64 = 3;
/// The longest period one request may cover, in months.
pub const MAX_MONTHS: u32 = 120;

/// What the server keeps of a report for the statistics: no text, no names, no device.
/// It outlives the report when retention deletes it, so the figures stay the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    /// The day it happened (the day it started, else the day it reached the server; UTC).
    pub occurred_on: NaiveDate,
    /// PTU's kind of event.
    pub event: Option<EventType>,
    /// The channel.
    pub channel: Option<Channel>,
    /// Of a sexual character.
    pub sexual: Option<bool>,
    /// It had happened before.
    pub repeated: Option<bool>,
    /// Who did it.
    pub perpetrator: Option<Perpetrator>,
    /// What it led to.
    pub consequences: Vec<Consequence>,
    /// Reported to the police.
    pub police_reported: bool,
    /// Why not.
    pub not_reported_reason: Option<NotReportedReason>,
}

impl ReportFacts {
    /// The facts of a report's newest revision. A report from before the follow-up fields
    /// gives its kind of event and channel from its old kind.
    pub fn of(report: &IncidentReport, received_at: DateTime<Utc>) -> ReportFacts {
        let f = report.followup.clone().normalised(report.police_reported);
        let (mut event, mut channel) = (f.event, f.channel);
        if event.is_none() && channel.is_none() {
            if let Some(kind) = report.kind {
                (event, channel) = ptu::from_legacy_kind(kind);
            }
        }
        ReportFacts {
            occurred_on: report.started_at.unwrap_or(received_at).date_naive(),
            event,
            channel,
            sexual: f.sexual,
            repeated: f.repeated,
            perpetrator: f.perpetrator,
            consequences: f.consequences,
            police_reported: report.police_reported,
            not_reported_reason: f.not_reported_reason,
        }
    }
}

/// The consequences as one database column: their wire names, comma-separated.
pub fn consequences_column(list: &[Consequence]) -> String {
    list.iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The consequences from their column; a name this build does not know is skipped.
pub fn consequences_from_column(s: &str) -> Vec<Consequence> {
    s.split(',').filter_map(Consequence::parse).collect()
}

/// What the statistics need of an alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmFacts {
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// A drill: never counted.
    pub drill: bool,
    /// Raised by a missed check-out.
    pub from_checkin: bool,
    /// Seconds from receipt to an officer's acknowledgement.
    pub ack_seconds: Option<i64>,
    /// Escalated because nobody acknowledged in time.
    pub escalated: bool,
}

/// A count as the figures show it: exact, or "<3".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// 0, or at least [`MIN_SHOWN`].
    Exact(u64),
    /// 1 or 2: too few to show.
    Few,
}

impl Count {
    /// The count as it may be shown.
    pub fn of(n: u64) -> Count {
        if n > 0 && n < MIN_SHOWN {
            Count::Few
        } else {
            Count::Exact(n)
        }
    }

    /// The exact number, when it may be shown.
    pub fn exact(self) -> Option<u64> {
        match self {
            Count::Exact(n) => Some(n),
            Count::Few => None,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::Few => write!(f, "<{MIN_SHOWN}"),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(n) => s.serialize_u64(*n),
            Count::Few => s.collect_str(self),
        }
    }
}

/// What the figures cover: the days from `from` to `to`, both included, and optionally one
/// kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Only reports of this kind of event.
    pub event: Option<EventType>,
}

/// Why a filter cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A date that is not `YYYY-MM-DD`.
    #[error("{0}: \"{1}\" är inget datum (ÅÅÅÅ-MM-DD) / is not a date")]
    BadDate(&'static str, String),
    /// The end before the start.
    #[error("to: slutet är före början / the end is before the start")]
    EndBeforeStart,
    /// Too long a period.
    #[error("högst {MAX_MONTHS} månader åt gången / at most {MAX_MONTHS} months at a time")]
    TooLong,
    /// An unknown kind of event.
    #[error("event: \"{0}\" är ingen känd typ av händelse / is not a known kind of event")]
    BadEvent(String),
}

impl Filter {
    /// The filter a request asks for: `from`, `to` (dates) and `event`, each optional. By
    /// default the twelve months up to `today`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        event: Option<&str>,
        today: NaiveDate,
    ) -> Result<Filter, FilterError> {
        let date = |field: &'static str, s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| FilterError::BadDate(field, s.chars().take(40).collect()))
        };
        let to = match to.filter(|s| !s.is_empty()) {
            Some(s) => date("to", s)?,
            None => today,
        };
        let from = match from.filter(|s| !s.is_empty()) {
            Some(s) => date("from", s)?,
            None => (to - Months::new(12)).succ_opt().unwrap_or(to),
        };
        if to < from {
            return Err(FilterError::EndBeforeStart);
        }
        if from + Months::new(MAX_MONTHS) <= to {
            return Err(FilterError::TooLong);
        }
        let event = match event.filter(|s| !s.is_empty()) {
            Some(s) => Some(
                EventType::parse(s)
                    .ok_or_else(|| FilterError::BadEvent(s.chars().take(40).collect()))?,
            ),
            None => None,
        };
        Ok(Filter { from, to, event })
    }

    fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The number of days covered.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// One bar of a chart: a member of a list (or "not given"), its labels and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Row {
    /// The member's wire name, or `unanswered`.
    pub key: &'static str,
    /// Swedish label.
    pub sv: &'static str,
    /// English label.
    pub en: &'static str,
    /// How many.
    pub count: Count,
}

/// One month of the line chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Incident reports.
    pub reports: Count,
    /// Real alarms.
    pub alarms: Count,
}

/// The police-report share and the reasons for not reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Police {
    /// Reported.
    pub reported: Count,
    /// Not reported.
    pub not_reported: Count,
    /// Share reported, whole per cent, when neither count is too small to show.
    pub share_reported_percent: Option<u64>,
    /// Why not, for those not reported.
    pub reasons: Vec<Row>,
}

/// The election campaign against the rest of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Election {
    /// The campaign's first day.
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
    /// Days of the period within the campaign.
    pub days_in_campaign: i64,
    /// Days of the period outside it.
    pub days_outside: i64,
    /// Reports from within the campaign.
    pub reports_in_campaign: Count,
    /// Reports from outside it.
    pub reports_outside: Count,
    /// Reports per 30 days within the campaign (left out when the count is too small).
    pub per_30_days_in_campaign: Option<f64>,
    /// Reports per 30 days outside it.
    pub per_30_days_outside: Option<f64>,
}

/// How alarms went (drills never counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alarms {
    /// Real alarms.
    pub real: Count,
    /// Of those, raised by a missed check-out.
    pub from_checkin: Count,
    /// Acknowledged by an officer.
    pub acknowledged: Count,
    /// Median seconds to acknowledgement (left out below three).
    pub ack_median_seconds: Option<i64>,
    /// 90th percentile (nearest rank).
    pub ack_p90_seconds: Option<i64>,
    /// Escalated because nobody acknowledged in time.
    pub escalated: Count,
}

/// Every figure for one filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// The kind of event filtered on.
    pub event: Option<EventType>,
    /// Counts below this are shown as "<3".
    pub min_shown: u64,
    /// Incident reports in the period.
    pub reports: Count,
    /// Per month, reports and real alarms.
    pub months: Vec<Month>,
    /// By PTU's kind of event.
    pub by_event: Vec<Row>,
    /// By channel.
    pub by_channel: Vec<Row>,
    /// By perpetrator.
    pub by_perpetrator: Vec<Row>,
    /// By consequence (a report may have several).
    pub by_consequence: Vec<Row>,
    /// Of a sexual character.
    pub sexual: Count,
    /// Had happened before.
    pub repeated: Count,
    /// Police reports.
    pub police: Police,
    /// The election campaign, when the region's profile names one that meets the period.
    pub election: Option<Election>,
    /// Alarms.
    pub alarms: Alarms,
}

const UNANSWERED: (&str, &str, &str) = ("unanswered", "Ej angivet", "Not given");

fn rows<T: Copy + Eq>(
    all: &[T],
    name: fn(T) -> &'static str,
    labels: fn(T) -> (&'static str, &'static str),
    values: impl Iterator<Item = Option<T>> + Clone,
) -> Vec<Row> {
    let mut out: Vec<Row> = all
        .iter()
        .map(|&x| {
            let (sv, en) = labels(x);
            let n = values.clone().filter(|v| *v == Some(x)).count() as u64;
            Row {
                key: name(x),
                sv,
                en,
                count: Count::of(n),
            }
        })
        .collect();
    let none = values.filter(Option::is_none).count() as u64;
    out.push(Row {
        key: UNANSWERED.0,
        sv: UNANSWERED.1,
        en: UNANSWERED.2,
        count: Count::of(none),
    });
    out
}

fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The value at the nearest rank `p` (0–1) of sorted values.
fn nearest_rank(sorted: &[i64], p: f64) -> i64 {
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn per_30_days(count: Count, days: i64) -> Option<f64> {
    let n = count.exact().filter(|_| days > 0)?;
    Some((n as f64 * 30.0 / days as f64 * 10.0).round() / 10.0)
}

/// The figures for `filter`, from every report's and alarm's facts of the region (those
/// outside the filter are skipped here), with the region's election campaign if it has one
/// (first and last day).
pub fn figures(
    filter: &Filter,
    reports: &[ReportFacts],
    alarms: &[AlarmFacts],
    election: Option<(NaiveDate, NaiveDate)>,
) -> Figures {
    let reports: Vec<&ReportFacts> = reports
        .iter()
        .filter(|r| filter.covers(r.occurred_on))
        .filter(|r| filter.event.is_none() || r.event == filter.event)
        .collect();
    let alarms: Vec<&AlarmFacts> = alarms
        .iter()
        .filter(|a| !a.drill && filter.covers(a.received_at.date_naive()))
        .collect();

    // One pass over each list, counted by (year, month).
    let mut per_month: std::collections::HashMap<(i32, u32), (u64, u64)> =
        std::collections::HashMap::new();
    for r in &reports {
        per_month
            .entry((r.occurred_on.year(), r.occurred_on.month()))
            .or_default()
            .0 += 1;
    }
    for a in &alarms {
        let d = a.received_at.date_naive();
        per_month.entry((d.year(), d.month())).or_default().1 += 1;
    }
    let mut months = Vec::new();
    let mut first = filter.from.with_day(1).unwrap_or(filter.from);
    while first <= filter.to {
        let (r, a) = per_month
            .get(&(first.year(), first.month()))
            .copied()
            .unwrap_or_default();
        months.push(Month {
            month: month_key(first),
            reports: Count::of(r),
            alarms: Count::of(a),
        });
        first = first + Months::new(1);
    }

    let by_consequence = Consequence::ALL
        .iter()
        .map(|&c| {
            let (sv, en) = c.labels();
            let n = reports
                .iter()
                .filter(|r| r.consequences.contains(&c))
                .count();
            Row {
                key: c.as_str(),
                sv,
                en,
                count: Count::of(n as u64),
            }
        })
        .collect();

    let reported = reports.iter().filter(|r| r.police_reported).count() as u64;
    let not_reported = reports.len() as u64 - reported;
    let (reported_c, not_reported_c) = (Count::of(reported), Count::of(not_reported));
    let share_reported_percent = match (reported_c, not_reported_c) {
        (Count::Exact(_), Count::Exact(_)) if !reports.is_empty() => {
            Some((reported * 100 + reports.len() as u64 / 2) / reports.len() as u64)
        }
        _ => None,
    };
    let unreported = reports.iter().filter(|r| !r.police_reported);

    let election = election.and_then(|(from, to)| {
        let (start, end) = (from.max(filter.from), to.min(filter.to));
        if end < start {
            return None;
        }
        let days_in = (end - start).num_days() + 1;
        let within = |d: NaiveDate| start <= d && d <= end;
        let n_in = reports.iter().filter(|r| within(r.occurred_on)).count() as u64;
        let (c_in, c_out) = (Count::of(n_in), Count::of(reports.len() as u64 - n_in));
        let days_out = filter.days() - days_in;
        Some(Election {
            from,
            to,
            days_in_campaign: days_in,
            days_outside: days_out,
            reports_in_campaign: c_in,
            reports_outside: c_out,
            per_30_days_in_campaign: per_30_days(c_in, days_in),
            per_30_days_outside: per_30_days(c_out, days_out),
        })
    });

    let mut ack: Vec<i64> = alarms.iter().filter_map(|a| a.ack_seconds).collect();
    ack.sort_unstable();
    let enough = ack.len() as u64 >= MIN_SHOWN;
    let count = |n: usize| Count::of(n as u64);

    Figures {
        from: filter.from,
        to: filter.to,
        event: filter.event,
        min_shown: MIN_SHOWN,
        reports: count(reports.len()),
        months,
        by_event: rows(
            EventType::ALL,
            EventType::as_str,
            EventType::labels,
            reports.iter().map(|r| r.event),
        ),
        by_channel: rows(
            Channel::ALL,
            Channel::as_str,
            Channel::labels,
            reports.iter().map(|r| r.channel),
        ),
        by_perpetrator: rows(
            Perpetrator::ALL,
            Perpetrator::as_str,
            Perpetrator::labels,
            reports.iter().map(|r| r.perpetrator),
        ),
        by_consequence,
        sexual: count(reports.iter().filter(|r| r.sexual == Some(true)).count()),
        repeated: count(reports.iter().filter(|r| r.repeated == Some(true)).count()),
        police: Police {
            reported: reported_c,
            not_reported: not_reported_c,
            share_reported_percent,
            reasons: rows(
                NotReportedReason::ALL,
                NotReportedReason::as_str,
                NotReportedReason::labels,
                unreported.map(|r| r.not_reported_reason),
            ),
        },
        election,
        alarms: Alarms {
            real: count(alarms.len()),
            from_checkin: count(alarms.iter().filter(|a| a.from_checkin).count()),
            acknowledged: count(ack.len()),
            ack_median_seconds: enough.then(|| nearest_rank(&ack, 0.5)),
            ack_p90_seconds: enough.then(|| nearest_rank(&ack, 0.9)),
            escalated: count(alarms.iter().filter(|a| a.escalated).count()),
        },
    }
}

fn csv_field(s: &str) -> String {
    // Quoted when needed; a leading =, +, - or @ is defused so a spreadsheet never runs it.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl Figures {
    /// The figures as CSV (`section,key,label,value`), labels in Swedish or English, small
    /// counts as "<3" as everywhere else.
    pub fn to_csv(&self, swedish: bool) -> String {
        let mut out = String::from("section,key,label,value\n");
        let mut line = |section: &str, key: &str, label: &str, value: String| {
            out.push_str(&format!(
                "{},{},{},{}\n",
                csv_field(section),
                csv_field(key),
                csv_field(label),
                csv_field(&value)
            ));
        };
        let pick = |sv: &'static str, en: &'static str| if swedish { sv } else { en };
        line(
            "period",
            "from",
            pick("Från", "From"),
            self.from.to_string(),
        );
        line("period", "to", pick("Till", "To"), self.to.to_string());
        if let Some(e) = self.event {
            let (sv, en) = e.labels();
            line(
                "period",
                "event",
                pick("Slags händelse", "Kind of event"),
                pick(sv, en).into(),
            );
        }
        line(
            "total",
            "reports",
            pick("Händelserapporter", "Incident reports"),
            self.reports.to_string(),
        );
        for m in &self.months {
            line("month_reports", &m.month, &m.month, m.reports.to_string());
            line("month_alarms", &m.month, &m.month, m.alarms.to_string());
        }
        for (section, list) in [
            ("event", &self.by_event),
            ("channel", &self.by_channel),
            ("perpetrator", &self.by_perpetrator),
            ("consequence", &self.by_consequence),
            ("not_reported_reason", &self.police.reasons),
        ] {
            for r in list {
                line(section, r.key, pick(r.sv, r.en), r.count.to_string());
            }
        }
        line(
            "total",
            "sexual",
            pick("Av sexuell karaktär", "Of a sexual character"),
            self.sexual.to_string(),
        );
        line(
            "total",
            "repeated",
            pick("Hade hänt förut", "Had happened before"),
            self.repeated.to_string(),
        );
        line(
            "police",
            "reported",
            pick("Polisanmälda", "Reported to the police"),
            self.police.reported.to_string(),
        );
        line(
            "police",
            "not_reported",
            pick("Inte polisanmälda", "Not reported"),
            self.police.not_reported.to_string(),
        );
        let opt = |v: Option<String>| v.unwrap_or_default();
        line(
            "police",
            "share_reported_percent",
            pick("Andel polisanmälda (%)", "Share reported (%)"),
            opt(self.police.share_reported_percent.map(|p| p.to_string())),
        );
        if let Some(e) = &self.election {
            line(
                "election",
                "days_in_campaign",
                pick("Dagar i valrörelsen", "Days in the campaign"),
                e.days_in_campaign.to_string(),
            );
            line(
                "election",
                "days_outside",
                pick("Dagar utanför", "Days outside"),
                e.days_outside.to_string(),
            );
            line(
                "election",
                "reports_in_campaign",
                pick("Rapporter i valrörelsen", "Reports in the campaign"),
                e.reports_in_campaign.to_string(),
            );
            line(
                "election",
                "reports_outside",
                pick("Rapporter utanför", "Reports outside"),
                e.reports_outside.to_string(),
            );
            line(
                "election",
                "per_30_days_in_campaign",
                pick("Per 30 dagar i valrörelsen", "Per 30 days in the campaign"),
                opt(e.per_30_days_in_campaign.map(|v| v.to_string())),
            );
            line(
                "election",
                "per_30_days_outside",
                pick("Per 30 dagar utanför", "Per 30 days outside"),
                opt(e.per_30_days_outside.map(|v| v.to_string())),
            );
        }
        let a = &self.alarms;
        line(
            "alarms",
            "real",
            pick("Larm (testlarm räknas inte)", "Alarms (drills not counted)"),
            a.real.to_string(),
        );
        line(
            "alarms",
            "from_checkin",
            pick("Från missad utcheckning", "From a missed check-out"),
            a.from_checkin.to_string(),
        );
        line(
            "alarms",
            "acknowledged",
            pick("Kvitterade", "Acknowledged"),
            a.acknowledged.to_string(),
        );
        line(
            "alarms",
            "ack_median_seconds",
            pick(
                "Tid till kvittens, median (s)",
                "Time to acknowledgement, median (s)",
            ),
            opt(a.ack_median_seconds.map(|v| v.to_string())),
        );
        line(
            "alarms",
            "ack_p90_seconds",
            pick(
                "Tid till kvittens, 90:e percentil (s)",
                "Time to acknowledgement, 90th percentile (s)",
            ),
            opt(a.ack_p90_seconds.map(|v| v.to_string())),
        );
        line(
            "alarms",
            "escalated",
            pick("Eskalerade", "Escalated"),
            a.escalated.to_string(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn report(on: &str, event: Option<EventType>, police: bool) -> ReportFacts {
        ReportFacts {
            occurred_on: day(on),
            event,
            channel: Some(Channel::SocialMedia),
            sexual: None,
            repeated: Some(true),
            perpetrator: None,
            consequences: vec![],
            police_reported: police,
            not_reported_reason: (!police).then_some(NotReportedReason::Pointless),
        }
    }

    fn alarm(on: &str, drill: bool, ack: Option<i64>) -> AlarmFacts {
        AlarmFacts {
            received_at: Utc.from_utc_datetime(&day(on).and_hms_opt(12, 0, 0).unwrap()),
            drill,
            from_checkin: false,
            ack_seconds: ack,
            escalated: ack.is_none(),
        }
    }

    fn year_2026() -> Filter {
        Filter::parse(
            Some("2026-01-01"),
            Some("2026-12-31"),
            None,
            day("2026-12-31"),
        )
        .unwrap()
    }

    #[test]
    fn counts_of_one_and_two_are_shown_as_fewer_than_three() {
        assert_eq!(Count::of(0), Count::Exact(0));
        assert_eq!(Count::of(1), Count::Few);
        assert_eq!(Count::of(2), Count::Few);
        assert_eq!(Count::of(3), Count::Exact(3));
        assert_eq!(serde_json::to_value(Count::Few).unwrap(), "<3");
        assert_eq!(serde_json::to_value(Count::of(7)).unwrap(), 7);
    }

    #[test]
    fn the_figures_match_a_hand_counted_set() {
        let t = Some(EventType::ThreatHarassment);
        let v = Some(EventType::ViolenceDamageTheft);
        let mut reports = vec![
            report("2026-03-02", t, false),
            report("2026-03-09", t, false),
            report("2026-03-20", t, true),
            report("2026-09-01", t, false),
            report("2026-09-05", v, true),
            report("2026-09-06", v, true),
            report("2026-09-07", v, true),
            report("2025-12-31", t, false), // outside the period
        ];
        reports[0].consequences = vec![Consequence::Fear, Consequence::ConsideredLeaving];
        reports[1].consequences = vec![Consequence::Fear];
        reports[2].consequences = vec![Consequence::Fear];
        let alarms = vec![
            alarm("2026-03-02", false, Some(40)),
            alarm("2026-03-03", false, Some(10)),
            alarm("2026-03-04", false, Some(300)),
            alarm("2026-03-05", false, Some(20)),
            alarm("2026-03-06", false, None),
            alarm("2026-03-07", true, Some(1)), // a drill: never counted
        ];
        let election = Some((day("2026-08-15"), day("2026-09-13")));
        let f = figures(&year_2026(), &reports, &alarms, election);
        assert_eq!(f.reports, Count::Exact(7));
        assert_eq!(f.months.len(), 12);
        assert_eq!(f.months[2].month, "2026-03");
        assert_eq!(f.months[2].reports, Count::Exact(3));
        assert_eq!(f.months[2].alarms, Count::Exact(5));
        assert_eq!(f.months[8].reports, Count::Exact(4));
        assert_eq!(f.months[0].reports, Count::Exact(0));
        let by = |rows: &[Row], key: &str| rows.iter().find(|r| r.key == key).unwrap().count;
        assert_eq!(by(&f.by_event, "threat_harassment"), Count::Exact(4));
        assert_eq!(by(&f.by_event, "violence_damage_theft"), Count::Exact(3));
        assert_eq!(by(&f.by_event, "improper_influence"), Count::Exact(0));
        assert_eq!(by(&f.by_event, "unanswered"), Count::Exact(0));
        assert_eq!(by(&f.by_perpetrator, "unanswered"), Count::Exact(7));
        assert_eq!(by(&f.by_consequence, "fear"), Count::Exact(3));
        assert_eq!(by(&f.by_consequence, "considered_leaving"), Count::Few);
        assert_eq!(f.repeated, Count::Exact(7));
        assert_eq!(f.police.reported, Count::Exact(4));
        assert_eq!(f.police.not_reported, Count::Exact(3));
        assert_eq!(f.police.share_reported_percent, Some(57));
        assert_eq!(by(&f.police.reasons, "pointless"), Count::Exact(3));
        let e = f.election.clone().unwrap();
        assert_eq!((e.days_in_campaign, e.days_outside), (30, 335));
        assert_eq!(e.reports_in_campaign, Count::Exact(4));
        assert_eq!(e.reports_outside, Count::Exact(3));
        assert_eq!(e.per_30_days_in_campaign, Some(4.0));
        assert_eq!(e.per_30_days_outside, Some(0.3));
        assert_eq!(f.alarms.real, Count::Exact(5));
        assert_eq!(f.alarms.acknowledged, Count::Exact(4));
        assert_eq!(f.alarms.ack_median_seconds, Some(20));
        assert_eq!(f.alarms.ack_p90_seconds, Some(300));
        assert_eq!(f.alarms.escalated, Count::Few);

        // One kind of event only: the rest of the reports drop out, alarms stay.
        let only = Filter {
            event: v,
            ..year_2026()
        };
        let f = figures(&only, &reports, &alarms, election);
        assert_eq!(f.reports, Count::Exact(3));
        assert_eq!(f.police.share_reported_percent, Some(100));
        assert_eq!(f.alarms.real, Count::Exact(5));
    }

    #[test]
    fn a_share_or_rate_that_would_reveal_a_small_count_is_left_out() {
        let t = Some(EventType::ThreatHarassment);
        let reports = vec![
            report("2026-03-02", t, true),
            report("2026-03-03", t, false),
            report("2026-03-04", t, false),
            report("2026-03-05", t, false),
        ];
        let f = figures(
            &year_2026(),
            &reports,
            &[alarm("2026-03-02", false, Some(5))],
            Some((day("2026-03-01"), day("2026-03-02"))),
        );
        assert_eq!(f.police.reported, Count::Few);
        assert_eq!(f.police.share_reported_percent, None);
        let e = f.election.clone().unwrap();
        assert_eq!(e.reports_in_campaign, Count::Few);
        assert_eq!(e.per_30_days_in_campaign, None);
        assert_eq!(
            f.alarms.ack_median_seconds, None,
            "one time is one person's"
        );
        let csv = f.to_csv(true);
        assert!(csv.contains("police,reported,Polisanmälda,<3\n"), "{csv}");
        assert!(csv.contains("police,share_reported_percent,Andel polisanmälda (%),\n"));
        assert!(
            !csv.lines()
                .filter(|l| !l.contains(",days_"))
                .any(|l| l.ends_with(",1") || l.ends_with(",2")),
            "{csv}"
        );
    }

    #[test]
    fn filters_are_checked_and_default_to_the_last_twelve_months() {
        let today = day("2026-11-30");
        let f = Filter::parse(None, None, None, today).unwrap();
        assert_eq!((f.from, f.to), (day("2025-12-01"), today));
        assert_eq!(
            Filter::parse(Some("2026-02-01"), Some("2026-01-01"), None, today),
            Err(FilterError::EndBeforeStart)
        );
        assert!(matches!(
            Filter::parse(Some("igår"), None, None, today),
            Err(FilterError::BadDate("from", _))
        ));
        assert_eq!(
            Filter::parse(Some("2000-01-01"), None, None, today),
            Err(FilterError::TooLong)
        );
        assert!(matches!(
            Filter::parse(None, None, Some("hot"), today),
            Err(FilterError::BadEvent(_))
        ));
        assert_eq!(
            Filter::parse(None, None, Some("improper_influence"), today)
                .unwrap()
                .event,
            Some(EventType::ImproperInfluence)
        );
    }

    #[test]
    fn facts_come_from_the_report_and_old_kinds_count_in_the_new_categories() {
        let received = Utc.with_ymd_and_hms(2026, 5, 2, 8, 0, 0).unwrap();
        let old: IncidentReport =
            serde_json::from_str(r#"{"kind":"social_media","during":"hot"}"#).unwrap();
        let f = ReportFacts::of(&old, received);
        assert_eq!(f.occurred_on, day("2026-05-02"));
        assert_eq!(
            (f.event, f.channel),
            (
                Some(EventType::ThreatHarassment),
                Some(Channel::SocialMedia)
            )
        );
        let new: IncidentReport = serde_json::from_str(
            r#"{"started_at":"2026-04-30T22:00:00Z","event":"improper_influence","police_reported":true,
                "not_reported_reason":"pointless","consequences":["fear","fear"]}"#,
        )
        .unwrap();
        let f = ReportFacts::of(&new, received);
        assert_eq!(f.occurred_on, day("2026-04-30"));
        assert_eq!(
            f.not_reported_reason, None,
            "a reported report has no reason not to"
        );
        assert_eq!(f.consequences, vec![Consequence::Fear]);
        assert_eq!(
            consequences_from_column(&consequences_column(&[
                Consequence::Fear,
                Consequence::Other
            ])),
            vec![Consequence::Fear, Consequence::Other]
        );
        assert_eq!(consequences_from_column(""), vec![]);
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("<3"), "<3");
    }
}
