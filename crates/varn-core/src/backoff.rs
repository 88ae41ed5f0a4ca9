//! The one backoff rule: exponential from a base, capped so that retries never stop for
//! long, with jitter between half and all of the step so that many devices (or a sender and
//! its peers) do not retry in step. The alarm and check-in drivers, sync's queue and the
//! server's alarm-centre sender all wait by it.

use std::time::Duration;

/// The wait before retry number `attempt` (0 for the first): `base` doubled `attempt` times,
/// at most `cap`, times a jitter between ½ and 1 (`unit` is a random number in `[0, 1)`).
pub fn step(base: Duration, cap: Duration, attempt: u32, unit: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    exp.min(cap).mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// Exponential backoff with jitter, capped so that retries never stop for long.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// Retries for an alarm: from 250 ms, doubling, at most 3 s apart.
    pub fn for_alarm() -> Self {
        Backoff {
            attempt: 0,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(3),
        }
    }

    /// A backoff with its own base and cap.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            attempt: 0,
            base,
            cap,
        }
    }

    /// The next delay; `unit` is a random number in `[0, 1)` (jitter between half and all of
    /// the exponential step, so many devices do not retry in step).
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let d = step(self.base, self.cap, self.attempt, unit);
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped_at_three_seconds() {
        let mut b = Backoff::for_alarm();
        let d0 = b.next_delay(1.0);
        let d1 = b.next_delay(1.0);
        assert_eq!(d0, Duration::from_millis(250));
        assert_eq!(d1, Duration::from_millis(500));
        for _ in 0..50 {
            let d = b.next_delay(1.0);
            assert!(d <= Duration::from_secs(3));
        }
        assert_eq!(
            b.next_delay(0.0),
            Duration::from_millis(1500),
            "jitter keeps at least half"
        );
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(125));
    }

    #[test]
    fn a_step_doubles_to_its_cap_and_keeps_at_least_half() {
        let (base, cap) = (Duration::from_millis(500), Duration::from_secs(30));
        assert_eq!(step(base, cap, 0, 1.0), base);
        assert_eq!(step(base, cap, 3, 1.0), Duration::from_secs(4));
        assert_eq!(step(base, cap, 10, 1.0), cap);
        assert_eq!(step(base, cap, u32::MAX, 0.0), cap / 2);
        assert_eq!(
            step(base, cap, 1, 7.0),
            Duration::from_secs(1),
            "unit is clamped"
        );
    }
}
