//! Retention: how long the region keeps closed reports and finished alarms
//! (`[retention]` in the server's config). Once a day, and at start, what is past its time is
//! deleted with its attachments and timeline; the log says how many, never what. The facts
//! the statistics count are kept, so the region's figures do not change. Without a
//! `[retention]` section nothing is deleted, and the server says so at start.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::store::{Purged, StoreError};
use crate::AppState;

/// How often the job runs.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// `[retention]` in the config file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days a report is kept after its follow-up was closed.
    pub reports_days: Option<u32>,
    /// Days a finished alarm (acknowledged or cancelled) is kept after it was received.
    pub alarms_days: Option<u32>,
}

impl Retention {
    /// Checks the values: at least one day each, so that nothing is deleted the moment it is
    /// closed.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("reports_days", self.reports_days),
            ("alarms_days", self.alarms_days),
        ] {
            if v == Some(0) {
                return Err(format!(
                    "retention.{name} must be at least 1 (leave it out to keep everything)"
                ));
            }
        }
        Ok(())
    }

    /// Whether anything is ever deleted.
    pub fn is_on(&self) -> bool {
        self.reports_days.is_some() || self.alarms_days.is_some()
    }

    /// The moments before which closed reports and finished alarms are deleted, at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let before = |days: Option<u32>| days.map(|d| now - chrono::Duration::days(i64::from(d)));
        (before(self.reports_days), before(self.alarms_days))
    }
}

/// One run: deletes what is past its time and logs how many.
pub async fn run_once(state: &AppState, retention: Retention) -> Result<Purged, StoreError> {
    let (reports, alarms) = retention.cutoffs(state.now());
    let purged = state.store().purge(reports, alarms).await?;
    tracing::info!(
        reports = purged.reports,
        attachments = purged.attachments,
        alarms = purged.alarms,
        "retention: deleted what was past its time (the statistics keep their counts)"
    );
    Ok(purged)
}

/// The daily job, until the server shuts down.
pub async fn run(state: AppState, retention: Retention) {
    if !retention.is_on() {
        tracing::info!(
            "retention: off (no [retention] in the config); reports and alarms are kept"
        );
        return;
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
        let r = Retention {
            reports_days: Some(365),
            alarms_days: None,
        };
        assert_eq!(
            r.cutoffs(now),
            (Some(now - chrono::Duration::days(365)), None)
        );
        assert!(r.check().is_ok() && r.is_on());
        assert!(!Retention::default().is_on());
        let zero = Retention {
            alarms_days: Some(0),
            ..r
        };
        assert!(zero.check().unwrap_err().contains("alarms_days"));
    }
}
