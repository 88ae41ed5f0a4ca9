//! What each device sends (alarms, check-ins, reports, attachments, bytes), counted in the
//! windows of [`DeviceQuotas`].

use super::*;

/// What a device's request would add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quota {
    /// A new alarm.
    Alarm,
    /// A check-in revision.
    Checkin,
    /// A report revision.
    ReportRevision,
    /// Report bytes.
    ReportBytes,
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
            Quota::ReportBytes => "report bytes",
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
                Quota::ReportBytes,
                Duration::from_secs(24 * 60 * MIN),
                q.report_bytes_per_day,
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
