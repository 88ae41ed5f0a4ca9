//! The region's figures: incidents by month and by PTU's categories, the police-report share
//! and the reasons for not reporting, the election campaign against the rest of the period,
//! and how alarms went. Computed here, once, from the few facts the server keeps per report
//! and per alarm, for both database backends, the dashboard's charts, the JSON endpoint and
//! the CSV export.
//!
//! A period is whole calendar months, and the facts of a report keep only its month. Which
//! counts may be shown is one rule ([`suppress`]): no count of 1 or 2, none that the others
//! give away, none that differs by 1 or 2 from the answer a month shorter at either end. A
//! share or a rate is left out when a count it is made of is hidden. Drills are never counted
//! as alarms.

mod csv;
mod filter;
pub mod suppress;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Serialize, Serializer};

use crate::ptu::{Channel, Consequence, EventType, NotReportedReason, Perpetrator};
use crate::wire::IncidentReport;
use filter::{last_day, month_key};
pub use filter::{Filter, FilterError};
use suppress::{Cell, Shown, Table, Tally};

/// Counts below this (and above 0) are never shown.
pub const MIN_SHOWN: u64 = 3;
/// The longest period one request may cover, in months.
pub const MAX_MONTHS: u32 = 120;

/// What the server keeps of a report for the statistics: no text, no names, no device, no
/// day. It outlives the report when retention deletes it, so the figures stay the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    /// The first day of the month it happened in (the month it started, else the month it
    /// reached the server; UTC).
    pub month: NaiveDate,
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

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

impl ReportFacts {
    /// The facts of a report's newest revision. A report from before the follow-up fields
    /// gives its kind of event and channel from its old kind.
    pub fn of(report: &IncidentReport, received_at: DateTime<Utc>) -> ReportFacts {
        let f = report.followup.clone().normalised(report.police_reported);
        let (mut event, mut channel) = (f.event, f.channel);
        if event.is_none() && channel.is_none() {
            if let Some(kind) = report.kind {
                (event, channel) = crate::incident::from_legacy_kind(kind);
            }
        }
        ReportFacts {
            month: month_of(report.started_at.unwrap_or(received_at).date_naive()),
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

/// A count as the figures show it: exact, or hidden ([`suppress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// The count.
    Exact(u64),
    /// Hidden: too few, or one that would give a hidden count away. Which of the two is not
    /// said.
    Hidden,
}

impl Count {
    /// The word for a hidden count on the wire.
    pub const HIDDEN: &'static str = "hidden";

    /// The exact number, when it may be shown.
    pub fn exact(self) -> Option<u64> {
        match self {
            Count::Exact(n) => Some(n),
            Count::Hidden => None,
        }
    }

    /// The count as a person reads it.
    pub fn text(self, swedish: bool) -> std::borrow::Cow<'static, str> {
        match (self, swedish) {
            (Count::Exact(n), _) => n.to_string().into(),
            (Count::Hidden, true) => "dold".into(),
            (Count::Hidden, false) => "hidden".into(),
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::Hidden => f.write_str(Count::HIDDEN),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(n) => s.serialize_u64(*n),
            Count::Hidden => s.serialize_str(Count::HIDDEN),
        }
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
    /// Share reported, whole per cent, when both counts are shown.
    pub share_reported_percent: Option<u64>,
    /// Why not, for those not reported.
    pub reasons: Vec<Row>,
}

/// The election campaign's months against the rest of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Election {
    /// The campaign's first day (the profile's).
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
    /// Days of the period in the months the campaign touches.
    pub days_in_campaign: i64,
    /// Days of the period outside them.
    pub days_outside: i64,
    /// Reports from the campaign's months.
    pub reports_in_campaign: Count,
    /// Reports from the other months.
    pub reports_outside: Count,
    /// Reports per 30 days in the campaign's months (left out when the count is hidden).
    pub per_30_days_in_campaign: Option<f64>,
    /// Reports per 30 days outside them.
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
    /// Median seconds to acknowledgement (left out below three, or when hidden).
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
    /// First day (of the first month).
    pub from: NaiveDate,
    /// Last day (of the last month).
    pub to: NaiveDate,
    /// The first month covered, `YYYY-MM`.
    pub first_month: String,
    /// The last month covered, `YYYY-MM`.
    pub last_month: String,
    /// The kind of event filtered on.
    pub event: Option<EventType>,
    /// No count below this is shown.
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

/// A list's rows as cells, before the rule has said which may be shown.
struct Rows(Vec<(&'static str, &'static str, &'static str, Cell)>);

impl Rows {
    fn shown(&self, s: &Shown) -> Vec<Row> {
        self.0
            .iter()
            .map(|&(key, sv, en, c)| Row {
                key,
                sv,
                en,
                count: count(s, c),
            })
            .collect()
    }

    fn cells(&self) -> Vec<Cell> {
        self.0.iter().map(|r| r.3).collect()
    }
}

fn count(s: &Shown, c: Cell) -> Count {
    s.get(c).map_or(Count::Hidden, Count::Exact)
}

/// The period's tally of the facts that `pick` says yes to.
fn tally<T>(
    filter: &Filter,
    facts: &[T],
    month: impl Fn(&T) -> NaiveDate,
    pick: impl Fn(&T) -> bool,
) -> Tally {
    let mut t = Tally::default();
    for f in facts.iter().filter(|f| pick(f)) {
        let (first, last) = filter.ends(month(f));
        t.add(first, last);
    }
    t
}

/// A list's members, their wire names and their labels.
struct Words<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
    labels: fn(T) -> (&'static str, &'static str),
}

/// The [`Words`] of one of PTU's lists.
macro_rules! words {
    ($t:ty) => {
        Words {
            all: <$t>::ALL,
            name: <$t>::as_str,
            labels: <$t>::labels,
        }
    };
}

/// One list of members and *unanswered*, as cells that add up to `total`.
fn list<T: Copy + Eq>(
    table: &mut Table,
    total: Cell,
    words: Words<T>,
    value: impl Fn(&ReportFacts) -> Option<T>,
    filter: &Filter,
    reports: &[ReportFacts],
) -> Rows {
    let Words { all, name, labels } = words;
    let month = |r: &ReportFacts| r.month;
    let mut rows: Vec<_> = all
        .iter()
        .map(|&x| {
            let (sv, en) = labels(x);
            let c = table.cell(tally(filter, reports, month, |r| value(r) == Some(x)));
            (name(x), sv, en, c)
        })
        .collect();
    let none = table.cell(tally(filter, reports, month, |r| value(r).is_none()));
    rows.push((UNANSWERED.0, UNANSWERED.1, UNANSWERED.2, none));
    let rows = Rows(rows);
    table.group(total, rows.cells());
    rows
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
/// (first and last day; counted by the months it touches).
pub fn figures(
    filter: &Filter,
    reports: &[ReportFacts],
    alarms: &[AlarmFacts],
    election: Option<(NaiveDate, NaiveDate)>,
) -> Figures {
    let reports: Vec<ReportFacts> = reports
        .iter()
        .filter(|r| filter.covers(r.month))
        .filter(|r| filter.event.is_none() || r.event == filter.event)
        .cloned()
        .collect();
    let alarms: Vec<&AlarmFacts> = alarms
        .iter()
        .filter(|a| !a.drill && filter.covers(a.received_at.date_naive()))
        .collect();
    let r_month = |r: &ReportFacts| r.month;
    let a_month = |a: &&AlarmFacts| month_of(a.received_at.date_naive());
    let mut table = Table::new();
    let f = filter;

    // Reports: the total, and every way of cutting it.
    let total = table.cell(tally(f, &reports, r_month, |_| true));
    let mut month_starts = Vec::new();
    let mut m = f.from;
    while m <= f.to {
        month_starts.push(m);
        m = m + Months::new(1);
    }
    let report_months: Vec<Cell> = month_starts
        .iter()
        .map(|&m| table.cell(tally(f, &reports, r_month, |r| r.month == m)))
        .collect();
    table.group(total, report_months.clone());
    let by_event = list(
        &mut table,
        total,
        words!(EventType),
        |r| r.event,
        f,
        &reports,
    );
    let by_channel = list(
        &mut table,
        total,
        words!(Channel),
        |r| r.channel,
        f,
        &reports,
    );
    let by_perpetrator = list(
        &mut table,
        total,
        words!(Perpetrator),
        |r| r.perpetrator,
        f,
        &reports,
    );
    let by_consequence = Rows(
        Consequence::ALL
            .iter()
            .map(|&c| {
                let (sv, en) = c.labels();
                let cell = table.cell(tally(f, &reports, r_month, |r| r.consequences.contains(&c)));
                table.share(total, cell);
                (c.as_str(), sv, en, cell)
            })
            .collect(),
    );
    let sexual = table.cell(tally(f, &reports, r_month, |r| r.sexual == Some(true)));
    table.share(total, sexual);
    let repeated = table.cell(tally(f, &reports, r_month, |r| r.repeated == Some(true)));
    table.share(total, repeated);
    let reported = table.cell(tally(f, &reports, r_month, |r| r.police_reported));
    let not_reported = table.cell(tally(f, &reports, r_month, |r| !r.police_reported));
    table.group(total, vec![reported, not_reported]);
    let unreported: Vec<ReportFacts> = reports
        .iter()
        .filter(|r| !r.police_reported)
        .cloned()
        .collect();
    let reasons = list(
        &mut table,
        not_reported,
        words!(NotReportedReason),
        |r| r.not_reported_reason,
        f,
        &unreported,
    );

    // The campaign's months against the rest.
    let campaign = election.and_then(|(from, to)| {
        let (start, end) = (month_of(from).max(f.from), last_day(to).min(f.to));
        (start <= end).then_some((from, to, start, end))
    });
    let campaign = campaign.map(|(from, to, start, end)| {
        let within = move |m: NaiveDate| start <= m && m <= end;
        let inside = table.cell(tally(f, &reports, r_month, |r| within(r.month)));
        let outside = table.cell(tally(f, &reports, r_month, |r| !within(r.month)));
        table.group(total, vec![inside, outside]);
        let days_in = (end - start).num_days() + 1;
        (from, to, days_in, inside, outside)
    });

    // Alarms: the total, per month, and three shares.
    let real = table.cell(tally(f, &alarms, a_month, |_| true));
    let alarm_months: Vec<Cell> = month_starts
        .iter()
        .map(|&m| table.cell(tally(f, &alarms, a_month, |a| a_month(a) == m)))
        .collect();
    table.group(real, alarm_months.clone());
    let mut share_of_real = |pick: &dyn Fn(&&AlarmFacts) -> bool| {
        let c = table.cell(tally(f, &alarms, a_month, pick));
        table.share(real, c);
        c
    };
    let from_checkin = share_of_real(&|a| a.from_checkin);
    let acknowledged = share_of_real(&|a| a.ack_seconds.is_some());
    let escalated = share_of_real(&|a| a.escalated);

    let s = table.solve();
    let shown_reported = count(&s, reported);
    let shown_not = count(&s, not_reported);
    let share_reported_percent = match (shown_reported, shown_not) {
        (Count::Exact(yes), Count::Exact(no)) if yes + no > 0 => {
            Some((yes * 100 + (yes + no) / 2) / (yes + no))
        }
        _ => None,
    };
    let election = campaign.map(|(from, to, days_in, inside, outside)| {
        let (c_in, c_out) = (count(&s, inside), count(&s, outside));
        let days_out = f.days() - days_in;
        Election {
            from,
            to,
            days_in_campaign: days_in,
            days_outside: days_out,
            reports_in_campaign: c_in,
            reports_outside: c_out,
            per_30_days_in_campaign: per_30_days(c_in, days_in),
            per_30_days_outside: per_30_days(c_out, days_out),
        }
    });
    let mut ack: Vec<i64> = alarms.iter().filter_map(|a| a.ack_seconds).collect();
    ack.sort_unstable();
    let shown_ack = count(&s, acknowledged);
    let enough = shown_ack.exact().is_some_and(|n| n >= MIN_SHOWN);

    Figures {
        from: f.from,
        to: f.to,
        first_month: month_key(f.from),
        last_month: month_key(f.to),
        event: f.event,
        min_shown: MIN_SHOWN,
        reports: count(&s, total),
        months: month_starts
            .iter()
            .zip(report_months.iter().zip(&alarm_months))
            .map(|(&m, (&r, &a))| Month {
                month: month_key(m),
                reports: count(&s, r),
                alarms: count(&s, a),
            })
            .collect(),
        by_event: by_event.shown(&s),
        by_channel: by_channel.shown(&s),
        by_perpetrator: by_perpetrator.shown(&s),
        by_consequence: by_consequence.shown(&s),
        sexual: count(&s, sexual),
        repeated: count(&s, repeated),
        police: Police {
            reported: shown_reported,
            not_reported: shown_not,
            share_reported_percent,
            reasons: reasons.shown(&s),
        },
        election,
        alarms: Alarms {
            real: count(&s, real),
            from_checkin: count(&s, from_checkin),
            acknowledged: shown_ack,
            ack_median_seconds: enough.then(|| nearest_rank(&ack, 0.5)),
            ack_p90_seconds: enough.then(|| nearest_rank(&ack, 0.9)),
            escalated: count(&s, escalated),
        },
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
            month: month_of(day(on)),
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

    fn months(from: &str, to: &str) -> Filter {
        Filter::parse(Some(from), Some(to), None, day("2026-12-31")).unwrap()
    }

    fn row(rows: &[Row], key: &str) -> Count {
        rows.iter().find(|r| r.key == key).unwrap().count
    }

    #[test]
    fn hidden_counts_say_so_on_the_wire_and_in_both_languages() {
        assert_eq!(serde_json::to_value(Count::Hidden).unwrap(), "hidden");
        assert_eq!(serde_json::to_value(Count::Exact(7)).unwrap(), 7);
        assert_eq!(Count::Hidden.text(true), "dold");
        assert_eq!(Count::Hidden.text(false), "hidden");
        assert_eq!(Count::Exact(0).text(true), "0");
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
        let f = figures(&months("2026-01", "2026-12"), &reports, &alarms, election);
        assert_eq!(
            (f.first_month.as_str(), f.last_month.as_str()),
            ("2026-01", "2026-12")
        );
        assert_eq!((f.from, f.to), (day("2026-01-01"), day("2026-12-31")));
        assert_eq!(f.reports, Count::Exact(7));
        assert_eq!(f.months.len(), 12);
        assert_eq!(f.months[2].month, "2026-03");
        assert_eq!(f.months[2].reports, Count::Exact(3));
        assert_eq!(f.months[2].alarms, Count::Exact(5));
        assert_eq!(f.months[8].reports, Count::Exact(4));
        assert_eq!(f.months[0].reports, Count::Exact(0));
        assert_eq!(row(&f.by_event, "threat_harassment"), Count::Exact(4));
        assert_eq!(row(&f.by_event, "violence_damage_theft"), Count::Exact(3));
        assert_eq!(row(&f.by_event, "corruption"), Count::Exact(0));
        assert_eq!(row(&f.by_event, "unanswered"), Count::Exact(0));
        assert_eq!(row(&f.by_perpetrator, "unanswered"), Count::Exact(7));
        assert_eq!(row(&f.by_consequence, "fear"), Count::Exact(3));
        assert_eq!(row(&f.by_consequence, "considered_leaving"), Count::Hidden);
        assert_eq!(f.repeated, Count::Exact(7));
        assert_eq!(f.police.reported, Count::Exact(4));
        assert_eq!(f.police.not_reported, Count::Exact(3));
        assert_eq!(f.police.share_reported_percent, Some(57));
        assert_eq!(row(&f.police.reasons, "pointless"), Count::Exact(3));
        let e = f.election.clone().unwrap();
        // The campaign touches August and September: 61 days.
        assert_eq!((e.days_in_campaign, e.days_outside), (61, 304));
        assert_eq!(e.reports_in_campaign, Count::Exact(4));
        assert_eq!(e.reports_outside, Count::Exact(3));
        assert_eq!(e.per_30_days_in_campaign, Some(2.0));
        assert_eq!(e.per_30_days_outside, Some(0.3));
        // One escalated of five: hidden, and the four acknowledged with it (else 5 - 4).
        assert_eq!(f.alarms.real, Count::Exact(5));
        assert_eq!(f.alarms.escalated, Count::Hidden);
        assert_eq!(f.alarms.acknowledged, Count::Hidden);
        assert_eq!(f.alarms.ack_median_seconds, None);

        // One kind of event only: the rest of the reports drop out, alarms stay.
        let only = Filter {
            event: v,
            ..months("2026-01", "2026-12")
        };
        let f = figures(&only, &reports, &alarms, election);
        assert_eq!(f.reports, Count::Exact(3));
        assert_eq!(f.police.share_reported_percent, Some(100));
        assert_eq!(f.alarms.real, Count::Exact(5));
    }

    #[test]
    fn a_share_or_rate_made_of_a_hidden_count_is_left_out() {
        let t = Some(EventType::ThreatHarassment);
        let reports = vec![
            report("2026-03-02", t, true),
            report("2026-03-03", t, false),
            report("2026-03-04", t, false),
            report("2026-03-05", t, false),
            report("2026-03-06", t, false),
        ];
        let alarms: Vec<AlarmFacts> = (1..=4)
            .map(|d| alarm(&format!("2026-03-0{d}"), false, Some(5 * d)))
            .collect();
        let f = figures(
            &months("2026-01", "2026-12"),
            &reports,
            &alarms,
            Some((day("2026-03-01"), day("2026-03-02"))),
        );
        assert_eq!(f.police.reported, Count::Hidden);
        assert_eq!(f.police.not_reported, Count::Hidden, "else 5 - 4");
        assert_eq!(f.police.share_reported_percent, None);
        assert_eq!(f.alarms.acknowledged, Count::Exact(4));
        assert_eq!(f.alarms.ack_median_seconds, Some(10));
        let csv = f.to_csv(true);
        assert!(
            csv.starts_with("\u{feff}section;key;label;value\n"),
            "{csv}"
        );
        assert!(csv.contains("police;reported;Polisanmälda;dold\n"), "{csv}");
        assert!(csv.contains("police;share_reported_percent;Andel polisanmälda (%);\n"));
        assert!(csv.contains("period;months;Hela månader;2026-01..2026-12\n"));
        assert!(
            !csv.lines()
                .filter(|l| !l.contains(",days_"))
                .any(|l| l.ends_with(",1") || l.ends_with(",2")),
            "{csv}"
        );
    }

    #[test]
    fn periods_are_whole_months_and_default_to_the_last_twelve() {
        let today = day("2026-11-30");
        let f = Filter::parse(None, None, None, today).unwrap();
        assert_eq!((f.from, f.to), (day("2025-12-01"), day("2026-11-30")));
        let f = Filter::parse(Some("2026-02"), Some("2026-02"), None, today).unwrap();
        assert_eq!((f.from, f.to), (day("2026-02-01"), day("2026-02-28")));
        // A date that is a month's first (from) or last (to) day is that month.
        let f = Filter::parse(Some("2026-01-01"), Some("2026-06-30"), None, today).unwrap();
        assert_eq!((f.from, f.to), (day("2026-01-01"), day("2026-06-30")));
        // Any other day is refused, naming the month to ask for.
        let e = Filter::parse(Some("2026-01-01"), Some("2026-06-29"), None, today).unwrap_err();
        assert_eq!(
            e,
            FilterError::NotWholeMonth {
                field: "to",
                ask: "2026-06".into()
            }
        );
        assert!(e.to_string().contains("to=2026-06"), "{e}");
        assert!(matches!(
            Filter::parse(Some("2026-01-15"), None, None, today),
            Err(FilterError::NotWholeMonth { field: "from", .. })
        ));
        assert_eq!(
            Filter::parse(Some("2026-02"), Some("2026-01"), None, today),
            Err(FilterError::EndBeforeStart)
        );
        assert!(matches!(
            Filter::parse(Some("igår"), None, None, today),
            Err(FilterError::BadMonth("from", _))
        ));
        assert_eq!(
            Filter::parse(Some("2000-01"), None, None, today),
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
            Some(EventType::Corruption)
        );
    }

    #[test]
    fn facts_keep_the_month_and_old_kinds_count_in_the_new_categories() {
        let received = Utc.with_ymd_and_hms(2026, 5, 2, 8, 0, 0).unwrap();
        let old: IncidentReport =
            serde_json::from_str(r#"{"kind":"social_media","during":"hot"}"#).unwrap();
        let f = ReportFacts::of(&old, received);
        assert_eq!(f.month, day("2026-05-01"));
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
        assert_eq!(f.month, day("2026-04-01"));
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

    // --- The attacker: every answer, and every two a month apart --------------------------

    /// What a reader learns from one answer: groups of shown counts that add up to a total.
    /// A share (sexual, repeated, a consequence) stands with the rest as a cell never shown.
    /// A group's name, its total, and its cells (a cell never shown is `None`).
    type Group = (String, Count, Vec<(String, Option<Count>)>);

    fn groups(f: &Figures) -> Vec<Group> {
        let list = |name: &str, total: Count, rows: &[Row]| {
            let cells = rows
                .iter()
                .map(|r| (r.key.to_string(), Some(r.count)))
                .collect();
            (name.to_string(), total, cells)
        };
        let share = |name: &str, total: Count, c: Count| {
            (
                name.to_string(),
                total,
                vec![(name.to_string(), Some(c)), ("rest".into(), None)],
            )
        };
        let mut g = vec![
            list("event", f.reports, &f.by_event),
            list("channel", f.reports, &f.by_channel),
            list("perpetrator", f.reports, &f.by_perpetrator),
            list("reasons", f.police.not_reported, &f.police.reasons),
            (
                "police".into(),
                f.reports,
                vec![
                    ("reported".into(), Some(f.police.reported)),
                    ("not_reported".into(), Some(f.police.not_reported)),
                ],
            ),
            (
                "months".into(),
                f.reports,
                f.months
                    .iter()
                    .map(|m| (m.month.clone(), Some(m.reports)))
                    .collect(),
            ),
            (
                "alarm months".into(),
                f.alarms.real,
                f.months
                    .iter()
                    .map(|m| (m.month.clone(), Some(m.alarms)))
                    .collect(),
            ),
            share("sexual", f.reports, f.sexual),
            share("repeated", f.reports, f.repeated),
            share("from_checkin", f.alarms.real, f.alarms.from_checkin),
            share("acknowledged", f.alarms.real, f.alarms.acknowledged),
            share("escalated", f.alarms.real, f.alarms.escalated),
        ];
        for r in &f.by_consequence {
            g.push(share(r.key, f.reports, r.count));
        }
        if let Some(e) = &f.election {
            g.push((
                "campaign".into(),
                f.reports,
                vec![
                    ("in".into(), Some(e.reports_in_campaign)),
                    ("out".into(), Some(e.reports_outside)),
                ],
            ));
        }
        g
    }

    fn few(n: i64) -> bool {
        n == 1 || n == 2
    }

    /// Every count of 1 or 2 a reader can work out from one answer: a shown cell, or the one
    /// cell of a group that is not shown (its total minus the others).
    fn leaks_of_one(f: &Figures) -> Vec<String> {
        let mut out = Vec::new();
        for (name, total, cells) in groups(f) {
            for (key, c) in &cells {
                if let Some(Count::Exact(n)) = c {
                    if few(*n as i64) {
                        out.push(format!("{name}/{key} = {n}"));
                    }
                }
            }
            let unknown: Vec<&String> = cells
                .iter()
                .filter(|(_, c)| !matches!(c, Some(Count::Exact(_))))
                .map(|(k, _)| k)
                .collect();
            if let (Count::Exact(t), [only]) = (total, unknown.as_slice()) {
                let shown: u64 = cells
                    .iter()
                    .filter_map(|(_, c)| c.and_then(Count::exact))
                    .sum();
                let n = t as i64 - shown as i64;
                if few(n) {
                    out.push(format!("{name}/{only} = {total} - the rest = {n}"));
                }
            }
            // Hidden cells are never 0: as many of them as their sum means they are all ones.
            if let Count::Exact(t) = total {
                let shown: u64 = cells
                    .iter()
                    .filter_map(|(_, c)| c.and_then(Count::exact))
                    .sum();
                let hidden = cells
                    .iter()
                    .filter(|(_, c)| *c == Some(Count::Hidden))
                    .count();
                if hidden > 1 && unknown.len() == hidden && (t - shown) as usize == hidden {
                    out.push(format!("{name}: {hidden} hidden cells add up to {hidden}"));
                }
            }
        }
        out
    }

    /// Every count of 1 or 2 a reader can work out from two answers: the difference of a
    /// cell both show, or of the one cell of a group whose difference is not shown.
    fn leaks_of_two(a: &Figures, b: &Figures) -> Vec<String> {
        let mut out = Vec::new();
        for ((name, ta, ca), (_, tb, cb)) in groups(a).into_iter().zip(groups(b)) {
            let of = |cells: &[(String, Option<Count>)], key: &str| {
                cells
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, c)| c.and_then(Count::exact))
            };
            let mut unknown = Vec::new();
            let mut known = 0i64;
            let keys: Vec<String> = ca
                .iter()
                .map(|(k, _)| k.clone())
                .chain(cb.iter().map(|(k, _)| k.clone()))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            for key in &keys {
                let in_a = ca.iter().any(|(k, _)| k == key);
                let in_b = cb.iter().any(|(k, _)| k == key);
                let (x, y) = (of(&ca, key), of(&cb, key));
                match (in_a, in_b, x, y) {
                    (true, true, Some(x), Some(y)) => {
                        let d = x as i64 - y as i64;
                        if few(d.abs()) {
                            out.push(format!("{name}/{key}: {x} - {y}"));
                        }
                        known += d;
                    }
                    (true, false, Some(x), _) => known += x as i64,
                    (false, true, _, Some(y)) => known -= y as i64,
                    _ => unknown.push(key.clone()),
                }
            }
            if let (Count::Exact(x), Count::Exact(y), [only]) = (ta, tb, unknown.as_slice()) {
                let d = x as i64 - y as i64 - known;
                if few(d.abs()) {
                    out.push(format!("{name}/{only}: by the totals, {d}"));
                }
            }
        }
        out
    }

    /// A small deterministic generator (an LCG), so the sets are varied and the same each run.
    struct Dice(u64);

    impl Dice {
        fn roll(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }

        fn pick<T: Copy>(&mut self, all: &[T]) -> Option<T> {
            let i = self.roll(all.len() + 1);
            all.get(i).copied()
        }
    }

    fn random_report(d: &mut Dice, month: NaiveDate) -> ReportFacts {
        let police = d.roll(3) == 0;
        ReportFacts {
            month,
            event: d.pick(EventType::ALL),
            channel: d.pick(Channel::ALL),
            sexual: [None, Some(true), Some(false)][d.roll(3)],
            repeated: [None, Some(true), Some(false)][d.roll(3)],
            perpetrator: d.pick(Perpetrator::ALL),
            consequences: Consequence::ALL
                .iter()
                .copied()
                .filter(|_| d.roll(3) == 0)
                .collect(),
            police_reported: police,
            not_reported_reason: if police {
                None
            } else {
                d.pick(NotReportedReason::ALL)
            },
        }
    }

    /// The issue's set: 40 reports from January to May and one alone on 30 June (an organised
    /// group, by e-mail, of a sexual character, not reported, the person considered leaving).
    fn forty_and_one() -> (Vec<ReportFacts>, ReportFacts) {
        let mut d = Dice(41);
        let mut reports: Vec<ReportFacts> = (0..40)
            .map(|i| random_report(&mut d, day(&format!("2026-0{}-01", 1 + i % 5))))
            .collect();
        let lone = ReportFacts {
            month: month_of(day("2026-06-30")),
            event: Some(EventType::ThreatHarassment),
            channel: Some(Channel::Email),
            sexual: Some(true),
            repeated: Some(false),
            perpetrator: Some(Perpetrator::Organised),
            consequences: vec![Consequence::ConsideredLeaving],
            police_reported: false,
            not_reported_reason: None,
        };
        reports.push(lone.clone());
        (reports, lone)
    }

    /// Every whole-month period of 2026, and every answer to it.
    fn every_answer(reports: &[ReportFacts], alarms: &[AlarmFacts]) -> Vec<((u32, u32), Figures)> {
        let election = Some((day("2026-05-15"), day("2026-06-15")));
        let mut out = Vec::new();
        for a in 1..=12u32 {
            for b in a..=12u32 {
                let f = months(&format!("2026-{a:02}"), &format!("2026-{b:02}"));
                out.push(((a, b), figures(&f, reports, alarms, election)));
            }
        }
        out
    }

    fn no_answer_and_no_two_a_month_apart_leak(reports: &[ReportFacts], alarms: &[AlarmFacts]) {
        let answers = every_answer(reports, alarms);
        let find = |a: u32, b: u32| answers.iter().find(|(p, _)| *p == (a, b)).map(|(_, f)| f);
        for ((a, b), f) in &answers {
            let leaks = leaks_of_one(f);
            assert!(leaks.is_empty(), "2026-{a:02}..{b:02}: {leaks:?}");
            // The same period a month shorter at its end, and at its start.
            for other in [find(*a, b.wrapping_sub(1)), find(a + 1, *b)]
                .into_iter()
                .flatten()
            {
                let leaks = leaks_of_two(f, other);
                assert!(
                    leaks.is_empty(),
                    "2026-{a:02}..{b:02} against {}..{}: {leaks:?}",
                    other.first_month,
                    other.last_month
                );
            }
        }
    }

    #[test]
    fn a_lone_report_cannot_be_read_off_one_answer_or_two_a_month_apart() {
        let (reports, lone) = forty_and_one();
        no_answer_and_no_two_a_month_apart_leak(&reports, &[]);

        // The issue's two answers: January to June, and to May.
        let june = figures(&months("2026-01", "2026-06"), &reports, &[], None);
        let may = figures(&months("2026-01", "2026-05"), &reports, &[], None);
        assert_eq!(june.months[5].reports, Count::Hidden);
        assert_eq!(
            june.reports,
            Count::Hidden,
            "41 against 40 would give June's one away"
        );
        assert_eq!(row(&june.by_perpetrator, "organised"), Count::Hidden);
        assert_eq!(may.reports, Count::Exact(40));

        // The exact cells are the hand count.
        let hand = |f: &Figures, pick: &dyn Fn(&ReportFacts) -> bool| {
            let (from, to) = (f.from, f.to);
            reports
                .iter()
                .filter(|r| from <= r.month && r.month <= to && pick(r))
                .count() as u64
        };
        for f in [&june, &may] {
            let checks: Vec<(Count, u64)> = vec![
                (f.reports, hand(f, &|_| true)),
                (f.sexual, hand(f, &|r| r.sexual == Some(true))),
                (f.police.reported, hand(f, &|r| r.police_reported)),
                (
                    row(&f.by_perpetrator, "organised"),
                    hand(f, &|r| r.perpetrator == Some(Perpetrator::Organised)),
                ),
                (
                    row(&f.by_channel, "email"),
                    hand(f, &|r| r.channel == Some(Channel::Email)),
                ),
                (
                    row(&f.by_perpetrator, "unanswered"),
                    hand(f, &|r| r.perpetrator.is_none()),
                ),
                (
                    row(&f.by_consequence, "considered_leaving"),
                    hand(f, &|r| {
                        r.consequences.contains(&Consequence::ConsideredLeaving)
                    }),
                ),
            ];
            for (shown, counted) in checks {
                if let Count::Exact(n) = shown {
                    assert_eq!(n, counted);
                }
            }
        }

        // The attacker is not toothless: with the hidden cells filled in by hand, the two
        // answers give the lone report's perpetrator away.
        let fill = |f: &Figures| {
            let mut filled = f.clone();
            for r in &mut filled.by_perpetrator {
                let p = Perpetrator::parse(r.key);
                r.count = Count::Exact(hand(f, &|x| x.perpetrator == p));
            }
            filled.reports = Count::Exact(hand(f, &|_| true));
            filled
        };
        let leaks = leaks_of_two(&fill(&june), &fill(&may));
        assert!(
            leaks.iter().any(|l| l.contains("perpetrator/organised")),
            "{leaks:?}"
        );
        assert_eq!(lone.perpetrator, Some(Perpetrator::Organised));
    }

    #[test]
    fn no_set_lets_one_answer_or_two_a_month_apart_give_a_small_count_away() {
        // 60 varied sets: sparse (a report or two a month) to busy (a dozen), with alarms.
        for seed in 0..60u64 {
            let mut d = Dice(seed);
            let busy = 1 + (seed % 12) as usize;
            let mut reports = Vec::new();
            let mut alarms = Vec::new();
            for m in 1..=12u32 {
                let month = day(&format!("2026-{m:02}-01"));
                for _ in 0..d.roll(busy + 1) {
                    reports.push(random_report(&mut d, month));
                }
                for i in 0..d.roll(4) {
                    let on = format!("2026-{m:02}-{:02}", 1 + i);
                    let mut a = alarm(&on, false, [None, Some(30), Some(90)][d.roll(3)]);
                    a.from_checkin = d.roll(2) == 0;
                    alarms.push(a);
                }
            }
            no_answer_and_no_two_a_month_apart_leak(&reports, &alarms);
        }
    }
}
