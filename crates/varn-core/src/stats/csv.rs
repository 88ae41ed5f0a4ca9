//! The figures as CSV: one line per figure (`section;key;label;value`), labels in Swedish or
//! English, hidden counts as hidden, as everywhere else. Made to open in columns in the
//! spreadsheet a region uses: a UTF-8 byte-order mark (so å, ä and ö read right), and the
//! separator of the language's Excel: `;` in Swedish (where `,` is the decimal mark), `,` in
//! English.

use super::{Count, Figures};

/// The UTF-8 byte-order mark: Excel reads the file as UTF-8 only with it.
const BOM: char = '\u{feff}';

fn csv_field(s: &str, separator: char) -> String {
    // Quoted when needed; a leading =, +, - or @ is defused so a spreadsheet never runs it.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([separator, ',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl Figures {
    /// The figures as CSV (`section;key;label;value` in Swedish, with `,` in English), with
    /// a byte-order mark, labels in Swedish or English.
    pub fn to_csv(&self, swedish: bool) -> String {
        let sep = if swedish { ';' } else { ',' };
        let mut out = format!("{BOM}section{sep}key{sep}label{sep}value\n");
        let mut line = |section: &str, key: &str, label: &str, value: String| {
            let fields = [section, key, label, &value].map(|f| csv_field(f, sep));
            out.push_str(&fields.join(&sep.to_string()));
            out.push('\n');
        };
        let pick = |sv: &'static str, en: &'static str| if swedish { sv } else { en };
        let count = |c: Count| c.text(swedish).to_string();
        line(
            "period",
            "from",
            pick("Från", "From"),
            self.from.to_string(),
        );
        line("period", "to", pick("Till", "To"), self.to.to_string());
        line(
            "period",
            "months",
            pick("Hela månader", "Whole months"),
            format!("{}..{}", self.first_month, self.last_month),
        );
        if let Some(e) = self.event {
            let (sv, en) = e.labels();
            line(
                "period",
                "event",
                pick("Typ av händelse", "Kind of event"),
                pick(sv, en).into(),
            );
        }
        line(
            "total",
            "reports",
            pick("Händelserapporter", "Incident reports"),
            count(self.reports),
        );
        for m in &self.months {
            line("month_reports", &m.month, &m.month, count(m.reports));
            line("month_alarms", &m.month, &m.month, count(m.alarms));
        }
        for (section, list) in [
            ("event", &self.by_event),
            ("channel", &self.by_channel),
            ("perpetrator", &self.by_perpetrator),
            ("consequence", &self.by_consequence),
            ("not_reported_reason", &self.police.reasons),
        ] {
            for r in list {
                line(section, r.key, pick(r.sv, r.en), count(r.count));
            }
        }
        line(
            "total",
            "sexual",
            pick("Av sexuell karaktär", "Of a sexual character"),
            count(self.sexual),
        );
        line(
            "total",
            "repeated",
            pick("Hade hänt förut", "Had happened before"),
            count(self.repeated),
        );
        line(
            "police",
            "reported",
            pick("Polisanmälda", "Reported to the police"),
            count(self.police.reported),
        );
        line(
            "police",
            "not_reported",
            pick("Inte polisanmälda", "Not reported"),
            count(self.police.not_reported),
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
                count(e.reports_in_campaign),
            );
            line(
                "election",
                "reports_outside",
                pick("Rapporter utanför", "Reports outside"),
                count(e.reports_outside),
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
            count(a.real),
        );
        line(
            "alarms",
            "from_checkin",
            pick("Från missad utcheckning", "From a missed check-out"),
            count(a.from_checkin),
        );
        line(
            "alarms",
            "acknowledged",
            pick("Kvitterade", "Acknowledged"),
            count(a.acknowledged),
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
            count(a.escalated),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("a,b", ';'), "\"a,b\"");
        assert_eq!(csv_field("a;b", ';'), "\"a;b\"");
        assert_eq!(csv_field("=1+1", ';'), "'=1+1");
        assert_eq!(csv_field("dold", ';'), "dold");
    }
}
