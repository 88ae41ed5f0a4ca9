//! Retention: how long the region keeps closed reports, finished alarms (those cancelled
//! under duress longer) and ended check-ins (`[retention]` in the server's config). Once a
//! day, and at start, what is past its time is deleted with its attachments and timeline, and
//! the database lets go of the bytes; the log says how many, never what. The facts the
//! statistics count are kept, so the region's figures do not change. Expired dashboard
//! sessions and enrollment codes are deleted on every run. Without a `[retention]` section nothing else is
//! deleted, and the server says so at start.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::store::{Cutoffs, Purged, StoreError};
use crate::AppState;

/// How often the job runs.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Alarms cancelled under duress are kept this long unless the config says otherwise: they
/// may become evidence long after the night itself (about five years).
pub const DURESS_ALARMS_DAYS: u32 = 1826;

/// `[retention]` in the config file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Closed reports, counted from the day their follow-up closed.
    pub reports_days: Option<u32>,
    /// Finished alarms (and ended check-ins), counted from the day they were received.
    pub alarms_days: Option<u32>,
    /// Finished alarms cancelled under duress: by default [`DURESS_ALARMS_DAYS`] once
    /// `alarms_days` is set (never shorter than it).
    pub duress_alarms_days: Option<u32>,
}

impl Retention {
    /// Refuses a retention of 0 days, and duress alarms kept shorter than the others.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("reports_days", self.reports_days),
            ("alarms_days", self.alarms_days),
            ("duress_alarms_days", self.duress_alarms_days),
        ] {
            if v == Some(0) {
                return Err(format!(
                    "retention.{name} must be at least 1 (leave it out to keep everything)"
                ));
            }
        }
        if let (Some(d), Some(a)) = (self.duress_alarms_days, self.alarms_days) {
            if d < a {
                return Err(format!(
                    "retention.duress_alarms_days ({d}) is shorter than alarms_days ({a}): an \
                     alarm cancelled under duress is kept at least as long as any other"
                ));
            }
        }
        Ok(())
    }

    /// Whether anything of the people's is ever deleted.
    pub fn is_on(&self) -> bool {
        self.reports_days.is_some()
            || self.alarms_days.is_some()
            || self.duress_alarms_days.is_some()
    }

    /// What is past its time at `now`. Expired dashboard sessions always are.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        let before = |days: Option<u32>| days.map(|d| now - chrono::Duration::days(i64::from(d)));
        let duress = self
            .duress_alarms_days
            .or(self.alarms_days.map(|_| DURESS_ALARMS_DAYS));
        Cutoffs {
            reports: before(self.reports_days),
            alarms: before(self.alarms_days),
            duress_alarms: before(duress),
            sessions: Some(now),
        }
    }
}

/// Runs retention once now.
pub async fn run_once(state: &AppState, retention: Retention) -> Result<Purged, StoreError> {
    let purged = state.store().purge(retention.cutoffs(state.now())).await?;
    tracing::info!(
        reports = purged.reports,
        attachments = purged.attachments,
        alarms = purged.alarms,
        checkins = purged.checkins,
        sessions = purged.sessions,
        enrollment_codes = purged.enrollment_codes,
        "retention: deleted what was past its time (the statistics keep their counts)"
    );
    Ok(purged)
}

/// Runs retention at start and then every [`EVERY`], until shutdown. Without `[retention]`
/// only expired sessions are deleted, and the server says so.
pub async fn run(state: AppState, retention: Retention) {
    if !retention.is_on() {
        tracing::info!(
            "retention: off (no [retention] in the config); reports, alarms and check-ins are kept"
        );
    }
    loop {
        if let Err(e) = run_once(&state, retention).await {
            tracing::error!("retention: the run failed (trying again tomorrow): {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = state.shutting_down() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_are_days_before_now_and_zero_is_refused() {
        let now = Utc::now();
        let days = |d: i64| Some(now - chrono::Duration::days(d));
        let r = Retention {
            reports_days: Some(365),
            ..Default::default()
        };
        assert_eq!(
            r.cutoffs(now),
            Cutoffs {
                reports: days(365),
                sessions: Some(now),
                ..Default::default()
            }
        );
        assert!(r.check().is_ok() && r.is_on());
        assert!(!Retention::default().is_on());
        assert_eq!(Retention::default().cutoffs(now).sessions, Some(now));
        let zero = Retention {
            alarms_days: Some(0),
            ..r
        };
        assert!(zero.check().unwrap_err().contains("alarms_days"));
    }

    #[test]
    fn alarms_under_duress_are_kept_five_years_unless_said_otherwise_and_never_shorter() {
        let now = Utc::now();
        let days = |d: i64| Some(now - chrono::Duration::days(d));
        let r = Retention {
            alarms_days: Some(90),
            ..Default::default()
        };
        assert_eq!(r.cutoffs(now).alarms, days(90));
        assert_eq!(r.cutoffs(now).duress_alarms, days(1826));
        let r = Retention {
            duress_alarms_days: Some(3650),
            ..r
        };
        assert_eq!(r.cutoffs(now).duress_alarms, days(3650));
        let short = Retention {
            duress_alarms_days: Some(30),
            ..r
        };
        assert!(short.check().unwrap_err().contains("duress_alarms_days"));
    }
}
