//! Configuration: a TOML file, then environment variables and flags (which win).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use varn_core::profile::Profile;
use varn_core::signing::SignedProfile;

use crate::auth::ServerSecret;
use crate::escalation::{Contact, Escalation, SmtpConfig, SmtpNotifier};
use crate::limits::{Limits, LimitsFile};
use crate::retention::Retention;
use crate::store::Database;

/// The file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub bind: Option<String>,
    /// SQLite database file, or a `postgres://` URL for several instances (its password
    /// from `database_password_file` or `VARN_SERVER_DATABASE_PASSWORD`, never here).
    pub database: Option<String>,
    /// The file holding PostgreSQL's password (a relative name is read from systemd's
    /// credentials, `LoadCredential=`).
    pub database_password_file: Option<PathBuf>,
    /// The app's update key's public half (the `.pub` file): `release add` verifies every
    /// bundle's signature with it before publishing.
    pub update_key: Option<PathBuf>,
    /// The CA (PEM) that signed PostgreSQL's certificate, for `sslmode=require` with a
    /// private CA.
    pub database_ca: Option<PathBuf>,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Region profiles (TOML); the embedded Sörmland profile when empty.
    #[serde(default)]
    pub profiles: Vec<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (development only).
    #[serde(default)]
    pub insecure_dev: bool,
    /// The proxies (addresses or networks) whose forwarded header names the client, e.g.
    /// `["127.0.0.1/32", "::1/128"]` for a TLS proxy on the same machine. From anywhere else
    /// the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write the client into: `x-forwarded-for` (the default) or
    /// `forwarded` (RFC 7239).
    #[serde(default)]
    pub forwarded_header: crate::front::ForwardedHeader,
    /// The address people use when TLS ends at the proxy, e.g. `https://varn.region.example`:
    /// the session cookie is then `__Host-` and `Secure`, and every answer carries HSTS.
    pub public_url: Option<String>,
    /// The people alerted, in order, when nobody acknowledges an alarm in time.
    #[serde(default)]
    pub escalation: Vec<EscalationEntry>,
    /// The mail server those alerts go through.
    pub smtp: Option<SmtpConfig>,
    /// The file with the server's secret (enrollment codes are stored under it); beside a
    /// SQLite database by default, required for PostgreSQL (the same file on every instance).
    pub secret_file: Option<PathBuf>,
    /// Bounds on time, memory and count; every key optional (see `limits.rs`).
    #[serde(default)]
    pub limits: LimitsFile,
    /// How long closed reports and finished alarms are kept (see `retention.rs`).
    #[serde(default)]
    pub retention: Retention,
    /// The regions' 24/7 alarm centres (SIA DC-09; see `centre/mod.rs`).
    #[serde(default)]
    pub alarm_centre: Vec<AlarmCentreEntry>,
    /// The regions' identity providers, for officers' sign-in (see `oidc/mod.rs`).
    #[serde(default)]
    pub oidc: Vec<crate::oidc::OidcEntry>,
}

/// One region's alarm centre (`[[alarm_centre]]` in the file). The AES key is never in the
/// file: `key_file` names the file that holds it (a relative name is read from systemd's
/// credentials, `LoadCredential=`), or `key_env` the environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmCentreEntry {
    /// The region whose events go there.
    pub region: String,
    /// The receiver's host.
    pub host: String,
    /// Its TCP port.
    pub port: u16,
    /// The account at the centre (3–16 hexadecimal digits).
    pub account: String,
    /// The receiver number (hexadecimal, may be left out).
    #[serde(default)]
    pub receiver: String,
    /// The line number (hexadecimal).
    #[serde(default = "default_line")]
    pub line: String,
    /// The environment variable holding the AES key (32 hex characters; 16 or 24 are taken
    /// with a warning). No key is a config error unless `allow_cleartext = true`.
    pub key_env: Option<String>,
    /// The file holding the AES key (one or the other of `key_env` and this).
    pub key_file: Option<PathBuf>,
    /// The supervision interval in seconds (at least 20; 90 is SOS Access's shortest level): a
    /// supervision message goes after half of it without traffic, and a dead link shows
    /// within one interval.
    #[serde(default = "default_supervision")]
    pub supervision_seconds: u64,
    /// `skip` (the default) or `test` (drills go as manual tests, RX).
    #[serde(default = "default_drills")]
    pub drills: crate::centre::Drills,
    /// Send without a key, in clear text, anyone on the path reading it. Only when set; a
    /// clear-text message then carries no place.
    #[serde(default)]
    pub allow_cleartext: bool,
    /// The environment variable holding the key that takes over at `next_key_from` (a key
    /// change without losing messages); for the primary and every receiver using its key.
    pub next_key_env: Option<String>,
    /// The file holding that key.
    pub next_key_file: Option<PathBuf>,
    /// When the next key takes over (RFC 3339, e.g. `2027-01-01T00:00:00Z`).
    pub next_key_from: Option<String>,
    /// How long the receiver has to answer before a message goes to the next receiver
    /// (seconds, 2–60).
    #[serde(default = "default_failover")]
    pub failover_seconds: u64,
    /// The backup receivers, in order (`[[alarm_centre.backup]]`), each with its host and
    /// port and, if the centre says so, its own account and key.
    #[serde(default)]
    pub backup: Vec<BackupReceiver>,
}

/// A backup receiver of an alarm centre. Account and key are the primary's unless given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupReceiver {
    /// The receiver's host.
    pub host: String,
    /// Its TCP port.
    pub port: u16,
    /// Its own account (3–16 hexadecimal digits).
    pub account: Option<String>,
    /// The environment variable holding its own key.
    pub key_env: Option<String>,
    /// The file holding its own key.
    pub key_file: Option<PathBuf>,
}

fn default_failover() -> u64 {
    10
}

fn default_line() -> String {
    "1".into()
}

fn default_supervision() -> u64 {
    90
}

fn default_drills() -> crate::centre::Drills {
    crate::centre::Drills::Skip
}

impl AlarmCentreEntry {
    /// The centre as the sender uses it, with its key from its file (relative names under
    /// `credentials`) or from `env` (the process environment).
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
        credentials: Option<&Path>,
    ) -> Result<crate::centre::Centre, String> {
        let name = format!("alarm_centre (region {})", self.region);
        let hex = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
        };
        if self.region.trim().is_empty() || self.host.trim().is_empty() || self.port == 0 {
            return Err(format!("{name}: region, host and port are needed"));
        }
        if !(self.receiver.is_empty() || hex(&self.receiver, 1, 6)) || !hex(&self.line, 1, 6) {
            return Err(format!(
                "{name}: receiver and line are 1 to 6 hexadecimal digits"
            ));
        }
        if self.supervision_seconds < 20 {
            return Err(format!("{name}: supervision_seconds is at least 20"));
        }
        if !(2..=60).contains(&self.failover_seconds) {
            return Err(format!("{name}: failover_seconds is 2 to 60"));
        }
        let (interval, failover) = (
            std::time::Duration::from_secs(self.supervision_seconds),
            std::time::Duration::from_secs(self.failover_seconds),
        );
        if crate::centre::longest_unnoticed(interval, failover) > interval {
            return Err(format!(
                "{name}: failover_seconds is at most half of supervision_seconds, so that a dead \
                 link shows within one interval"
            ));
        }
        let key = |field: &str,
                   key_env: &Option<String>,
                   key_file: &Option<PathBuf>|
         -> Result<Option<crate::centre::dc09::Key>, String> {
            let value = match (key_env, key_file) {
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "{name}: {field}key_env or {field}key_file, not both"
                    ));
                }
                (None, None) => None,
                (Some(var), None) => Some(env(var).ok_or_else(|| {
                    format!("{name}: {field}key_env: the environment variable {var} is not set")
                })?),
                (None, Some(file)) => Some(
                    read_secret_file(file, credentials)
                        .map_err(|e| format!("{name}: {field}key_file: {e}"))?,
                ),
            };
            let Some(v) = value else { return Ok(None) };
            let key = crate::centre::dc09::Key::parse(&v)
                .map_err(|e| format!("{name}: {field}key: {e}"))?;
            if key.bits() < 256 {
                tracing::warn!(
                    "{name}: {field}key of {} characters (AES-{}); 32 characters are recommended",
                    key.bits() / 8,
                    key.bits()
                );
            }
            Ok(Some(key))
        };
        let route = |account: &str| crate::centre::dc09::Route {
            receiver: self.receiver.to_uppercase(),
            line: self.line.to_uppercase(),
            account: account.to_uppercase(),
        };
        let account = |field: &str, a: &str| {
            if hex(a, 3, 16) {
                Ok(())
            } else {
                Err(format!(
                    "{name}: {field}account is 3 to 16 hexadecimal digits"
                ))
            }
        };
        account("", &self.account)?;
        let primary_key = key("", &self.key_env, &self.key_file)?;
        let next_key = match (
            key("next_", &self.next_key_env, &self.next_key_file)?,
            &self.next_key_from,
        ) {
            (None, None) => None,
            (Some(k), Some(from)) => {
                let from = chrono::DateTime::parse_from_rfc3339(from)
                    .map_err(|_| format!("{name}: next_key_from \"{from}\" is not a time like 2027-01-01T00:00:00Z"))?
                    .with_timezone(&chrono::Utc);
                if primary_key.is_none() {
                    return Err(format!("{name}: a next key needs a key to follow"));
                }
                Some((k, from))
            }
            (Some(_), None) => {
                return Err(format!(
                    "{name}: next_key_from: when the next key takes over"
                ))
            }
            (None, Some(_)) => {
                return Err(format!(
                    "{name}: next_key_from without next_key_file or next_key_env"
                ))
            }
        };
        let mut receivers = vec![crate::centre::Receiver {
            name: "primär".into(),
            addr: format!("{}:{}", self.host, self.port),
            route: route(&self.account),
            key: primary_key.clone(),
            next_key: next_key.clone(),
        }];
        for (i, b) in self.backup.iter().enumerate() {
            let field = format!("backup[{i}].");
            if b.host.trim().is_empty() || b.port == 0 {
                return Err(format!("{name}: {field}host and {field}port are needed"));
            }
            let own_account = b.account.clone().unwrap_or_else(|| self.account.clone());
            account(&field, &own_account)?;
            let (own_key, own_next) = match key(&field, &b.key_env, &b.key_file)? {
                Some(k) => (Some(k), None),
                None => (primary_key.clone(), next_key.clone()),
            };
            receivers.push(crate::centre::Receiver {
                name: format!("reserv {}", i + 1),
                addr: format!("{}:{}", b.host, b.port),
                route: route(&own_account),
                key: own_key,
                next_key: own_next,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for r in &receivers {
            if !seen.insert(r.addr.to_ascii_lowercase()) {
                return Err(format!("{name}: the receiver {} is listed twice", r.addr));
            }
        }
        // Allowed clear text is logged once, when the server starts (server.rs).
        if !self.allow_cleartext && receivers.iter().any(|r| r.key.is_none()) {
            return Err(format!(
                "{name}: no key: set key_file or key_env (32 hexadecimal characters), or \
                 allow_cleartext = true to send in clear text without the place"
            ));
        }
        Ok(crate::centre::Centre {
            region: self.region.clone(),
            receivers,
            supervision: std::time::Duration::from_secs(self.supervision_seconds),
            timeout: std::time::Duration::from_secs(self.failover_seconds),
            drills: self.drills,
        })
    }
}

/// One person on a region's escalation list (`[[escalation]]` in the file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationEntry {
    /// The region whose alarms this person is alerted about.
    pub region: String,
    /// Name, shown in the app and on the dashboard.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Values from flags and environment (clap merges the two); `None` leaves the file's value.
#[derive(Debug, Default)]
pub struct Overrides {
    /// `--bind` / `VARN_SERVER_BIND`.
    pub bind: Option<String>,
    /// `--database` / `VARN_SERVER_DATABASE`.
    pub database: Option<String>,
    /// `--database-ca` / `VARN_SERVER_DATABASE_CA`.
    pub database_ca: Option<PathBuf>,
    /// `--tls-cert` / `VARN_SERVER_TLS_CERT`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key` / `VARN_SERVER_TLS_KEY`.
    pub tls_key: Option<PathBuf>,
    /// `--profile` (repeatable) / `VARN_SERVER_PROFILES` (comma-separated).
    pub profiles: Vec<PathBuf>,
    /// `--insecure-dev`.
    pub insecure_dev: bool,
    /// `--secret-file` / `VARN_SERVER_SECRET_FILE`.
    pub secret_file: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The SQLite file or the PostgreSQL database.
    pub database: Database,
    /// The CA of PostgreSQL's certificate.
    pub database_ca: Option<PathBuf>,
    /// Certificate and key, when serving TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Region profile files.
    pub profiles: Vec<PathBuf>,
    /// Plain HTTP on a non-loopback address was explicitly allowed.
    pub insecure_dev: bool,
    /// Trusted proxies and the public address.
    pub front: crate::front::Front,
    /// Escalation lists, in file order.
    pub escalation: Vec<EscalationEntry>,
    /// SMTP for escalation alerts.
    pub smtp: Option<SmtpConfig>,
    /// Where the server's secret is kept.
    pub secret_file: Option<PathBuf>,
    /// The file with PostgreSQL's password.
    pub database_password_file: Option<PathBuf>,
    /// The update key's public half, for `release add`.
    pub update_key: Option<PathBuf>,
    /// The bounds in force.
    pub limits: Limits,
    /// How long closed reports and finished alarms are kept.
    pub retention: Retention,
    /// The regions' alarm centres.
    pub centres: Vec<crate::centre::Centre>,
    /// The regions' identity providers, their client secrets read.
    pub oidc: Vec<crate::oidc::RegionOidc>,
}

/// Default listening address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default database file, relative to the working directory.
pub const DEFAULT_DATABASE: &str = "varn-server.db";

/// A configuration that cannot be used; the message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read or parsed.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A value is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A region profile is wrong.
    #[error("region profile {path}: {message}")]
    Profile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Reads the file (if any) and applies the overrides.
pub fn resolve(file: Option<&Path>, o: Overrides) -> Result<Config, ConfigError> {
    let f = match file {
        None => FileConfig::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            toml::from_str(&text).map_err(|e| ConfigError::File {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
        }
    };
    let bind_text = o
        .bind
        .or(f.bind)
        .unwrap_or_else(|| DEFAULT_BIND.to_string());
    let bind: SocketAddr = bind_text.parse().map_err(|_| {
        ConfigError::Invalid(format!(
            "bind address \"{bind_text}\" is not IP:port, e.g. 127.0.0.1:8080"
        ))
    })?;
    let tls = match (o.tls_cert.or(f.tls_cert), o.tls_key.or(f.tls_key)) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(ConfigError::Invalid(
                "TLS needs both a certificate (--tls-cert) and a key (--tls-key)".into(),
            ))
        }
    };
    let config = Config {
        bind,
        database: Database::parse(
            &o.database
                .or(f.database)
                .unwrap_or_else(|| DEFAULT_DATABASE.into()),
        ),
        database_ca: o.database_ca.or(f.database_ca),
        tls,
        profiles: if o.profiles.is_empty() {
            f.profiles
        } else {
            o.profiles
        },
        insecure_dev: o.insecure_dev || f.insecure_dev,
        front: crate::front::Front {
            trusted_proxies: crate::front::TrustedProxies::parse(
                &f.trusted_proxies,
                f.forwarded_header,
            )
            .map_err(ConfigError::Invalid)?,
            public_url: f
                .public_url
                .as_deref()
                .map(crate::front::PublicUrl::parse)
                .transpose()
                .map_err(ConfigError::Invalid)?,
        },
        escalation: f.escalation,
        smtp: f.smtp,
        secret_file: o.secret_file.or(f.secret_file),
        database_password_file: f.database_password_file,
        update_key: f.update_key,
        limits: f.limits.resolve().map_err(ConfigError::Invalid)?,
        retention: f.retention,
        centres: f
            .alarm_centre
            .iter()
            .map(|c| {
                c.resolve(
                    |var| std::env::var(var).ok(),
                    credentials_directory().as_deref(),
                )
            })
            .collect::<Result<_, _>>()
            .map_err(ConfigError::Invalid)?,
        oidc: f
            .oidc
            .iter()
            .map(|o| o.resolve(|p| read_secret_file(p, credentials_directory().as_deref())))
            .collect::<Result<_, _>>()
            .map_err(ConfigError::Invalid)?,
    };
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = config.oidc.iter().find(|o| !seen.insert(o.region.clone())) {
        return Err(ConfigError::Invalid(format!(
            "oidc: region {} is listed twice",
            twice.region
        )));
    }
    config.retention.check().map_err(ConfigError::Invalid)?;
    check_bind(&config)?;
    check_escalation(&config)?;
    Ok(config)
}

/// Every person on a list needs a name and an address, and alerts need a mail server.
pub fn check_escalation(c: &Config) -> Result<(), ConfigError> {
    for (i, e) in c.escalation.iter().enumerate() {
        if e.name.trim().is_empty() || e.region.trim().is_empty() {
            return Err(ConfigError::Invalid(format!(
                "escalation[{i}]: region and name must not be empty"
            )));
        }
        let at = e.email.find('@');
        if !at.is_some_and(|at| at > 0 && at + 1 < e.email.len())
            || e.email.contains(char::is_whitespace)
        {
            return Err(ConfigError::Invalid(format!(
                "escalation[{i}].email \"{}\" is not an e-mail address",
                e.email
            )));
        }
    }
    if !c.escalation.is_empty() && c.smtp.is_none() {
        return Err(ConfigError::Invalid(
            "the escalation list needs a mail server: add an [smtp] section (host, from)".into(),
        ));
    }
    Ok(())
}

/// Where systemd hands the service its credentials (`LoadCredential=`), when it does.
pub fn credentials_directory() -> Option<PathBuf> {
    std::env::var_os("CREDENTIALS_DIRECTORY")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// A secret from a file: an absolute path as it is, a relative one under `credentials`
/// (systemd's `$CREDENTIALS_DIRECTORY`); the trailing line end trimmed. A file that is
/// missing, unreadable or empty is an error that names it: never a silent fallback.
pub fn read_secret_file(path: &Path, credentials: Option<&Path>) -> Result<String, String> {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match credentials {
            Some(dir) => dir.join(path),
            None => {
                return Err(format!(
                    "{}: a relative secret file is read from systemd's credentials \
                     ($CREDENTIALS_DIRECTORY, LoadCredential=), which this process was not \
                     given; give an absolute path",
                    path.display()
                ))
            }
        }
    };
    let text = std::fs::read_to_string(&full)
        .map_err(|e| format!("secret file {}: {e}", full.display()))?;
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    if text.trim().is_empty() {
        return Err(format!("secret file {} is empty", full.display()));
    }
    Ok(text)
}

/// A secret from its environment variable (`env_name`, value `from_env`) or its file, at most
/// one of the two.
pub fn secret_value(
    env_name: &str,
    from_env: Option<String>,
    file: Option<&Path>,
) -> Result<Option<String>, String> {
    let from_env = from_env.filter(|v| !v.is_empty());
    match (from_env, file) {
        (Some(_), Some(f)) => Err(format!(
            "{env_name} and the file {} both give the secret: keep one",
            f.display()
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(f)) => read_secret_file(f, credentials_directory().as_deref()).map(Some),
        (None, None) => Ok(None),
    }
}

/// Builds the escalation lists and, when configured, the SMTP notifier (its password from
/// `[smtp] password_file` or `VARN_SERVER_SMTP_PASSWORD`, never from the file).
pub fn escalation(c: &Config, smtp_password: Option<String>) -> Result<Escalation, ConfigError> {
    let mut out = Escalation::default();
    for e in &c.escalation {
        out.lists
            .entry(e.region.clone())
            .or_default()
            .push(Contact {
                name: e.name.clone(),
                email: e.email.clone(),
            });
    }
    if let Some(smtp) = &c.smtp {
        let n = SmtpNotifier::new(smtp, smtp_password).map_err(ConfigError::Invalid)?;
        out.notifier = Some(std::sync::Arc::new(n));
    }
    Ok(out)
}

/// Where the server's secret is kept: the configured file, else `<database>.secret` beside a
/// SQLite file (made on first use); none on PostgreSQL without one.
pub fn secret_file_name(c: &Config) -> Option<PathBuf> {
    match (&c.secret_file, &c.database) {
        (Some(p), _) => Some(p.clone()),
        (None, Database::Sqlite(db)) => {
            let mut name = db.as_os_str().to_owned();
            name.push(".secret");
            Some(PathBuf::from(name))
        }
        (None, Database::Postgres(_)) => None,
    }
}

/// The server's secret: from `VARN_SERVER_SECRET` (its text form) if given, else from the
/// secret file; for a SQLite database the file defaults to `<database>.secret` and is
/// created on first use. PostgreSQL instances must share one, so it is never made up there.
pub fn secret(c: &Config, from_env: Option<String>) -> Result<ServerSecret, ConfigError> {
    if let Some(text) = from_env.filter(|t| !t.trim().is_empty()) {
        return ServerSecret::decode(&text)
            .map_err(|e| ConfigError::Invalid(format!("VARN_SERVER_SECRET: {e}")));
    }
    let (path, create) = match (secret_file_name(c), &c.secret_file) {
        (Some(p), given) => (p, given.is_none()),
        (None, _) => {
            return Err(ConfigError::Invalid(
                "with PostgreSQL every instance needs the same server secret: create one with \
                 `varn-server secret new > /etc/varn-server/secret` and give it with \
                 --secret-file (or VARN_SERVER_SECRET_FILE, or secret_file in the config)"
                    .into(),
            ))
        }
    };
    ServerSecret::load_or_create(&path, create).map_err(|e| {
        ConfigError::Invalid(format!(
            "server secret: {e}{}",
            if create {
                ""
            } else {
                " (create one with `varn-server secret new`)"
            }
        ))
    })
}

/// Refuses plain HTTP on an address other machines can reach, unless `--insecure-dev`.
pub fn check_bind(c: &Config) -> Result<(), ConfigError> {
    if c.tls.is_none() && !c.bind.ip().is_loopback() && !c.insecure_dev {
        return Err(ConfigError::Invalid(format!(
            "refusing to serve plain HTTP on {} (not loopback): alarms and tokens would travel \
             unencrypted. Give --tls-cert and --tls-key, bind to 127.0.0.1, or pass \
             --insecure-dev for a development setup",
            c.bind
        )));
    }
    Ok(())
}

/// Loads the region profiles to start with: each file a signed profile (from
/// `varn-server profile sign`) or a plain one (TOML or JSON, served unsigned); the embedded
/// default (unsigned) when none are configured.
pub fn load_profiles(c: &Config) -> Result<Vec<SignedProfile>, ConfigError> {
    if c.profiles.is_empty() {
        return Profile::embedded_default()
            .map(|p| vec![SignedProfile::unsigned(&p)])
            .map_err(|e| ConfigError::Profile {
                path: "(embedded)".into(),
                message: e.to_string(),
            });
    }
    let mut out: Vec<SignedProfile> = Vec::new();
    let mut regions: Vec<String> = Vec::new();
    for path in &c.profiles {
        let fail = |message: String| ConfigError::Profile {
            path: path.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let signed = SignedProfile::read_any(&text).map_err(|e| fail(e.to_string()))?;
        if signed.is_signed() {
            signed.verified_key().map_err(|e| fail(e.to_string()))?;
        }
        let region = signed.profile().map_err(|e| fail(e.to_string()))?.region.id;
        if regions.contains(&region) {
            return Err(fail(format!("a second profile for region \"{region}\"")));
        }
        regions.push(region);
        out.push(signed);
    }
    Ok(out)
}

/// The regions configured (their ids).
pub fn region_ids(c: &Config) -> Result<Vec<String>, ConfigError> {
    load_profiles(c)?
        .iter()
        .map(|s| {
            s.profile()
                .map(|p| p.region.id)
                .map_err(|e| ConfigError::Profile {
                    path: "(profile)".into(),
                    message: e.to_string(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_file(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        resolve(Some(&path), Overrides::default())
    }

    #[test]
    fn escalation_lists_need_addresses_and_a_mail_server() {
        let list = "[[escalation]]\nregion = \"sormland\"\nname = \"Jour 1\"\nemail = \"jour1@example.se\"\n";
        let e = from_file(list).unwrap_err().to_string();
        assert!(e.contains("[smtp]"), "{e}");
        let ok = format!(
            "{list}[smtp]\nhost = \"smtp.example.se\"\nfrom = \"Värn <varn@example.se>\"\n"
        );
        let c = from_file(&ok).unwrap();
        let esc = escalation(&c, None).unwrap();
        assert_eq!(esc.lists["sormland"][0].email, "jour1@example.se");
        assert!(esc.notifier.is_some());
        let bad = ok.replace("jour1@example.se", "jour1");
        let e = from_file(&bad).unwrap_err().to_string();
        assert!(e.contains("escalation[0].email"), "{e}");
        let user = format!("{ok}username = \"varn\"\n");
        let e = escalation(&from_file(&user).unwrap(), None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("VARN_SERVER_SMTP_PASSWORD"), "{e}");
        let plain = ok.replace(
            "host = \"smtp.example.se\"",
            "host = \"smtp.example.se\"\ntls = \"none\"",
        );
        let e = escalation(&from_file(&plain).unwrap(), None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("only allowed to a relay on this machine"), "{e}");
    }

    #[test]
    fn the_packaged_config_trusts_the_local_proxy_only() {
        let c = from_file(include_str!("../../../packaging/server/varn-server.toml")).unwrap();
        let p = &c.front.trusted_proxies;
        assert!(p.trusts("127.0.0.1".parse().unwrap()) && p.trusts("::1".parse().unwrap()));
        assert!(!p.trusts("127.0.0.2".parse().unwrap()));
        assert!(!p.trusts("192.0.2.1".parse().unwrap()));
        assert!(c.bind.ip().is_loopback());
    }

    #[test]
    fn proxies_and_the_public_address_are_checked() {
        let c = from_file(
            "trusted_proxies = [\"10.0.0.0/8\"]\nforwarded_header = \"forwarded\"\n\
             public_url = \"https://varn.region.example\"\n",
        )
        .unwrap();
        assert!(c.front.trusted_proxies.trusts("10.1.2.3".parse().unwrap()));
        assert_eq!(
            c.front.public_url.unwrap().origin(),
            "https://varn.region.example"
        );
        let e = from_file("trusted_proxies = [\"proxy.region\"]").unwrap_err();
        assert!(e.to_string().contains("proxy.region"), "{e}");
        let e = from_file("public_url = \"http://varn.region.example\"").unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        assert!(from_file("forwarded_header = \"x-real-ip\"").is_err());
    }

    #[test]
    fn defaults_are_loopback_and_a_local_database() {
        let c = resolve(None, Overrides::default()).unwrap();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert_eq!(c.database, Database::Sqlite(DEFAULT_DATABASE.into()));
        assert!(c.tls.is_none());
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\ndatabase = \"file.db\"\n").unwrap();
        let c = resolve(
            Some(&file),
            Overrides {
                database: Some("flag.db".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.database, Database::Sqlite("flag.db".into()));
    }

    #[test]
    fn a_postgres_url_selects_postgresql_and_its_password_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "database = \"postgres://varn:hemligt@db.region.internal:5432/varn\"\n",
        )
        .unwrap();
        let c = resolve(Some(&file), Overrides::default()).unwrap();
        assert!(matches!(c.database, Database::Postgres(_)));
        let shown = c.database.to_string();
        assert!(!shown.contains("hemligt"), "{shown}");
        assert!(shown.contains("db.region.internal"), "{shown}");
        assert_eq!(
            Database::parse("POSTGRESQL://x@y/z"),
            Database::Postgres("POSTGRESQL://x@y/z".into())
        );
        assert_eq!(
            Database::parse("postgres.db"),
            Database::Sqlite("postgres.db".into())
        );
    }

    #[test]
    fn plain_http_on_a_public_address_is_refused_unless_insecure_dev() {
        let o = || Overrides {
            bind: Some("0.0.0.0:8080".into()),
            ..Default::default()
        };
        let err = resolve(None, o()).unwrap_err().to_string();
        assert!(
            err.contains("--insecure-dev") && err.contains("--tls-cert"),
            "{err}"
        );
        assert!(resolve(
            None,
            Overrides {
                insecure_dev: true,
                ..o()
            }
        )
        .is_ok());
        let tls = Overrides {
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            ..o()
        };
        assert!(resolve(None, tls).is_ok());
    }

    #[test]
    fn half_a_tls_setup_is_an_error() {
        let o = Overrides {
            tls_cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(resolve(None, o)
            .unwrap_err()
            .to_string()
            .contains("--tls-key"));
    }

    #[test]
    fn unknown_keys_and_bad_addresses_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "bnd = \"x\"\n").unwrap();
        assert!(resolve(Some(&file), Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("bnd"));
        let err = resolve(
            None,
            Overrides {
                bind: Some("localhost".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("localhost"));
    }

    #[test]
    fn secrets_come_from_files_named_when_they_fail_and_never_from_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path();
        std::fs::write(creds.join("dc09-key"), "0123456789ABCDEF0123456789ABCDEF\n").unwrap();
        std::fs::write(creds.join("empty"), "\n").unwrap();
        // Relative names come from systemd's credentials; absolute ones as they are.
        assert_eq!(
            read_secret_file(Path::new("dc09-key"), Some(creds)).unwrap(),
            "0123456789ABCDEF0123456789ABCDEF"
        );
        assert!(read_secret_file(&creds.join("dc09-key"), None).is_ok());
        let e = read_secret_file(Path::new("dc09-key"), None).unwrap_err();
        assert!(
            e.contains("dc09-key") && e.contains("CREDENTIALS_DIRECTORY"),
            "{e}"
        );
        let e = read_secret_file(Path::new("missing"), Some(creds)).unwrap_err();
        assert!(e.contains("missing"), "{e}");
        let e = read_secret_file(Path::new("empty"), Some(creds)).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        // One source or the other, not both; neither is no secret.
        let file = creds.join("dc09-key");
        assert!(secret_value("X", Some("a".into()), Some(&file))
            .unwrap_err()
            .contains("keep one"));
        assert_eq!(
            secret_value("X", Some("a".into()), None).unwrap(),
            Some("a".into())
        );
        assert_eq!(secret_value("X", None, None).unwrap(), None);
        assert_eq!(
            secret_value("X", None, Some(&file)).unwrap().as_deref(),
            Some("0123456789ABCDEF0123456789ABCDEF")
        );

        // The alarm centre's key from a file, as LoadCredential= hands it over.
        let entry = |extra: &str| -> AlarmCentreEntry {
            toml::from_str(&format!(
                "region = \"sormland\"\nhost = \"larm.example\"\nport = 12128\naccount = \"1A2B\"\n{extra}"
            ))
            .unwrap()
        };
        let no_env = |_: &str| None;
        let c = entry("key_file = \"dc09-key\"")
            .resolve(no_env, Some(creds))
            .unwrap();
        assert!(c.receivers[0].key.is_some());
        let e = entry("key_file = \"gone\"")
            .resolve(no_env, Some(creds))
            .unwrap_err();
        assert!(e.contains("sormland") && e.contains("gone"), "{e}");
        assert!(entry("key_file = \"dc09-key\"\nkey_env = \"K\"")
            .resolve(|_| Some("0123456789ABCDEF".into()), Some(creds))
            .unwrap_err()
            .contains("not both"));

        // A secret written into the config file is refused, by name.
        for (toml, word) in [
            ("[[alarm_centre]]\nregion = \"s\"\nhost = \"h\"\nport = 1\naccount = \"1A2B\"\nkey = \"0123456789ABCDEF\"", "key"),
            ("[smtp]\nhost = \"h\"\nfrom = \"a@b.se\"\npassword = \"hemligt\"", "password"),
            ("database_password = \"hemligt\"", "database_password"),
        ] {
            let e = toml::from_str::<FileConfig>(toml).unwrap_err().to_string();
            assert!(e.contains(&format!("unknown field `{word}`")), "{e}");
        }
    }

    #[test]
    fn an_alarm_centre_takes_its_key_from_the_environment_only_and_bad_values_are_named() {
        let entry = |extra: &str| -> AlarmCentreEntry {
            toml::from_str(&format!(
                "region = \"sormland\"\nhost = \"larm.example\"\nport = 12128\naccount = \"1A2B\"\n{extra}"
            ))
            .unwrap()
        };
        let env = |var: &str| (var == "VARN_DC09_KEY").then(|| "0123456789ABCDEF".to_string());
        let c = entry("key_env = \"VARN_DC09_KEY\"\ndrills = \"test\"")
            .resolve(env, None)
            .unwrap();
        assert_eq!(c.receivers.len(), 1);
        assert_eq!(c.receivers[0].addr, "larm.example:12128");
        assert!(c.receivers[0].key.is_some());
        assert_eq!(c.drills, crate::centre::Drills::Test);
        assert_eq!(c.supervision, std::time::Duration::from_secs(90));
        let none = entry("").resolve(env, None).unwrap_err();
        assert!(
            none.contains("no key") && none.contains("allow_cleartext"),
            "{none}"
        );
        let plain = entry("allow_cleartext = true").resolve(env, None).unwrap();
        assert!(plain.receivers[0].key.is_none() && plain.drills == crate::centre::Drills::Skip);
        assert_eq!(
            plain.timeout,
            std::time::Duration::from_secs(10),
            "failover after 10 s"
        );
        assert!(entry("key_env = \"MISSING\"")
            .resolve(env, None)
            .unwrap_err()
            .contains("MISSING is not set"));
        assert!(entry("supervision_seconds = 5")
            .resolve(env, None)
            .unwrap_err()
            .contains("at least 20"));
        assert!(entry("supervision_seconds = 30\nfailover_seconds = 16")
            .resolve(env, None)
            .unwrap_err()
            .contains("half of supervision_seconds"));
        assert!(entry("line = \"x\"")
            .resolve(env, None)
            .unwrap_err()
            .contains("line"));
        let bad_account = AlarmCentreEntry {
            account: "Z9".into(),
            ..entry("")
        };
        assert!(bad_account
            .resolve(env, None)
            .unwrap_err()
            .contains("account"));
        assert!(
            toml::from_str::<AlarmCentreEntry>(
                "region = \"x\"\nhost = \"h\"\nport = 1\naccount = \"AAA\"\nkey = \"inline\""
            )
            .is_err(),
            "a key written in the file is refused"
        );
    }

    #[test]
    fn backup_receivers_come_in_order_and_a_bad_list_is_named() {
        let entry = |extra: &str| -> Result<crate::centre::Centre, String> {
            let e: AlarmCentreEntry = toml::from_str(&format!(
                "region = \"sormland\"\nhost = \"larm1.example\"\nport = 12128\naccount = \"1A2B\"\n\
                 key_env = \"K\"\n{extra}"
            ))
            .map_err(|e| e.to_string())?;
            e.resolve(
                |var| match var {
                    "K" => Some("0123456789ABCDEF0123456789ABCDEF".into()),
                    "K2" => Some("FEDCBA9876543210FEDCBA9876543210".into()),
                    _ => None,
                },
                None,
            )
        };
        let c = entry(
            "failover_seconds = 5\n[[backup]]\nhost = \"larm2.example\"\nport = 12128\n\
             [[backup]]\nhost = \"larm3.example\"\nport = 12129\naccount = \"3C4D\"\nkey_env = \"K2\"",
        )
        .unwrap();
        let names: Vec<_> = c
            .receivers
            .iter()
            .map(|r| (r.name.as_str(), r.addr.as_str(), r.route.account.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("primär", "larm1.example:12128", "1A2B"),
                ("reserv 1", "larm2.example:12128", "1A2B"),
                ("reserv 2", "larm3.example:12129", "3C4D"),
            ]
        );
        assert!(c.receivers.iter().all(|r| r.key.is_some()));
        assert_eq!(c.timeout, std::time::Duration::from_secs(5));
        let twice = entry("[[backup]]\nhost = \"LARM1.example\"\nport = 12128").unwrap_err();
        assert!(twice.contains("listed twice"), "{twice}");
        let bad =
            entry("[[backup]]\nhost = \"larm2.example\"\nport = 1\naccount = \"XYZ\"").unwrap_err();
        assert!(bad.contains("backup[0].account"), "{bad}");
        let bad = entry("[[backup]]\nhost = \"larm2.example\"\nport = 1\nkey_env = \"NONE\"")
            .unwrap_err();
        assert!(bad.contains("backup[0].key_env"), "{bad}");
        assert!(entry("failover_seconds = 0")
            .unwrap_err()
            .contains("failover_seconds"));
        // A key change at a set time: the primary and the backups on its key follow it.
        let c = entry(
            "next_key_env = \"K2\"\nnext_key_from = \"2027-01-01T00:00:00Z\"\n[[backup]]\nhost = \"b\"\nport = 1",
        )
        .unwrap();
        let before: chrono::DateTime<chrono::Utc> = "2026-12-31T23:59:59Z".parse().unwrap();
        let after: chrono::DateTime<chrono::Utc> = "2027-01-01T00:00:00Z".parse().unwrap();
        for r in &c.receivers {
            assert!(std::ptr::eq(
                r.key_at(before).unwrap(),
                r.key.as_ref().unwrap()
            ));
            assert!(std::ptr::eq(
                r.key_at(after).unwrap(),
                &r.next_key.as_ref().unwrap().0
            ));
        }
        assert!(entry("next_key_env = \"K2\"")
            .unwrap_err()
            .contains("next_key_from"));
        assert!(entry("next_key_env = \"K2\"\nnext_key_from = \"januari\"")
            .unwrap_err()
            .contains("next_key_from"));
        assert!(
            entry("[[backup]]\nhost = \"h\"\nport = 1\nkey = \"x\"").is_err(),
            "a key in the file"
        );
    }

    #[test]
    fn profiles_default_to_the_embedded_one() {
        let c = resolve(None, Overrides::default()).unwrap();
        let p = load_profiles(&c).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].profile().unwrap().region.id, "sormland");
        assert!(!p[0].is_signed());
    }
}
