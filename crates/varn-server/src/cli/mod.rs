//! The command line: what `varn-server` takes (parsed here, with clap) and the work of each
//! family of subcommands in a file of its own — serve, people (enrollment codes, officers,
//! devices), data (backup, restore, audit, purge), profile, release. `main.rs` only parses
//! and dispatches.

pub mod data;
pub mod people;
pub mod profile;
pub mod release;
pub mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;
use varn_server::auth::ServerSecret;
use varn_server::clock::SystemClock;
use varn_server::config::{self, Config};
use varn_server::store::{DatabaseAccess, Store};

#[derive(Parser)]
#[command(
    name = "varn-server",
    version,
    about = "Värn region server: alarms and reports from the app, a dashboard for security officers"
)]
pub struct Cli {
    /// Config file (TOML).
    #[arg(long, global = true, env = "VARN_SERVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database file, or a postgres:// URL shared by several instances (password in
    /// VARN_SERVER_DATABASE_PASSWORD) [default: varn-server.db].
    #[arg(long, global = true, env = "VARN_SERVER_DATABASE")]
    pub database: Option<String>,
    /// With a postgres://…?sslmode=require URL: the CA (PEM) that signed the database's
    /// certificate, when it is a private one.
    #[arg(long, global = true, env = "VARN_SERVER_DATABASE_CA")]
    pub database_ca: Option<PathBuf>,
    /// The file with the server's secret (enrollment codes are stored under it) [default:
    /// <database>.secret beside a SQLite file; required with PostgreSQL].
    #[arg(long, global = true, env = "VARN_SERVER_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// Region profile (TOML or JSON); repeat for several regions [default: the embedded Region Sörmland profile].
    #[arg(
        long = "profile",
        global = true,
        env = "VARN_SERVER_PROFILES",
        value_delimiter = ','
    )]
    pub profiles: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API and the dashboard (the default).
    Serve(ServeArgs),
    /// Create a one-time enrollment code for a person's app (valid 24 hours).
    Enroll {
        /// The person's name, as officers will see it on alarms.
        #[arg(long)]
        name: String,
        /// The person's role.
        #[arg(long, default_value = "förtroendevald")]
        role: String,
        /// Region id (needed when the server hosts several).
        #[arg(long)]
        region: Option<String>,
    },
    /// Manage security-officer logins.
    Officer {
        #[command(subcommand)]
        command: OfficerCommand,
    },
    /// Revoke a device: its token stops working at once.
    Revoke {
        /// The device's id (see `varn-server devices`).
        #[arg(long)]
        device: Uuid,
    },
    /// List enrolled devices.
    Devices,
    /// The server's secret.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// Copy the database (SQLite) to FILE while the server runs: a consistent copy, checked.
    Backup {
        /// Where the copy goes (must not exist yet).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place of the database (SQLite): the server must be stopped.
    Restore {
        /// The backup (from `backup --to`).
        #[arg(long)]
        from: PathBuf,
        /// Restore over an existing database (kept beside it as <database>.replaced-<time>).
        #[arg(long)]
        replace: bool,
    },
    /// Make, check, sign and publish a region profile.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Publish app updates to the region's devices.
    Release {
        #[command(subcommand)]
        command: ReleaseCommand,
    },
    /// Print the audit log (who read or exported what, when) for a period, oldest first.
    Audit {
        /// First day (YYYY-MM-DD, UTC) [default: 30 days ago].
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, UTC) [default: today].
        #[arg(long)]
        to: Option<String>,
        /// Only this region's [default: every region's].
        #[arg(long)]
        region: Option<String>,
    },
    /// Delete now what `[retention]` in the config says is past its time (the running
    /// server does this once a day by itself).
    Purge,
    /// Print the API's OpenAPI document (what `/openapi.json` serves), generated from the
    /// code; `scripts/openapi` writes it to `crates/varn-server/openapi.json`.
    Openapi,
}

#[derive(Subcommand)]
pub enum ReleaseCommand {
    /// Publish a signed app bundle: devices on an older version are offered it in
    /// Inställningar. A published version is never replaced.
    Add {
        /// The bundle (the .deb, .rpm or AppImage from scripts/package).
        #[arg(long)]
        bundle: PathBuf,
        /// Its signature (`cargo tauri signer sign --app-version VERSION` writes FILE.sig).
        #[arg(long)]
        signature: PathBuf,
        /// What changed, shown to the person before they install.
        #[arg(long)]
        notes: String,
        /// The version [default: the version the signature is bound to].
        #[arg(long)]
        version: Option<String>,
        /// os-arch-bundle, e.g. linux-x86_64-deb [default: from the bundle's file name].
        #[arg(long)]
        platform: Option<String>,
        /// The update key's public half (the `.pub` file the app was built with); the
        /// signature is verified with it before anything is published [default: update_key
        /// in the config].
        #[arg(long)]
        update_key: Option<PathBuf>,
    },
    /// List published releases.
    List,
}

#[derive(Subcommand)]
pub enum ProfileCommand {
    /// Check a profile (TOML, JSON or signed): every error names its field.
    Check {
        /// The profile file.
        file: PathBuf,
    },
    /// Make the region's signing key: the secret half into FILE (keep it offline), the
    /// public half and its fingerprint printed.
    Keygen {
        /// Where the secret key goes (must not exist yet).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a profile with the region's key.
    Sign {
        /// The profile (TOML or JSON).
        file: PathBuf,
        /// The region's secret key (from `profile keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The key being replaced, when the region changes keys: a rotation signed by it goes
        /// with the profile.
        #[arg(long)]
        rotate_from: Option<PathBuf>,
        /// Where the signed profile goes [default: FILE with the extension .signed.json].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Publish a signed profile: every instance on this database serves it within 10 s.
    Publish {
        /// The signed profile (from `profile sign`).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Print a new random secret (for --secret-file; give every instance the same one).
    New,
}

#[derive(Subcommand)]
pub enum OfficerCommand {
    /// Create a login for a security officer.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Name shown on acknowledgements.
        #[arg(long)]
        name: String,
        /// Region id (needed when the server hosts several).
        #[arg(long)]
        region: Option<String>,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// What the officer may do: `handläggare` (acknowledges, writes, follows up,
        /// exports) or `läsare` (reads and sees the statistics).
        #[arg(long, default_value = "handläggare")]
        role: String,
        /// The region's break-glass account: it also needs a code from an authenticator app
        /// (TOTP), whose secret is printed once. The only local login a region that signs in
        /// with its identity provider keeps (`local_passwords = "break_glass"`).
        #[arg(long)]
        break_glass: bool,
    },
    /// Give an officer another role; their open dashboards are logged out at once.
    Role {
        /// Login name.
        #[arg(long)]
        username: String,
        /// `handläggare` or `läsare`.
        #[arg(long)]
        role: String,
    },
    /// Stop an officer from logging in; their open dashboards are logged out at once.
    Disable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Let a disabled officer log in again.
    Enable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Remove an officer's login (their acknowledgements and notes stay, by name); their
    /// open dashboards are logged out at once.
    Remove {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Set a new password (generated, or read with --password-stdin); the officer's open
    /// dashboards are logged out at once.
    Passwd {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List officers.
    List,
}

#[derive(Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "VARN_SERVER_BIND")]
    pub bind: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "VARN_SERVER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "VARN_SERVER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address. For development only.
    #[arg(long)]
    pub insecure_dev: bool,
}

/// What every subcommand works with: the resolved configuration, how to reach the database,
/// and the clock.
pub struct Ctx {
    /// The configuration, resolved from the file, the environment and the flags.
    pub config: Config,
    /// The database's password and CA.
    pub access: DatabaseAccess,
    /// The clock.
    pub clock: SystemClock,
}

impl Ctx {
    /// Opens the configured database.
    pub async fn open(&self) -> Result<Arc<dyn Store>, String> {
        self.config
            .database
            .open(&self.access)
            .await
            .map_err(|e| format!("database {}: {e}", self.config.database))
    }

    /// The server's secret (enrollment codes are stored under it).
    pub fn secret(&self) -> Result<ServerSecret, String> {
        config::secret(&self.config, std::env::var("VARN_SERVER_SECRET").ok())
            .map_err(|e| e.to_string())
    }
}

/// The region a command is for: the one asked for, or the only one configured.
pub fn pick_region(config: &Config, wanted: Option<String>) -> Result<String, String> {
    let ids = config::region_ids(config).map_err(|e| e.to_string())?;
    match wanted {
        Some(r) if ids.contains(&r) => Ok(r),
        Some(r) => Err(format!(
            "region \"{r}\" is not configured (configured: {})",
            ids.join(", ")
        )),
        None if ids.len() == 1 => Ok(ids[0].clone()),
        None => Err(format!(
            "several regions are configured; choose one with --region ({})",
            ids.join(", ")
        )),
    }
}
