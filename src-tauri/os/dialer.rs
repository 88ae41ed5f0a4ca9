//! Placing a call: the number goes to the system's dialer as a `tel:` link. A desktop often has
//! no `tel:` handler; then the person is shown the number large, to call from their mobile,
//! within the same tap. Never a silent nothing.

use serde::Serialize;

/// What happened when a call was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Handed to the system's dialer.
    Dialed,
    /// This computer has no program for `tel:` links.
    NoDialer,
    /// A dialer exists but would not take the number.
    DialFailed,
}

/// The system's dialer, behind a trait: the real one opens `tel:` links.
pub trait Dialer: Send + Sync + 'static {
    /// Dials a number (digits and a leading `+`).
    fn dial(&self, number: &str) -> CallOutcome;
}

/// Builds a `tel:` link from a number as printed; `None` if it holds no digits.
pub fn tel_uri(printed: &str) -> Option<String> {
    let digits = varn_core::profile::dial_string(printed);
    digits
        .chars()
        .any(|c| c.is_ascii_digit())
        .then(|| format!("tel:{digits}"))
}

/// Whether the system has a program for `tel:` links.
pub fn has_tel_handler() -> bool {
    #[cfg(target_os = "linux")]
    {
        // xdg-mime names the default handler, or prints nothing.
        std::process::Command::new("xdg-mime")
            .args(["query", "default", "x-scheme-handler/tel"])
            .output()
            .map(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
            .unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        // macOS (FaceTime / iPhone) and Windows (Phone Link) register tel: by default.
        true
    }
}

/// Opens a link with the system's default program.
type Opener = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The real dialer: a `tel:` link through the opener.
pub struct SystemDialer {
    open: Opener,
}

impl SystemDialer {
    /// A dialer that opens links with `open` (the app passes Tauri's opener).
    pub fn new(open: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Self {
        SystemDialer {
            open: Box::new(open),
        }
    }
}

impl Dialer for SystemDialer {
    fn dial(&self, number: &str) -> CallOutcome {
        let Some(uri) = tel_uri(number) else {
            return CallOutcome::DialFailed;
        };
        if !has_tel_handler() {
            return CallOutcome::NoDialer;
        }
        match (self.open)(&uri) {
            Ok(()) => CallOutcome::Dialed,
            Err(e) => {
                tracing::warn!("the dialer refused the number: {e}");
                CallOutcome::DialFailed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tel_uris_keep_digits_only() {
        assert_eq!(tel_uri("010-470 55 64").as_deref(), Some("tel:0104705564"));
        assert_eq!(
            tel_uri("+46 70 337 79 11").as_deref(),
            Some("tel:+46703377911")
        );
        assert_eq!(tel_uri("112").as_deref(), Some("tel:112"));
        assert_eq!(tel_uri("ring vakten"), None);
    }

    #[test]
    fn without_a_handler_the_opener_is_never_called() {
        if has_tel_handler() {
            return; // this machine has a dialer; the E2E test covers both cases
        }
        let d = SystemDialer::new(|_| panic!("must not open without a handler"));
        assert_eq!(d.dial("112"), CallOutcome::NoDialer);
    }
}
