//! The server's bounds on time, memory and count: how long a client may take to send its
//! request, how many connections one address may hold, how much one device may send, how
//! many password checks run at once. They exist so that one hostile machine, or one enrolled
//! device, cannot stop or slow the alarm path. The defaults are the safe ones; a region that
//! raises a bound says so in `[limits]` of the config file, and the server logs it at start.

use std::time::Duration;

/// The longest a device may wait on `GET /v1/alarms/{id}` (the request timeout is longer).
pub const MAX_WAIT_SECS: u64 = 30;

use serde::Deserialize;

/// Every bound the server keeps. [`Limits::default`] is the safe setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A client must have sent a request's headers within this (also the keep-alive idle
    /// time between requests on one connection).
    pub header_read_timeout: Duration,
    /// A request body (JSON) must have arrived completely within this.
    pub body_timeout: Duration,
    /// An attachment chunk (up to 4 MiB) must have arrived completely within this.
    pub upload_body_timeout: Duration,
    /// The longest a request may take until its answer starts (long-polls wait 30 s at most).
    pub request_timeout: Duration,
    /// Connections held at once, in all.
    pub max_connections: usize,
    /// Connections held at once from one address (IPv6: one /64). At the cap the address's
    /// oldest idle connection is closed for the new one ([`crate::connections`]); a trusted
    /// proxy has no such cap.
    pub max_connections_per_peer: usize,
    /// Requests without a device token or an officer session in progress at once (login,
    /// enrollment, `/health`); beyond it they get 503, while devices and logged-in officers
    /// have capacity of their own.
    pub anonymous_in_flight: usize,
    /// Of those, at most this many from one address (IPv6: one /64), so that one client
    /// cannot hold them all.
    pub anonymous_per_address: usize,
    /// Requests in progress at once for one device.
    pub device_in_flight: usize,
    /// Reports, attachments and app bundles handled at once, from all devices together
    /// (the rest wait their turn); alarms, cancels, messages and check-ins never wait.
    pub bulk_in_flight: usize,
    /// Password checks (Argon2id, ~19 MiB each) running at once.
    pub hash_workers: usize,
    /// Password checks allowed to wait for a worker; beyond, 503 with `Retry-After`.
    pub hash_queue: usize,
    /// A dashboard session ends after this long without the page being open.
    pub session_idle: Duration,
    /// Wrong passwords, enrollment codes and device tokens.
    pub failures: FailureLimits,
    /// What one device may send.
    pub device: DeviceQuotas,
}

/// How many failures (wrong passwords, codes or tokens) are allowed within
/// [`FailureLimits::window`] before the next attempt is refused with 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureLimits {
    /// The window failures are counted in.
    pub window: Duration,
    /// Wrong enrollment codes per address (IPv6 by /64); wrong passwords per address and
    /// username together.
    pub per_address: usize,
    /// Wrong passwords from one browser the officer has signed in from before (its
    /// known-device cookie); past it the cookie counts for nothing.
    pub per_username: usize,
    /// For the whole server: past it every attempt is slowed down, nobody refused.
    pub global: usize,
    /// Device tokens that match nothing, per address: past it further wrong ones get 429. A
    /// token that matches is never refused for them.
    pub bad_tokens_per_address: usize,
    /// Uses of one revoked device token before it is answered (401) from memory instead of
    /// from the database.
    pub revoked_token_uses: usize,
}

/// What one device may send, counted in sliding windows. A retry of something already
/// stored (the same id, the same revision) is never counted twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceQuotas {
    /// New alarms (drills included) in 10 minutes.
    pub alarms_per_10_minutes: u64,
    /// New alarms in 24 hours.
    pub alarms_per_day: u64,
    /// Check-in revisions (a check-in or an extension) in an hour.
    pub checkins_per_hour: u64,
    /// Report revisions in an hour.
    pub report_revisions_per_hour: u64,
    /// Report bytes (the revisions' JSON) in 24 hours.
    pub report_bytes_per_day: u64,
    /// Attachments announced in 24 hours.
    pub attachments_per_day: u64,
    /// Attachment bytes uploaded in 24 hours.
    pub upload_bytes_per_day: u64,
    /// App bundles downloaded in 24 hours (each is megabytes: a device cannot fill the
    /// region's uplink with them).
    pub bundle_downloads_per_day: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            upload_body_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(45),
            max_connections: 8192,
            max_connections_per_peer: 256,
            anonymous_in_flight: 64,
            anonymous_per_address: 16,
            device_in_flight: 16,
            bulk_in_flight: default_hash_workers().max(2),
            hash_workers: default_hash_workers(),
            hash_queue: 4,
            session_idle: Duration::from_secs(30 * 60),
            failures: FailureLimits::default(),
            device: DeviceQuotas::default(),
        }
    }
}

impl Default for FailureLimits {
    fn default() -> Self {
        FailureLimits {
            window: Duration::from_secs(15 * 60),
            per_address: 10,
            per_username: 10,
            global: 300,
            bad_tokens_per_address: 60,
            revoked_token_uses: 20,
        }
    }
}

impl Default for DeviceQuotas {
    fn default() -> Self {
        DeviceQuotas {
            alarms_per_10_minutes: 30,
            alarms_per_day: 200,
            checkins_per_hour: 120,
            report_revisions_per_hour: 1000,
            // 64 of the largest reports a day; an ordinary one is a few kilobytes.
            report_bytes_per_day: 256 << 20,
            attachments_per_day: 1000,
            upload_bytes_per_day: 4 << 30,
            bundle_downloads_per_day: 10,
        }
    }
}

/// Half the cores, at least one: password checks never take the whole machine.
fn default_hash_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1)
}

/// `[limits]` in the config file: every key optional, times in seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    header_read_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    upload_body_timeout_seconds: Option<u64>,
    request_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
    max_connections_per_peer: Option<usize>,
    anonymous_in_flight: Option<usize>,
    anonymous_per_address: Option<usize>,
    device_in_flight: Option<usize>,
    bulk_in_flight: Option<usize>,
    hash_workers: Option<usize>,
    hash_queue: Option<usize>,
    session_idle_minutes: Option<u64>,
    failure_window_seconds: Option<u64>,
    failures_per_address: Option<usize>,
    failures_per_username: Option<usize>,
    failures_global: Option<usize>,
    bad_tokens_per_address: Option<usize>,
    revoked_token_uses: Option<usize>,
    alarms_per_10_minutes: Option<u64>,
    alarms_per_day: Option<u64>,
    checkins_per_hour: Option<u64>,
    report_revisions_per_hour: Option<u64>,
    report_bytes_per_day: Option<u64>,
    attachments_per_day: Option<u64>,
    upload_bytes_per_day: Option<u64>,
    bundle_downloads_per_day: Option<u64>,
}

impl LimitsFile {
    /// The limits with this file's values over the defaults, or what is out of range.
    pub fn resolve(&self) -> Result<Limits, String> {
        let d = Limits::default();
        let secs =
            |v: Option<u64>, def: Duration, key: &str, max: u64| -> Result<Duration, String> {
                match v {
                    None => Ok(def),
                    Some(s) if (1..=max).contains(&s) => Ok(Duration::from_secs(s)),
                    Some(s) => Err(format!("limits.{key} = {s}: must be 1 to {max}")),
                }
            };
        let count = |v: Option<usize>, def: usize, key: &str| -> Result<usize, String> {
            match v {
                None => Ok(def),
                Some(0) => Err(format!("limits.{key} must be at least 1")),
                Some(n) => Ok(n),
            }
        };
        let quota = |v: Option<u64>, def: u64, key: &str| -> Result<u64, String> {
            match v {
                None => Ok(def),
                Some(0) => Err(format!("limits.{key} must be at least 1")),
                Some(n) => Ok(n),
            }
        };
        Ok(Limits {
            header_read_timeout: secs(
                self.header_read_timeout_seconds,
                d.header_read_timeout,
                "header_read_timeout_seconds",
                60,
            )?,
            body_timeout: secs(
                self.body_timeout_seconds,
                d.body_timeout,
                "body_timeout_seconds",
                300,
            )?,
            upload_body_timeout: secs(
                self.upload_body_timeout_seconds,
                d.upload_body_timeout,
                "upload_body_timeout_seconds",
                3600,
            )?,
            request_timeout: secs(
                self.request_timeout_seconds,
                d.request_timeout,
                "request_timeout_seconds",
                600,
            )?
            .max(Duration::from_secs(MAX_WAIT_SECS + 5)),
            max_connections: count(self.max_connections, d.max_connections, "max_connections")?,
            max_connections_per_peer: count(
                self.max_connections_per_peer,
                d.max_connections_per_peer,
                "max_connections_per_peer",
            )?,
            anonymous_in_flight: count(
                self.anonymous_in_flight,
                d.anonymous_in_flight,
                "anonymous_in_flight",
            )?,
            anonymous_per_address: count(
                self.anonymous_per_address,
                d.anonymous_per_address,
                "anonymous_per_address",
            )?,
            device_in_flight: count(
                self.device_in_flight,
                d.device_in_flight,
                "device_in_flight",
            )?,
            bulk_in_flight: count(self.bulk_in_flight, d.bulk_in_flight, "bulk_in_flight")?,
            hash_workers: count(self.hash_workers, d.hash_workers, "hash_workers")?,
            hash_queue: self.hash_queue.unwrap_or(d.hash_queue),
            session_idle: match self.session_idle_minutes {
                None => d.session_idle,
                Some(m) if (1..=720).contains(&m) => Duration::from_secs(m * 60),
                Some(m) => {
                    return Err(format!(
                        "limits.session_idle_minutes = {m}: must be 1 to 720"
                    ))
                }
            },
            failures: FailureLimits {
                window: secs(
                    self.failure_window_seconds,
                    d.failures.window,
                    "failure_window_seconds",
                    24 * 3600,
                )?,
                per_address: count(
                    self.failures_per_address,
                    d.failures.per_address,
                    "failures_per_address",
                )?,
                per_username: count(
                    self.failures_per_username,
                    d.failures.per_username,
                    "failures_per_username",
                )?,
                global: count(self.failures_global, d.failures.global, "failures_global")?,
                bad_tokens_per_address: count(
                    self.bad_tokens_per_address,
                    d.failures.bad_tokens_per_address,
                    "bad_tokens_per_address",
                )?,
                revoked_token_uses: count(
                    self.revoked_token_uses,
                    d.failures.revoked_token_uses,
                    "revoked_token_uses",
                )?,
            },
            device: DeviceQuotas {
                alarms_per_10_minutes: quota(
                    self.alarms_per_10_minutes,
                    d.device.alarms_per_10_minutes,
                    "alarms_per_10_minutes",
                )?,
                alarms_per_day: quota(
                    self.alarms_per_day,
                    d.device.alarms_per_day,
                    "alarms_per_day",
                )?,
                checkins_per_hour: quota(
                    self.checkins_per_hour,
                    d.device.checkins_per_hour,
                    "checkins_per_hour",
                )?,
                report_revisions_per_hour: quota(
                    self.report_revisions_per_hour,
                    d.device.report_revisions_per_hour,
                    "report_revisions_per_hour",
                )?,
                report_bytes_per_day: quota(
                    self.report_bytes_per_day,
                    d.device.report_bytes_per_day,
                    "report_bytes_per_day",
                )?,
                attachments_per_day: quota(
                    self.attachments_per_day,
                    d.device.attachments_per_day,
                    "attachments_per_day",
                )?,
                upload_bytes_per_day: quota(
                    self.upload_bytes_per_day,
                    d.device.upload_bytes_per_day,
                    "upload_bytes_per_day",
                )?,
                bundle_downloads_per_day: quota(
                    self.bundle_downloads_per_day,
                    d.device.bundle_downloads_per_day,
                    "bundle_downloads_per_day",
                )?,
            },
        })
    }
}

impl Limits {
    /// Every bound set weaker (longer, larger) than the default, in words, for the log at
    /// start: a weaker setting is never silent.
    pub fn weaker_than_default(&self) -> Vec<String> {
        let d = Limits::default();
        let mut out = Vec::new();
        let mut dur = |name: &str, v: Duration, def: Duration| {
            if v > def {
                out.push(format!(
                    "{name} {} s (default {} s)",
                    v.as_secs(),
                    def.as_secs()
                ));
            }
        };
        dur(
            "header_read_timeout",
            self.header_read_timeout,
            d.header_read_timeout,
        );
        dur("body_timeout", self.body_timeout, d.body_timeout);
        dur(
            "upload_body_timeout",
            self.upload_body_timeout,
            d.upload_body_timeout,
        );
        dur("request_timeout", self.request_timeout, d.request_timeout);
        dur("session_idle", self.session_idle, d.session_idle);
        dur("failure_window", self.failures.window, d.failures.window);
        let counts = [
            (
                "max_connections",
                self.max_connections as u64,
                d.max_connections as u64,
            ),
            (
                "max_connections_per_peer",
                self.max_connections_per_peer as u64,
                d.max_connections_per_peer as u64,
            ),
            (
                "anonymous_in_flight",
                self.anonymous_in_flight as u64,
                d.anonymous_in_flight as u64,
            ),
            (
                "anonymous_per_address",
                self.anonymous_per_address as u64,
                d.anonymous_per_address as u64,
            ),
            (
                "device_in_flight",
                self.device_in_flight as u64,
                d.device_in_flight as u64,
            ),
            (
                "bulk_in_flight",
                self.bulk_in_flight as u64,
                d.bulk_in_flight as u64,
            ),
            (
                "hash_workers",
                self.hash_workers as u64,
                d.hash_workers as u64,
            ),
            ("hash_queue", self.hash_queue as u64, d.hash_queue as u64),
            (
                "failures_per_address",
                self.failures.per_address as u64,
                d.failures.per_address as u64,
            ),
            (
                "failures_per_username",
                self.failures.per_username as u64,
                d.failures.per_username as u64,
            ),
            (
                "failures_global",
                self.failures.global as u64,
                d.failures.global as u64,
            ),
            (
                "bad_tokens_per_address",
                self.failures.bad_tokens_per_address as u64,
                d.failures.bad_tokens_per_address as u64,
            ),
            (
                "revoked_token_uses",
                self.failures.revoked_token_uses as u64,
                d.failures.revoked_token_uses as u64,
            ),
            (
                "alarms_per_10_minutes",
                self.device.alarms_per_10_minutes,
                d.device.alarms_per_10_minutes,
            ),
            (
                "alarms_per_day",
                self.device.alarms_per_day,
                d.device.alarms_per_day,
            ),
            (
                "checkins_per_hour",
                self.device.checkins_per_hour,
                d.device.checkins_per_hour,
            ),
            (
                "report_revisions_per_hour",
                self.device.report_revisions_per_hour,
                d.device.report_revisions_per_hour,
            ),
            (
                "report_bytes_per_day",
                self.device.report_bytes_per_day,
                d.device.report_bytes_per_day,
            ),
            (
                "attachments_per_day",
                self.device.attachments_per_day,
                d.device.attachments_per_day,
            ),
            (
                "upload_bytes_per_day",
                self.device.upload_bytes_per_day,
                d.device.upload_bytes_per_day,
            ),
            (
                "bundle_downloads_per_day",
                self.device.bundle_downloads_per_day,
                d.device.bundle_downloads_per_day,
            ),
        ];
        for (name, v, def) in counts {
            if v > def {
                out.push(format!("{name} {v} (default {def})"));
            }
        }
        out
    }

    /// Limits for load benchmarks that push thousands of alarms and reports through a few
    /// devices: the device quotas lifted, everything else as in production. Never for a
    /// region (the server logs every quota it lifts), and not in the installed server: only
    /// with the `testkit` feature.
    #[cfg(any(test, feature = "testkit"))]
    pub fn for_load_benchmarks() -> Limits {
        Limits {
            device: DeviceQuotas {
                alarms_per_10_minutes: u64::MAX / 4,
                alarms_per_day: u64::MAX / 4,
                checkins_per_hour: u64::MAX / 4,
                report_revisions_per_hour: u64::MAX / 4,
                report_bytes_per_day: u64::MAX / 4,
                attachments_per_day: u64::MAX / 4,
                upload_bytes_per_day: u64::MAX / 4,
                bundle_downloads_per_day: u64::MAX / 4,
            },
            device_in_flight: 128,
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_section_is_the_default() {
        let f: LimitsFile = toml::from_str("").unwrap();
        assert_eq!(f.resolve().unwrap(), Limits::default());
        assert!(Limits::default().weaker_than_default().is_empty());
    }

    #[test]
    fn a_weaker_setting_is_named_and_a_wrong_one_refused() {
        let f: LimitsFile =
            toml::from_str("max_connections_per_peer = 2048\nalarms_per_day = 10").unwrap();
        let l = f.resolve().unwrap();
        assert_eq!(l.max_connections_per_peer, 2048);
        assert_eq!(l.device.alarms_per_day, 10);
        let weaker = l.weaker_than_default();
        assert_eq!(weaker.len(), 1, "{weaker:?}");
        assert!(
            weaker[0].starts_with("max_connections_per_peer 2048"),
            "{weaker:?}"
        );

        let zero: LimitsFile = toml::from_str("alarms_per_day = 0").unwrap();
        assert!(zero.resolve().unwrap_err().contains("alarms_per_day"));
        let long: LimitsFile = toml::from_str("header_read_timeout_seconds = 600").unwrap();
        assert!(long
            .resolve()
            .unwrap_err()
            .contains("header_read_timeout_seconds"));
        assert!(toml::from_str::<LimitsFile>("no_such_limit = 1").is_err());
    }

    #[test]
    fn the_request_timeout_always_outlasts_a_long_poll() {
        let f: LimitsFile = toml::from_str("request_timeout_seconds = 5").unwrap();
        assert!(f.resolve().unwrap().request_timeout.as_secs() > MAX_WAIT_SECS);
    }

    #[test]
    fn benchmark_limits_lift_only_the_device_quotas() {
        let l = Limits::for_load_benchmarks();
        assert_eq!(
            l.max_connections_per_peer,
            Limits::default().max_connections_per_peer
        );
        assert!(l
            .weaker_than_default()
            .iter()
            .any(|w| w.starts_with("alarms_per_day")));
    }
}
