//! App updates: which published release is offered to a device, and when an update must wait.
//!
//! Both are safety rules. A newer version is decided by semantic versioning, never by the
//! text or the order of publication, so a region cannot offer an older build as an update by
//! mistake (and the updater also refuses a bundle whose signature was made for another version).
//! An update restarts the app, so it waits while anything a person relies on is open.

use semver::Version;

/// The newest of `published` (each with its version, read by `version`) that is strictly
/// newer than `current`, by semantic versioning. Versions that are not semver (a typo in
/// `release add`) are never offered.
pub fn newest_offer<T>(
    current: &str,
    published: impl IntoIterator<Item = T>,
    version: impl Fn(&T) -> &str,
) -> Option<T> {
    let current = Version::parse(current).ok()?;
    published
        .into_iter()
        .filter_map(|item| {
            Version::parse(version(&item))
                .ok()
                .map(|parsed| (parsed, item))
        })
        .filter(|(parsed, _)| *parsed > current)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, item)| item)
}

/// What [`is_version`] accepts, as a JSON Schema pattern.
pub const VERSION_PATTERN: &str =
    r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$";

/// Whether `version` is a release version as Värn writes them: `major.minor.patch`, each a
/// number of at most nine digits without a leading zero (the API's documented pattern; no
/// pre-release or build suffix, so a feed never compares by anything but three numbers).
pub fn is_version(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            (1..=9).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// The operating systems the updater names (`{{target}}`).
pub const TARGETS: &[&str] = &["linux", "windows", "darwin"];
/// The architectures the updater names (`{{arch}}`).
pub const ARCHES: &[&str] = &["x86_64", "aarch64", "i686", "armv7"];
/// The bundle types the updater names (`{{bundle_type}}`; `unknown` for an app that was not
/// installed from a bundle, such as a development build).
pub const BUNDLE_TYPES: &[&str] = &["deb", "rpm", "appimage", "msi", "nsis", "app", "unknown"];

/// `{target}-{arch}-{bundle type}` when all three are names the updater uses.
pub fn platform(target: &str, arch: &str, bundle_type: &str) -> Option<String> {
    (TARGETS.contains(&target) && ARCHES.contains(&arch) && BUNDLE_TYPES.contains(&bundle_type))
        .then(|| format!("{target}-{arch}-{bundle_type}"))
}

/// Why a bundle's signature cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The text is not what `tauri signer sign` writes (base64 of minisign's four lines).
    #[error("the signature is not a minisign signature as `cargo tauri signer sign` writes it")]
    Malformed,
    /// The signature is not bound to a version, so a feed could pair it with any version.
    #[error("the signature is not bound to a version: sign with `cargo tauri signer sign --app-version VERSION`")]
    NoVersion,
}

/// The version an updater signature is bound to: the `version:` field of minisign's trusted
/// comment (the `.sig` file is base64 of minisign's text). The updater checks the same field
/// after verifying the signature, so a release published under another version is refused on
/// the device; the server reads it to refuse such a release before any device sees it.
pub fn signed_version(signature: &str) -> Result<String, SignatureError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::Malformed)?;
    let text = String::from_utf8(bytes).map_err(|_| SignatureError::Malformed)?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 4 || !lines[0].starts_with("untrusted comment:") {
        return Err(SignatureError::Malformed);
    }
    let trusted = lines
        .iter()
        .find_map(|l| l.strip_prefix("trusted comment: "))
        .ok_or(SignatureError::Malformed)?;
    trusted
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"))
        .map(str::to_string)
        .ok_or(SignatureError::NoVersion)
}

/// What a device has open that an update (which restarts the app) must not interrupt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenWork {
    /// An alarm that is not cancelled.
    pub alarm: bool,
    /// A check-in that is running (not checked out).
    pub checkin: bool,
    /// Reports or attachments written on the device that the region does not have yet.
    pub unsynced_reports: usize,
}

/// Why an update waits; serialised as [`UpdateHold::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateHold {
    /// An alarm is open.
    Alarm,
    /// A check-in is running.
    Checkin,
    /// Reports have not reached the region yet.
    UnsyncedReports,
}

impl serde::Serialize for UpdateHold {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl UpdateHold {
    /// Its name, as the UI words it (`update.hold.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateHold::Alarm => "alarm",
            UpdateHold::Checkin => "checkin",
            UpdateHold::UnsyncedReports => "unsynced_reports",
        }
    }

    /// The first reason the update must wait, in order of what matters most; `None` when it may
    /// be installed now.
    pub fn of(open: OpenWork) -> Option<UpdateHold> {
        if open.alarm {
            Some(UpdateHold::Alarm)
        } else if open.checkin {
            Some(UpdateHold::Checkin)
        } else if open.unsynced_reports > 0 {
            Some(UpdateHold::UnsyncedReports)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer<'a>(current: &str, published: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        newest_offer(current, published, |v| v)
    }

    #[test]
    fn the_version_pattern_is_what_is_version_accepts() {
        let pattern = regex::Regex::new(VERSION_PATTERN).unwrap();
        for v in [
            "1.2.3",
            "0.0.0",
            "10.20.30",
            "999999999.0.1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-rc1",
            "1000000000.0.0",
            "",
            "a.b.c",
            "1..3",
            " 1.2.3",
        ] {
            assert_eq!(pattern.is_match(v), is_version(v), "{v:?}");
        }
    }

    #[test]
    fn the_newest_strictly_newer_semver_is_offered() {
        let published = ["0.1.1", "0.2.0", "0.10.0", "0.9.9"];
        assert_eq!(offer("0.1.0", published), Some("0.10.0"));
        assert_eq!(offer("0.10.0", published), None);
        assert_eq!(offer("0.2.0", ["0.2.0"]), None);
        // Text order would pick 0.9.9 over 0.10.0; publication order is not considered.
        assert_eq!(offer("0.9.0", ["0.10.0", "0.9.9"]), Some("0.10.0"));
    }

    #[test]
    fn older_and_non_semver_releases_are_never_offered() {
        assert_eq!(offer("1.0.0", ["0.9.0", "1.0", "latest", "v2"]), None);
        assert_eq!(offer("not a version", ["9.9.9"]), None);
        // A pre-release of the running version is older than it.
        assert_eq!(offer("1.0.0", ["1.0.0-rc.1"]), None);
        assert_eq!(offer("1.0.0-rc.1", ["1.0.0"]), Some("1.0.0"));
        assert!(is_version("0.1.1"));
        assert!(is_version("10.0.123456789"));
        for bad in [
            "0.1",
            "01.1.1",
            "1.0.0-rc.1",
            "1.0.0\n",
            "1.2.3.4",
            "1..3",
            "1234567890.0.0",
            "v1.0.0",
        ] {
            assert!(!is_version(bad), "{bad:?}");
        }
    }

    fn sig(trusted: &str) -> String {
        use base64::Engine;
        let text = format!("untrusted comment: signature from tauri secret key\nRUQ=\ntrusted comment: {trusted}\nAAA=\n");
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn the_signed_version_is_read_from_the_trusted_comment() {
        let bound = sig("timestamp:1764460800\tfile:varn_0.1.1_amd64.deb\tversion:0.1.1");
        assert_eq!(signed_version(&bound), Ok("0.1.1".into()));
        assert_eq!(signed_version(&format!("{bound}\n")), Ok("0.1.1".into()));
        let unbound = sig("timestamp:1764460800\tfile:varn_0.1.1_amd64.deb");
        assert_eq!(signed_version(&unbound), Err(SignatureError::NoVersion));
        assert_eq!(
            signed_version("not base64!"),
            Err(SignatureError::Malformed)
        );
        use base64::Engine;
        let other = base64::engine::general_purpose::STANDARD.encode("hello\nworld");
        assert_eq!(signed_version(&other), Err(SignatureError::Malformed));
    }

    #[test]
    fn platforms_are_the_updaters_names() {
        assert_eq!(
            platform("linux", "x86_64", "deb").as_deref(),
            Some("linux-x86_64-deb")
        );
        assert_eq!(platform("linux", "x86_64", "../x"), None);
        assert_eq!(platform("Linux", "x86_64", "deb"), None);
        assert_eq!(platform("linux", "", "deb"), None);
    }

    #[test]
    fn a_hold_is_serialised_as_its_name() {
        for hold in [
            UpdateHold::Alarm,
            UpdateHold::Checkin,
            UpdateHold::UnsyncedReports,
        ] {
            assert_eq!(serde_json::to_value(hold).unwrap(), hold.as_str());
        }
        assert_eq!(UpdateHold::UnsyncedReports.as_str(), "unsynced_reports");
    }

    #[test]
    fn an_update_waits_for_an_alarm_a_checkin_and_unsynced_reports() {
        assert_eq!(UpdateHold::of(OpenWork::default()), None);
        let all = OpenWork {
            alarm: true,
            checkin: true,
            unsynced_reports: 2,
        };
        assert_eq!(UpdateHold::of(all), Some(UpdateHold::Alarm));
        let checkin = OpenWork {
            checkin: true,
            unsynced_reports: 1,
            ..OpenWork::default()
        };
        assert_eq!(UpdateHold::of(checkin), Some(UpdateHold::Checkin));
        let reports = OpenWork {
            unsynced_reports: 1,
            ..OpenWork::default()
        };
        assert_eq!(UpdateHold::of(reports), Some(UpdateHold::UnsyncedReports));
    }
}
