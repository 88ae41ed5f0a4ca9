//! Counting what clients do, in sliding windows: failures (wrong passwords, enrollment codes,
//! device tokens) per address, per username and for the whole server, and what each device
//! sends (alarms, check-ins, reports, attachments, bytes).
//!
//! The rule behind every count: a limit keyed by an address refuses everyone behind that
//! address (a venue's Wi-Fi, the region's proxy), so only what *fails* is counted and
//! refused, never what succeeds. A device token that matches is admitted whatever its
//! address has sent ([`WrongTokens`] counts after the lookup); a login is slowed per
//! username, refused only per address and username together, and never for the officer's
//! own browser ([`LoginLimiter`]); a global budget only slows attempts down.
//!
//! Where the work is expensive (an Argon2id check, an enrollment code), a failure is counted
//! *before* it: an attempt takes a [`FailureSlot`] first and gives it back only when it
//! succeeds, so a burst of parallel wrong attempts cannot run more checks than the limit
//! allows. Memory is bounded: entries expire one by one, and when a table is full of live
//! entries a new key is refused instead of the table being cleared, which would wipe every
//! count.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::limits::{DeviceQuotas, FailureLimits};

mod login;
mod quotas;
pub use login::{username_gap, LoginLimiter, FREE_USERNAME_FAILURES, MAX_USERNAME_GAP};
pub use quotas::{OverQuota, Quota, Quotas, Taken};

/// The most keys one table holds (addresses, usernames, devices).
pub const MAX_KEYS: usize = 100_000;

/// The key an address is counted under: IPv4 as it is, IPv6 by its /64 (one machine is
/// usually given a whole /64, so counting single IPv6 addresses would count nothing), and an
/// IPv4 address mapped into IPv6 as the IPv4 address.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Amounts recorded per key within a window, oldest first.
struct Windows<K> {
    window: Duration,
    entries: HashMap<K, VecDeque<(Instant, u64)>>,
    /// When expired entries were last swept from every key.
    swept: Instant,
}

impl<K: Hash + Eq + Clone> Windows<K> {
    fn new(window: Duration) -> Self {
        Windows {
            window,
            entries: HashMap::new(),
            swept: Instant::now(),
        }
    }

    fn expire(q: &mut VecDeque<(Instant, u64)>, window: Duration, now: Instant) {
        while q
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
    }

    /// Drops expired entries from every key, at most once per window unless `force`.
    fn sweep(&mut self, now: Instant, force: bool) {
        if !force && now.saturating_duration_since(self.swept) < self.window {
            return;
        }
        self.swept = now;
        let window = self.window;
        self.entries.retain(|_, q| {
            Self::expire(q, window, now);
            !q.is_empty()
        });
    }

    /// The amount recorded for `key` in the window, and when the oldest of it expires.
    fn used(&mut self, key: &K, now: Instant) -> (u64, Option<Instant>) {
        self.sweep(now, false);
        let window = self.window;
        match self.entries.get_mut(key) {
            None => (0, None),
            Some(q) => {
                Self::expire(q, window, now);
                let total = q.iter().map(|(_, n)| n).sum();
                (total, q.front().map(|(t, _)| *t + window))
            }
        }
    }

    /// Records `amount` for `key`; false when the table is full of live keys.
    fn add(&mut self, key: &K, amount: u64, now: Instant) -> bool {
        if !self.entries.contains_key(key) && self.entries.len() >= MAX_KEYS {
            self.sweep(now, true);
            if self.entries.len() >= MAX_KEYS {
                return false;
            }
        }
        self.entries
            .entry(key.clone())
            .or_default()
            .push_back((now, amount));
        true
    }

    /// Takes back one recorded entry made at `at` (an attempt that succeeded).
    fn remove(&mut self, key: &K, at: Instant) {
        if let Some(q) = self.entries.get_mut(key) {
            if let Some(i) = q.iter().rposition(|(t, _)| *t == at) {
                q.remove(i);
            }
            if q.is_empty() {
                self.entries.remove(key);
            }
        }
    }
}

/// Seconds until `until`, at least 1 (for `Retry-After`).
fn wait_secs(until: Option<Instant>, now: Instant) -> u64 {
    until
        .map(|t| t.saturating_duration_since(now).as_secs_f64().ceil() as u64)
        .unwrap_or(1)
        .max(1)
}

/// Why an attempt was refused before it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This address has used up its failures.
    Address(u64),
    /// This address has used up its failures for this username.
    AddressAndUsername(u64),
    /// This username is being slowed down after failures: the next attempt (not counted
    /// against anyone) after this many seconds.
    Slowed(u64),
}

impl Refused {
    /// Seconds to wait.
    pub fn wait(self) -> u64 {
        match self {
            Refused::Address(w) | Refused::AddressAndUsername(w) | Refused::Slowed(w) => w,
        }
    }
}

/// How long an attempt waits before it runs when the whole server has seen more failures
/// than its budget: the budget slows everyone's guessing down, it never refuses everyone.
pub const GLOBAL_SLOWDOWN: Duration = Duration::from_secs(1);

/// An attempt in progress, counted as a failure unless [`FailureSlot::succeeded`] (or
/// [`FailureSlot::not_counted`], for attempts that failed for reasons of the server's own).
#[must_use = "a slot is a failure unless it is marked as a success"]
pub struct FailureSlot<'a> {
    give_back: Box<dyn FnOnce() + Send + 'a>,
    /// Wait this long before the attempt runs (the global budget is spent).
    pub delay: Duration,
}

impl FailureSlot<'_> {
    /// The attempt succeeded: it is not a failure.
    pub fn succeeded(self) {
        (self.give_back)();
    }

    /// The attempt could not be judged (the database failed): not counted either way.
    pub fn not_counted(self) {
        (self.give_back)();
    }
}

/// Wrong enrollment codes: per address (a hard refusal past the limit) and in all (past the
/// budget every attempt is slowed, none refused).
pub struct FailureLimiter {
    limits: FailureLimits,
    tables: Mutex<FailureTables>,
}

struct FailureTables {
    addresses: Windows<IpAddr>,
    global: Windows<()>,
}

impl FailureLimiter {
    /// A limiter with these limits.
    pub fn new(limits: FailureLimits) -> Self {
        FailureLimiter {
            tables: Mutex::new(FailureTables {
                addresses: Windows::new(limits.window),
                global: Windows::new(limits.window),
            }),
            limits,
        }
    }

    /// Takes a failure slot for an attempt from `ip`, or says why not and for how long. The
    /// slot is taken before the work, so parallel attempts cannot exceed the limit.
    pub fn begin(&self, ip: IpAddr) -> Result<FailureSlot<'_>, Refused> {
        let now = Instant::now();
        let address = address_key(ip);
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let (n, oldest) = t.addresses.used(&address, now);
        if n >= self.limits.per_address as u64 {
            return Err(Refused::Address(wait_secs(oldest, now)));
        }
        if !t.addresses.add(&address, 1, now) {
            return Err(Refused::Address(1));
        }
        let (spent, _) = t.global.used(&(), now);
        t.global.add(&(), 1, now);
        Ok(FailureSlot {
            delay: if spent >= self.limits.global as u64 {
                GLOBAL_SLOWDOWN
            } else {
                Duration::ZERO
            },
            give_back: Box::new(move || {
                let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
                t.addresses.remove(&address, now);
                t.global.remove(&(), now);
            }),
        })
    }
}

/// Device tokens that matched nothing, counted *after* the lookup: a token that matches is admitted whatever its address has sent, so a flood of wrong tokens
/// from a shared address (a venue's Wi-Fi, a proxy) refuses only further wrong tokens. A
/// revoked token is counted against that token, not its address.
pub struct WrongTokens {
    per_address: u64,
    per_token: u64,
    tables: Mutex<(Windows<IpAddr>, Windows<String>)>,
}

/// What a wrong token gets: its 401, or 429 past the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongToken {
    /// Within the limit: say what is wrong.
    Answer,
    /// Past the limit: refuse, and say when to try again.
    TooMany(u64),
}

impl WrongTokens {
    /// `per_address` unknown tokens from one address, `per_token` uses of one revoked token,
    /// within `window`.
    pub fn new(window: Duration, per_address: usize, per_token: usize) -> Self {
        WrongTokens {
            per_address: per_address as u64,
            per_token: per_token as u64,
            tables: Mutex::new((Windows::new(window), Windows::new(window))),
        }
    }

    /// A token that matched no device came from `ip`.
    pub fn unknown(&self, ip: IpAddr) -> WrongToken {
        let now = Instant::now();
        let key = address_key(ip);
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        Self::count(&mut t.0, &key, self.per_address, now)
    }

    /// A revoked device's token (its hash) was used again: counted against that token.
    pub fn revoked(&self, token_hash: &str) {
        let now = Instant::now();
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let _ = Self::count(&mut t.1, &token_hash.to_string(), self.per_token, now);
    }

    /// Whether this token is known to be revoked, having been used past its count: it is
    /// then answered without asking the database (and the use counted, so that it stays
    /// known while it is used). A revocation is for good, so this never refuses a valid one.
    pub fn known_revoked(&self, token_hash: &str) -> bool {
        let now = Instant::now();
        let key = token_hash.to_string();
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let (n, _) = t.1.used(&key, now);
        if n < self.per_token {
            return false;
        }
        t.1.add(&key, 1, now);
        true
    }

    fn count<K: Hash + Eq + Clone>(
        w: &mut Windows<K>,
        key: &K,
        max: u64,
        now: Instant,
    ) -> WrongToken {
        let (n, oldest) = w.used(key, now);
        if n >= max {
            return WrongToken::TooMany(wait_secs(oldest, now));
        }
        if !w.add(key, 1, now) {
            return WrongToken::TooMany(1);
        }
        WrongToken::Answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: usize, per_username: usize, global: usize) -> FailureLimits {
        FailureLimits {
            window: Duration::from_secs(60),
            per_address,
            per_username,
            global,
            bad_tokens_per_address: 5,
            revoked_token_uses: 5,
        }
    }

    #[test]
    fn ipv6_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_slot_is_taken_before_the_work_so_parallel_attempts_cannot_exceed_the_limit() {
        let l = FailureLimiter::new(limits(3, 100, 1000));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        // Three attempts in flight at once, none finished yet.
        let slots: Vec<_> = (0..3).map(|_| l.begin(ip).unwrap()).collect();
        assert!(matches!(l.begin(ip), Err(Refused::Address(w)) if (1..=60).contains(&w)));
        drop(slots); // all three failed
        assert!(l.begin(ip).is_err());
        assert!(l.begin("192.0.2.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_success_gives_its_slot_back() {
        let l = FailureLimiter::new(limits(2, 100, 1000));
        let ip: IpAddr = "::1".parse().unwrap();
        for _ in 0..10 {
            l.begin(ip).unwrap().succeeded();
        }
        let _wrong = l.begin(ip).unwrap();
        l.begin(ip).unwrap().not_counted();
        assert!(l.begin(ip).is_ok());
    }

    #[test]
    fn the_global_budget_slows_attempts_down_and_refuses_nobody() {
        let l = FailureLimiter::new(limits(100, 100, 3));
        let ips: Vec<IpAddr> = (1..=6)
            .map(|i| format!("198.51.100.{i}").parse().unwrap())
            .collect();
        for ip in &ips[..3] {
            let slot = l.begin(*ip).unwrap();
            assert_eq!(slot.delay, Duration::ZERO);
            drop(slot);
        }
        for ip in &ips[3..] {
            let slot = l.begin(*ip).expect("never refused for the budget");
            assert_eq!(slot.delay, GLOBAL_SLOWDOWN);
            drop(slot);
        }
    }

    #[test]
    fn failures_expire_one_by_one() {
        let l = FailureLimiter::new(FailureLimits {
            window: Duration::from_millis(80),
            ..limits(2, 100, 1000)
        });
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        drop(l.begin(ip).unwrap());
        std::thread::sleep(Duration::from_millis(50));
        drop(l.begin(ip).unwrap());
        assert!(l.begin(ip).is_err());
        std::thread::sleep(Duration::from_millis(40));
        // The first has expired, the second not: room for exactly one.
        drop(l.begin(ip).unwrap());
        assert!(l.begin(ip).is_err());
    }

    #[test]
    fn a_username_is_slowed_progressively_and_never_locked() {
        assert_eq!(
            (0..10)
                .map(|k| username_gap(k).as_secs())
                .collect::<Vec<_>>(),
            vec![0, 0, 0, 1, 2, 4, 5, 5, 5, 5]
        );
        assert_eq!(username_gap(u64::MAX), MAX_USERNAME_GAP);
    }

    #[test]
    fn parallel_logins_for_one_username_wait_their_turn_uncounted() {
        let l = LoginLimiter::new(limits(10, 10, 1000));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        // The free failures run at once; the rest of a burst is told when to come back.
        let slots: Vec<_> = (0..3)
            .map(|_| l.begin(ip, "Hanna", None).unwrap())
            .collect();
        for _ in 0..77 {
            assert!(matches!(
                l.begin(ip, "hanna ", None),
                Err(Refused::Slowed(1))
            ));
        }
        drop(slots);
        // Another username is not slowed by hanna's failures.
        assert!(l.begin(ip, "olle", None).is_ok());
    }

    #[test]
    fn the_hard_refusal_is_for_one_address_and_one_username_together() {
        let l = LoginLimiter::new(FailureLimits {
            window: Duration::from_secs(60),
            ..limits(2, 10, 1000)
        });
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        drop(l.begin(a, "hanna", None).unwrap());
        drop(l.begin(a, "hanna", None).unwrap());
        assert!(matches!(
            l.begin(a, "hanna", None),
            Err(Refused::AddressAndUsername(_))
        ));
        assert!(l.begin(a, "olle", None).is_ok(), "another username");
        assert!(l.begin(b, "hanna", None).is_ok(), "another address");
    }

    #[test]
    fn a_known_browser_is_counted_on_its_own_and_never_slowed() {
        let l = LoginLimiter::new(limits(1, 3, 1));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        // Others have used the address's allowance, the username's turn and the budget.
        drop(l.begin(ip, "hanna", None).unwrap());
        assert!(l.begin(ip, "hanna", None).is_err());
        // The officer's own browser still goes at once.
        let slot = l.begin(ip, "hanna", Some("cookie-1")).unwrap();
        assert_eq!(slot.delay, Duration::ZERO);
        slot.succeeded();
        // A stolen cookie gets its own few failures, then counts as unknown.
        for _ in 0..3 {
            drop(l.begin(ip, "hanna", Some("cookie-2")).unwrap());
        }
        assert!(l.begin(ip, "hanna", Some("cookie-2")).is_err());
        assert!(l.begin(ip, "hanna", Some("cookie-1")).is_ok());
    }

    #[test]
    fn a_success_gives_back_the_username_turn() {
        let l = LoginLimiter::new(limits(10, 10, 1000));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            l.begin(ip, "hanna", None).unwrap().succeeded();
        }
        assert!(l.begin(ip, "hanna", None).is_ok());
    }

    #[test]
    fn wrong_tokens_are_refused_past_the_limit_per_address_and_revoked_per_token() {
        let w = WrongTokens::new(Duration::from_secs(60), 2, 2);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert_eq!(w.unknown(a), WrongToken::Answer);
        assert_eq!(w.unknown(a), WrongToken::Answer);
        assert!(matches!(w.unknown(a), WrongToken::TooMany(s) if (1..=60).contains(&s)));
        assert_eq!(w.unknown(b), WrongToken::Answer);
        assert!(!w.known_revoked("h1"));
        w.revoked("h1");
        w.revoked("h1");
        assert!(
            w.known_revoked("h1"),
            "past its count: answered from memory"
        );
        assert!(w.known_revoked("h1"));
        assert!(!w.known_revoked("h2"), "another token");
        assert_eq!(
            w.unknown(b),
            WrongToken::Answer,
            "revoked tokens are not the address's"
        );
    }

    #[test]
    fn a_full_table_refuses_new_keys_and_keeps_every_lockout() {
        let mut w: Windows<u32> = Windows::new(Duration::from_secs(600));
        let now = Instant::now();
        for k in 0..MAX_KEYS as u32 {
            assert!(w.add(&k, 1, now));
        }
        assert!(!w.add(&u32::MAX, 1, now), "full of live entries: refused");
        assert_eq!(w.used(&0, now).0, 1, "nothing was wiped");
        let later = now + Duration::from_secs(601);
        assert!(w.add(&u32::MAX, 1, later), "expired entries make room");
        assert_eq!(w.entries.len(), 1);
    }

    #[test]
    fn a_device_over_its_quota_is_refused_and_others_are_not() {
        let q = Quotas::new(&DeviceQuotas {
            alarms_per_10_minutes: 2,
            ..DeviceQuotas::default()
        });
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let first = q.take(a, Quota::Alarm, 1).unwrap();
        let _second = q.take(a, Quota::Alarm, 1).unwrap();
        let over = q.take(a, Quota::Alarm, 1).unwrap_err();
        assert!(
            over.wait >= 1 && over.detail.contains("new alarms"),
            "{over:?}"
        );
        assert!(
            q.take(b, Quota::Alarm, 1).is_ok(),
            "another device is not affected"
        );
        // A retry that stored nothing new is taken back.
        q.give_back(first);
        assert!(q.take(a, Quota::Alarm, 1).is_ok());
    }

    #[test]
    fn byte_quotas_count_amounts() {
        let q = Quotas::new(&DeviceQuotas {
            upload_bytes_per_day: 10,
            ..DeviceQuotas::default()
        });
        let d = Uuid::now_v7();
        let _ = q.take(d, Quota::UploadBytes, 6).unwrap();
        assert!(q.take(d, Quota::UploadBytes, 5).is_err());
        let _ = q.take(d, Quota::UploadBytes, 4).unwrap();
    }
}
