//! The app PIN and the duress PIN: what a valid PIN is, and how long a person must wait after
//! wrong ones. Plain logic with the clock passed in, so the delays can be tested exactly; the
//! app keeps the state in its database so a restart does not reset it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The shortest PIN.
pub const MIN_LEN: usize = 4;
/// The longest PIN.
pub const MAX_LEN: usize = 8;
/// Wrong PINs allowed before the first wait.
pub const FREE_TRIES: u32 = 2;
/// The longest wait between two tries.
pub const MAX_WAIT_SECS: i64 = 15 * 60;

/// Why a PIN cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinFormatError {
    /// Not 4–8 digits.
    #[error("a PIN is {MIN_LEN}–{MAX_LEN} digits")]
    Digits,
    /// The duress PIN must differ from the app PIN.
    #[error("the duress PIN must differ from the PIN")]
    SameAsPin,
}

/// Checks that `pin` is 4–8 ASCII digits.
pub fn check_format(pin: &str) -> Result<(), PinFormatError> {
    if (MIN_LEN..=MAX_LEN).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinFormatError::Digits)
    }
}

/// Wrong tries so far and when the next one is allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    /// Wrong PINs since the last right one.
    pub failures: u32,
    /// No try is taken before this.
    pub not_before: Option<DateTime<Utc>>,
}

impl Throttle {
    /// `Err(seconds)` while the person must wait.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), i64> {
        match self.not_before {
            Some(t) if t > now => Err((t - now).num_seconds().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a wrong PIN; returns the wait in seconds before the next try (0 for the
    /// first [`FREE_TRIES`], then 5 s doubling up to [`MAX_WAIT_SECS`]).
    pub fn failed(&mut self, now: DateTime<Utc>) -> i64 {
        self.failures = self.failures.saturating_add(1);
        let wait = match self.failures.checked_sub(FREE_TRIES + 1) {
            None => 0,
            Some(n) => 5i64.saturating_mul(1i64 << n.min(20)).min(MAX_WAIT_SECS),
        };
        self.not_before = (wait > 0).then(|| now + Duration::seconds(wait));
        wait
    }

    /// A right PIN: the count starts again.
    pub fn succeeded(&mut self) {
        *self = Throttle::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + s, 0).unwrap()
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        for ok in ["1234", "12345678", "0000"] {
            assert_eq!(check_format(ok), Ok(()), "{ok}");
        }
        for bad in ["123", "123456789", "12a4", "", " 1234", "١٢٣٤"] {
            assert_eq!(check_format(bad), Err(PinFormatError::Digits), "{bad:?}");
        }
    }

    #[test]
    fn wrong_pins_wait_longer_each_time_up_to_fifteen_minutes() {
        let mut t = Throttle::default();
        assert_eq!(t.failed(at(0)), 0);
        assert_eq!(t.check(at(0)), Ok(()));
        assert_eq!(t.failed(at(0)), 0);
        assert_eq!(t.failed(at(0)), 5);
        assert_eq!(t.check(at(1)), Err(4));
        assert_eq!(t.check(at(5)), Ok(()));
        assert_eq!(t.failed(at(5)), 10);
        assert_eq!(t.failed(at(15)), 20);
        let waits: Vec<i64> = (0..10).map(|_| t.failed(at(100))).collect();
        assert_eq!(waits[..3], [40, 80, 160]);
        assert!(waits.iter().all(|w| *w <= MAX_WAIT_SECS));
        assert_eq!(*waits.last().unwrap(), MAX_WAIT_SECS);
        t.succeeded();
        assert_eq!(t.check(at(100)), Ok(()));
        assert_eq!(t.failed(at(100)), 0);
    }

    #[test]
    fn the_count_survives_a_round_trip_through_storage() {
        let mut t = Throttle::default();
        for _ in 0..4 {
            t.failed(at(0));
        }
        let back: Throttle = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert!(back.check(at(1)).is_err());
    }
}
