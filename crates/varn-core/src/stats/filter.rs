//! What the figures cover: whole calendar months, at most [`MAX_MONTHS`], and optionally one
//! kind of event; parsed from a request with errors a person can act on.

use chrono::{Datelike, Months, NaiveDate};

use super::{month_of, MAX_MONTHS};
use crate::ptu::EventType;

/// What the figures cover: whole calendar months from `from` to `to`, and optionally one kind
/// of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// The first day of the first month.
    pub from: NaiveDate,
    /// The last day of the last month.
    pub to: NaiveDate,
    /// Only reports of this kind of event.
    pub event: Option<EventType>,
}

/// Why a filter cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Neither a month (`YYYY-MM`) nor a date (`YYYY-MM-DD`).
    #[error("{0}: \"{1}\" är ingen månad (ÅÅÅÅ-MM) / is not a month (YYYY-MM)")]
    BadMonth(&'static str, String),
    /// A day inside a month: statistics cover whole months.
    #[error(
        "{field}: statistiken gäller hela månader – fråga efter {field}={ask} / the statistics \
         cover whole months: ask for {field}={ask}"
    )]
    NotWholeMonth {
        /// `from` or `to`.
        field: &'static str,
        /// The month to ask for instead (`YYYY-MM`).
        ask: String,
    },
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

pub(super) fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The last day of `month`'s month.
pub(super) fn last_day(month: NaiveDate) -> NaiveDate {
    (month_of(month) + Months::new(1))
        .pred_opt()
        .unwrap_or(month)
}

impl Filter {
    /// The filter a request asks for: `from` and `to` as months (`YYYY-MM`; a date is taken
    /// when it is the first day of a month for `from`, the last for `to`), and `event`, each
    /// optional. By default the twelve months up to and including `today`'s.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        event: Option<&str>,
        today: NaiveDate,
    ) -> Result<Filter, FilterError> {
        // The month a field names, and whether it names its first or last day (or neither).
        let month = |field: &'static str, s: &str, start: bool| {
            if let Ok(m) = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d") {
                return Ok(m);
            }
            let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| FilterError::BadMonth(field, s.chars().take(40).collect()))?;
            let whole = if start {
                day == month_of(day)
            } else {
                day == last_day(day)
            };
            if whole {
                Ok(month_of(day))
            } else {
                // The whole months that hold the days asked for.
                Err(FilterError::NotWholeMonth {
                    field,
                    ask: month_key(day),
                })
            }
        };
        let last = match to.filter(|s| !s.is_empty()) {
            Some(s) => month("to", s, false)?,
            None => month_of(today),
        };
        let first = match from.filter(|s| !s.is_empty()) {
            Some(s) => month("from", s, true)?,
            None => last - Months::new(11),
        };
        if last < first {
            return Err(FilterError::EndBeforeStart);
        }
        if first + Months::new(MAX_MONTHS) <= last {
            return Err(FilterError::TooLong);
        }
        let event = match event.filter(|s| !s.is_empty()) {
            Some(s) => Some(
                EventType::parse(s)
                    .ok_or_else(|| FilterError::BadEvent(s.chars().take(40).collect()))?,
            ),
            None => None,
        };
        Ok(Filter {
            from: first,
            to: last_day(last),
            event,
        })
    }

    pub(super) fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The number of days covered.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Where a month lies: the period's first month, its last (both, for one month).
    pub(super) fn ends(&self, month: NaiveDate) -> (bool, bool) {
        (month == self.from, month == month_of(self.to))
    }
}
