//! Officer logins: slowed per username, refused per address and username together, never for
//! the officer's own browser.

use super::*;

/// The first failures of a username go at once; after that each attempt from a browser the
/// username has not signed in from waits a little longer, up to [`MAX_USERNAME_GAP`].
pub const FREE_USERNAME_FAILURES: u64 = 3;
/// The longest a username is slowed down between two attempts.
pub const MAX_USERNAME_GAP: Duration = Duration::from_secs(5);

/// The pause before the next attempt of a username that has failed `failures` times in the
/// window: none for the first few, then 1, 2, 4 … seconds, at most [`MAX_USERNAME_GAP`].
pub fn username_gap(failures: u64) -> Duration {
    if failures < FREE_USERNAME_FAILURES {
        return Duration::ZERO;
    }
    let doubled = 1u64 << (failures - FREE_USERNAME_FAILURES).min(16);
    Duration::from_secs(doubled).min(MAX_USERNAME_GAP)
}

/// Officer logins. Whom each count refuses, when the attacker shares an address (a venue's
/// Wi-Fi, the region's proxy) with the officer:
///
/// - per address *and* username: a hard refusal past the limit. It refuses that username
///   from that address only;
/// - per username: a growing pause between attempts ([`username_gap`]), never a lockout; an
///   attempt within the pause is answered with when to try again and not counted;
/// - per browser the officer has signed in from before (a *known device*: a signed cookie
///   for that username, as OWASP's device cookies): failures count against that cookie
///   alone, and neither the pause nor the other counts apply, so the officer's own browser
///   signs in at once whatever others send;
/// - in all: past the budget every attempt from an unknown browser waits
///   [`GLOBAL_SLOWDOWN`] first; nobody is refused for it.
pub struct LoginLimiter {
    limits: FailureLimits,
    tables: Mutex<LoginTables>,
}

struct LoginTables {
    pairs: Windows<(IpAddr, String)>,
    usernames: Windows<String>,
    /// When the next attempt of a username from an unknown browser may run.
    next_attempt: HashMap<String, Instant>,
    known: Windows<String>,
    global: Windows<()>,
}

impl LoginLimiter {
    /// A limiter with these limits: `per_address` for an address and username together,
    /// `per_username` for one known-device cookie, `global` for the slowdown.
    pub fn new(limits: FailureLimits) -> Self {
        LoginLimiter {
            tables: Mutex::new(LoginTables {
                pairs: Windows::new(limits.window),
                usernames: Windows::new(limits.window),
                next_attempt: HashMap::new(),
                known: Windows::new(limits.window),
                global: Windows::new(limits.window),
            }),
            limits,
        }
    }

    /// Takes a failure slot for a login attempt from `ip` for `username`, from a browser that
    /// showed the known-device cookie `known` (its id, already checked for this username),
    /// or says why not and for how long.
    pub fn begin(
        &self,
        ip: IpAddr,
        username: &str,
        known: Option<&str>,
    ) -> Result<FailureSlot<'_>, Refused> {
        let now = Instant::now();
        let username = username.trim().to_lowercase();
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = known {
            let id = id.to_string();
            let (n, _) = t.known.used(&id, now);
            // A cookie with too many failures of its own is no longer believed: its attempts
            // count as an unknown browser's.
            if n < self.limits.per_username as u64 && t.known.add(&id, 1, now) {
                t.global.add(&(), 1, now);
                return Ok(FailureSlot {
                    delay: Duration::ZERO,
                    give_back: Box::new(move || {
                        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
                        t.known.remove(&id, now);
                        t.global.remove(&(), now);
                    }),
                });
            }
        }
        let pair = (address_key(ip), username.clone());
        let (n, oldest) = t.pairs.used(&pair, now);
        if n >= self.limits.per_address as u64 {
            return Err(Refused::AddressAndUsername(wait_secs(oldest, now)));
        }
        let (failures, _) = t.usernames.used(&username, now);
        let earlier = t.next_attempt.get(&username).copied();
        if let Some(at) = earlier.filter(|at| *at > now) {
            return Err(Refused::Slowed(wait_secs(Some(at), now)));
        }
        if !t.pairs.add(&pair, 1, now) {
            return Err(Refused::AddressAndUsername(1));
        }
        if !t.usernames.add(&username, 1, now) {
            t.pairs.remove(&pair, now);
            return Err(Refused::Slowed(1));
        }
        let (spent, _) = t.global.used(&(), now);
        t.global.add(&(), 1, now);
        // Held for this attempt's own failure: a parallel attempt waits its turn.
        t.next_attempt
            .insert(username.clone(), now + username_gap(failures + 1));
        if t.next_attempt.len() > MAX_KEYS {
            t.next_attempt.retain(|_, at| *at > now);
        }
        Ok(FailureSlot {
            delay: if spent >= self.limits.global as u64 {
                GLOBAL_SLOWDOWN
            } else {
                Duration::ZERO
            },
            give_back: Box::new(move || {
                let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
                t.pairs.remove(&pair, now);
                t.usernames.remove(&username, now);
                t.global.remove(&(), now);
                match earlier {
                    Some(at) => t.next_attempt.insert(username, at),
                    None => t.next_attempt.remove(&username),
                };
            }),
        })
    }
}
