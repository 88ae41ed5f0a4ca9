//! Counting what clients do, in sliding windows: failures (wrong passwords, enrollment codes,
//! device tokens) per address, per username and for the whole server, and what each device
//! sends (alarms, check-ins, reports, attachments, bytes).
//!
//! A failure is counted *before* the expensive work it guards (an Argon2id check, a database
//! read): an attempt takes a [`FailureSlot`] first and gives it back only when it succeeds, so
//! a burst of parallel wrong logins from one address cannot run more checks than the limit
//! allows. Memory is bounded: entries expire one by one, and when a table is full of live
//! entries a new key is refused (as if the global limit were reached) instead of the table
//! being cleared, which would wipe every lockout.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::limits::{DeviceQuotas, FailureLimits};

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
    /// This username has used up its failures.
    Username(u64),
    /// The whole server has seen too many failures (or too many failing addresses).
    Global(u64),
}

impl Refused {
    /// Seconds to wait.
    pub fn wait(self) -> u64 {
        match self {
            Refused::Address(w) | Refused::Username(w) | Refused::Global(w) => w,
        }
    }
}

struct FailureTables {
    addresses: Windows<IpAddr>,
    usernames: Windows<String>,
    global: Windows<()>,
}

/// Failures per address, per username and in all, within one window.
pub struct FailureLimiter {
    limits: FailureLimits,
    tables: Mutex<FailureTables>,
}

/// An attempt in progress, counted as a failure unless [`FailureSlot::succeeded`] (or
/// [`FailureSlot::not_counted`], for attempts that failed for reasons of the server's own).
#[must_use = "a slot is a failure unless it is marked as a success"]
pub struct FailureSlot<'a> {
    limiter: &'a FailureLimiter,
    address: IpAddr,
    username: Option<String>,
    at: Instant,
}

impl FailureLimiter {
    /// A limiter with these limits.
    pub fn new(limits: FailureLimits) -> Self {
        FailureLimiter {
            tables: Mutex::new(FailureTables {
                addresses: Windows::new(limits.window),
                usernames: Windows::new(limits.window),
                global: Windows::new(limits.window),
            }),
            limits,
        }
    }

    /// Takes a failure slot for an attempt from `ip` (for `username`, if the attempt names
    /// one), or says why not and for how long.
    pub fn begin(&self, ip: IpAddr, username: Option<&str>) -> Result<FailureSlot<'_>, Refused> {
        let now = Instant::now();
        let address = address_key(ip);
        let username = username.map(|u| u.trim().to_lowercase());
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let (n, oldest) = t.addresses.used(&address, now);
        if n >= self.limits.per_address as u64 {
            return Err(Refused::Address(wait_secs(oldest, now)));
        }
        if let Some(u) = &username {
            let (n, oldest) = t.usernames.used(u, now);
            if n >= self.limits.per_username as u64 {
                return Err(Refused::Username(wait_secs(oldest, now)));
            }
        }
        let (n, oldest) = t.global.used(&(), now);
        if n >= self.limits.global as u64 {
            return Err(Refused::Global(wait_secs(oldest, now)));
        }
        if !t.addresses.add(&address, 1, now) {
            return Err(Refused::Global(1));
        }
        if let Some(u) = &username {
            if !t.usernames.add(u, 1, now) {
                t.addresses.remove(&address, now);
                return Err(Refused::Global(1));
            }
        }
        t.global.add(&(), 1, now);
        Ok(FailureSlot {
            limiter: self,
            address,
            username,
            at: now,
        })
    }

    /// Whether `ip` may try at all now (without taking a slot).
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let now = Instant::now();
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let (n, oldest) = t.addresses.used(&address_key(ip), now);
        if n >= self.limits.per_address as u64 {
            return Err(Refused::Address(wait_secs(oldest, now)));
        }
        Ok(())
    }

    fn give_back(&self, slot: &FailureSlot<'_>) {
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        t.addresses.remove(&slot.address, slot.at);
        if let Some(u) = &slot.username {
            t.usernames.remove(u, slot.at);
        }
        t.global.remove(&(), slot.at);
    }
}

impl FailureSlot<'_> {
    /// The attempt succeeded: it is not a failure.
    pub fn succeeded(self) {
        self.limiter.give_back(&self);
    }

    /// The attempt could not be judged (the database failed): not counted either way.
    pub fn not_counted(self) {
        self.limiter.give_back(&self);
    }
}

/// What a device's request would add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quota {
    /// A new alarm.
    Alarm,
    /// A check-in revision.
    Checkin,
    /// A report revision.
    ReportRevision,
    /// An attachment announced.
    Attachment,
    /// Attachment bytes.
    UploadBytes,
    /// An app bundle downloaded.
    BundleDownload,
}

impl Quota {
    /// In words, for the error.
    fn what(self) -> &'static str {
        match self {
            Quota::Alarm => "new alarms",
            Quota::Checkin => "check-ins",
            Quota::ReportRevision => "report revisions",
            Quota::Attachment => "attachments",
            Quota::UploadBytes => "attachment bytes",
            Quota::BundleDownload => "app bundle downloads",
        }
    }
}

/// A device went over a quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverQuota {
    /// Seconds until there is room again.
    pub wait: u64,
    /// What, in words (for the problem's detail).
    pub detail: String,
}

/// What each device has sent, in the windows of [`DeviceQuotas`].
pub struct Quotas {
    rules: Vec<(Quota, Duration, u64)>,
    used: Mutex<HashMap<(Quota, Duration), Windows<Uuid>>>,
}

/// Something a device was counted for, to be taken back if it turns out not to be new.
#[must_use]
#[derive(Debug)]
pub struct Taken {
    device: Uuid,
    kind: Quota,
    at: Instant,
}

impl Quotas {
    /// Quotas with these limits.
    pub fn new(q: &DeviceQuotas) -> Self {
        const MIN: u64 = 60;
        let rules = vec![
            (
                Quota::Alarm,
                Duration::from_secs(10 * MIN),
                q.alarms_per_10_minutes,
            ),
            (
                Quota::Alarm,
                Duration::from_secs(24 * 60 * MIN),
                q.alarms_per_day,
            ),
            (
                Quota::Checkin,
                Duration::from_secs(60 * MIN),
                q.checkins_per_hour,
            ),
            (
                Quota::ReportRevision,
                Duration::from_secs(60 * MIN),
                q.report_revisions_per_hour,
            ),
            (
                Quota::Attachment,
                Duration::from_secs(24 * 60 * MIN),
                q.attachments_per_day,
            ),
            (
                Quota::UploadBytes,
                Duration::from_secs(24 * 60 * MIN),
                q.upload_bytes_per_day,
            ),
            (
                Quota::BundleDownload,
                Duration::from_secs(24 * 60 * MIN),
                q.bundle_downloads_per_day,
            ),
        ];
        Quotas {
            used: Mutex::new(
                rules
                    .iter()
                    .map(|(k, w, _)| ((*k, *w), Windows::new(*w)))
                    .collect(),
            ),
            rules,
        }
    }

    /// Counts `amount` of `kind` for `device`, or refuses when that would go over a quota.
    pub fn take(&self, device: Uuid, kind: Quota, amount: u64) -> Result<Taken, OverQuota> {
        let now = Instant::now();
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        for (k, window, max) in self.rules.iter().filter(|(k, _, _)| *k == kind) {
            let Some(w) = used.get_mut(&(*k, *window)) else {
                continue;
            };
            let (n, oldest) = w.used(&device, now);
            if n.saturating_add(amount) > *max {
                return Err(OverQuota {
                    wait: wait_secs(oldest, now),
                    detail: format!(
                        "this device has sent its quota of {} ({max} in {} h); try again later",
                        kind.what(),
                        (window.as_secs() as f64 / 3600.0)
                    ),
                });
            }
        }
        for (k, window, _) in self.rules.iter().filter(|(k, _, _)| *k == kind) {
            if let Some(w) = used.get_mut(&(*k, *window)) {
                w.add(&device, amount, now);
            }
        }
        Ok(Taken {
            device,
            kind,
            at: now,
        })
    }

    /// Takes back what [`Quotas::take`] counted (the request stored nothing new).
    pub fn give_back(&self, taken: Taken) {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        for (k, window, _) in self.rules.iter().filter(|(k, _, _)| *k == taken.kind) {
            if let Some(w) = used.get_mut(&(*k, *window)) {
                w.remove(&taken.device, taken.at);
            }
        }
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
        let slots: Vec<_> = (0..3).map(|_| l.begin(ip, None).unwrap()).collect();
        assert!(matches!(l.begin(ip, None), Err(Refused::Address(w)) if (1..=60).contains(&w)));
        drop(slots); // all three failed
        assert!(l.begin(ip, None).is_err());
        // Another address of the same IPv6 /64 is the same machine; another IPv4 is not.
        assert!(l.begin("192.0.2.2".parse().unwrap(), None).is_ok());
    }

    #[test]
    fn a_success_gives_its_slot_back() {
        let l = FailureLimiter::new(limits(2, 100, 1000));
        let ip: IpAddr = "::1".parse().unwrap();
        for _ in 0..10 {
            l.begin(ip, None).unwrap().succeeded();
        }
        let _wrong = l.begin(ip, None).unwrap();
        l.begin(ip, None).unwrap().not_counted();
        assert!(l.begin(ip, None).is_ok());
    }

    #[test]
    fn usernames_and_the_whole_server_have_limits_of_their_own() {
        let l = FailureLimiter::new(limits(100, 2, 5));
        let ips: Vec<IpAddr> = (1..=9)
            .map(|i| format!("198.51.100.{i}").parse().unwrap())
            .collect();
        drop(l.begin(ips[0], Some("Hanna")).unwrap());
        drop(l.begin(ips[1], Some("hanna ")).unwrap());
        assert!(matches!(
            l.begin(ips[2], Some("HANNA")),
            Err(Refused::Username(_))
        ));
        drop(l.begin(ips[3], Some("olle")).unwrap());
        drop(l.begin(ips[4], None).unwrap());
        drop(l.begin(ips[5], None).unwrap());
        assert!(matches!(l.begin(ips[6], None), Err(Refused::Global(_))));
    }

    #[test]
    fn failures_expire_one_by_one() {
        let l = FailureLimiter::new(FailureLimits {
            window: Duration::from_millis(80),
            ..limits(2, 100, 1000)
        });
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        drop(l.begin(ip, None).unwrap());
        std::thread::sleep(Duration::from_millis(50));
        drop(l.begin(ip, None).unwrap());
        assert!(l.begin(ip, None).is_err());
        std::thread::sleep(Duration::from_millis(40));
        // The first has expired, the second not: room for exactly one.
        drop(l.begin(ip, None).unwrap());
        assert!(l.begin(ip, None).is_err());
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
