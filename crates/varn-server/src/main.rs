//! `varn-server`: serve the region server, or manage it from the command line
//! (enrollment codes, officer logins, revoking devices).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;
use varn_core::wire::Role;
use varn_server::clock::{Clock, SystemClock};
use varn_server::config::{self, Config, Overrides};
use varn_server::store::{
    backup, Database, DatabaseAccess, Officer, OfficerChange, Revoker, Store,
};
use varn_server::{api, auth, server};

#[derive(Parser)]
#[command(
    name = "varn-server",
    version,
    about = "Värn region server: alarms and reports from the app, a dashboard for security officers"
)]
struct Cli {
    /// Config file (TOML).
    #[arg(long, global = true, env = "VARN_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// SQLite database file, or a postgres:// URL shared by several instances (password in
    /// VARN_SERVER_DATABASE_PASSWORD) [default: varn-server.db].
    #[arg(long, global = true, env = "VARN_SERVER_DATABASE")]
    database: Option<String>,
    /// With a postgres://…?sslmode=require URL: the CA (PEM) that signed the database's
    /// certificate, when it is a private one.
    #[arg(long, global = true, env = "VARN_SERVER_DATABASE_CA")]
    database_ca: Option<PathBuf>,
    /// The file with the server's secret (enrollment codes are stored under it) [default:
    /// <database>.secret beside a SQLite file; required with PostgreSQL].
    #[arg(long, global = true, env = "VARN_SERVER_SECRET_FILE")]
    secret_file: Option<PathBuf>,
    /// Region profile (TOML or JSON); repeat for several regions [default: the embedded Region Sörmland profile].
    #[arg(
        long = "profile",
        global = true,
        env = "VARN_SERVER_PROFILES",
        value_delimiter = ','
    )]
    profiles: Vec<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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
enum ReleaseCommand {
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
enum ProfileCommand {
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
enum SecretCommand {
    /// Print a new random secret (for --secret-file; give every instance the same one).
    New,
}

#[derive(Subcommand)]
enum OfficerCommand {
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
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "VARN_SERVER_BIND")]
    bind: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "VARN_SERVER_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "VARN_SERVER_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address. For development only.
    #[arg(long)]
    insecure_dev: bool,
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VARN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("varn-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("varn-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn pick_region(config: &Config, wanted: Option<String>) -> Result<String, String> {
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

async fn run(cli: Cli) -> Result<(), String> {
    let serve_args = match &cli.command {
        Some(Command::Serve(a)) => Some(a),
        None => None,
        _ => None,
    };
    let default_args = ServeArgs::default();
    let s = serve_args.unwrap_or(&default_args);
    let config = config::resolve(
        cli.config.as_deref(),
        Overrides {
            bind: s.bind.clone(),
            database: cli.database.clone(),
            database_ca: cli.database_ca.clone(),
            tls_cert: s.tls_cert.clone(),
            tls_key: s.tls_key.clone(),
            profiles: cli.profiles.clone(),
            insecure_dev: s.insecure_dev,
            secret_file: cli.secret_file.clone(),
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some(Command::Openapi) = &cli.command {
        print!("{}", varn_server::contract::document());
        return Ok(());
    }
    if let Some(Command::Secret {
        command: SecretCommand::New,
    }) = &cli.command
    {
        println!("{}", auth::ServerSecret::random().encode());
        return Ok(());
    }
    if let Some(Command::Profile { command }) = &cli.command {
        if let Some(done) = profile_offline(command) {
            return done;
        }
    }
    let secret = || {
        config::secret(&config, std::env::var("VARN_SERVER_SECRET").ok()).map_err(|e| e.to_string())
    };
    let access = DatabaseAccess {
        password: config::secret_value(
            "VARN_SERVER_DATABASE_PASSWORD",
            std::env::var("VARN_SERVER_DATABASE_PASSWORD").ok(),
            config.database_password_file.as_deref(),
        )?,
        ca_file: config.database_ca.clone(),
    };
    let open = || async {
        config
            .database
            .open(&access)
            .await
            .map_err(|e| format!("database {}: {e}", config.database))
    };
    let clock = SystemClock;
    match cli.command {
        None | Some(Command::Serve(_)) => serve(&config, open().await?, secret()?).await,
        Some(Command::Secret { .. } | Command::Openapi) => Ok(()),
        Some(Command::Backup { to }) => {
            let Database::Sqlite(db) = &config.database else {
                return Err(backup::POSTGRES_GUIDANCE.into());
            };
            let summary = backup::backup(db, &to)?;
            eprintln!(
                "Backed up {} to {}: {summary}.\nKeep the server's secret file with it ({}): enrollment codes are stored under it.",
                db.display(),
                to.display(),
                config::secret_file_name(&config)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "VARN_SERVER_SECRET".into())
            );
            Ok(())
        }
        Some(Command::Restore { from, replace }) => {
            let Database::Sqlite(db) = &config.database else {
                return Err(backup::POSTGRES_GUIDANCE.into());
            };
            let (summary, kept) = backup::restore(&from, db, replace)?;
            eprintln!(
                "Restored {} from {}: {summary}.",
                db.display(),
                from.display()
            );
            if let Some(kept) = kept {
                eprintln!("The database it replaced is kept as {}.", kept.display());
            }
            Ok(())
        }
        Some(Command::Profile {
            command: ProfileCommand::Publish { file },
        }) => {
            let signed = read_profile(&file)?;
            let store = open().await?;
            let configured = config::load_profiles(&config).map_err(|e| e.to_string())?;
            let p =
                varn_server::profiles::publish(store.as_ref(), &configured, &signed, clock.now())
                    .await?;
            eprintln!(
                "Published region {}'s profile version {} (key {}). Every instance serves it within {} s; apps adopt it at their next check.",
                p.region,
                p.version,
                p.key.fingerprint(),
                varn_server::profiles::REFRESH_EVERY.as_secs()
            );
            Ok(())
        }
        Some(Command::Profile { .. }) => Ok(()),
        Some(Command::Release {
            command:
                ReleaseCommand::Add {
                    bundle,
                    signature,
                    notes,
                    version,
                    platform,
                    update_key,
                },
        }) => {
            let key_file = update_key.or(config.update_key.clone()).ok_or(
                "release add verifies the signature before it publishes: give the update key's \
                 public half (--update-key FILE.pub, or update_key in the config)",
            )?;
            let key = std::fs::read_to_string(&key_file)
                .map_err(|e| format!("{}: {e}", key_file.display()))?;
            let store = open().await?;
            let new = varn_server::releases::NewRelease {
                bundle: &bundle,
                signature: &signature,
                notes,
                version,
                platform,
                update_key: key.trim(),
            };
            let r = varn_server::releases::publish(store.as_ref(), new, clock.now())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "Published version {} for {} ({} bytes, sha256 {}). Devices on an older version are offered it at their next check.",
                r.version, r.platform, r.size, r.sha256
            );
            Ok(())
        }
        Some(Command::Audit { from, to, region }) => {
            let today = clock.now().date_naive();
            let day = |name: &str, s: Option<String>, default: chrono::NaiveDate| match s {
                None => Ok(default),
                Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| format!("--{name} \"{s}\" is not a date (YYYY-MM-DD)")),
            };
            let to = day("to", to, today)?;
            let from = day("from", from, to - chrono::Duration::days(30))?;
            if to < from {
                return Err("--to is before --from".into());
            }
            let store = open().await?;
            let query = varn_server::store::AuditQuery {
                region_id: region,
                item_id: None,
                from: Some(from.and_time(chrono::NaiveTime::MIN).and_utc()),
                until: to
                    .succ_opt()
                    .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()),
                limit: u32::MAX,
            };
            let mut entries = store.audit_log(&query).await.map_err(|e| e.to_string())?;
            entries.reverse();
            for e in &entries {
                // A list's or a feed's entry ends with the ids it returned.
                println!(
                    "{}\t{}\t{}\t{}\t{} {}{}{}",
                    e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    e.region_id,
                    e.officer,
                    e.action,
                    e.item_kind,
                    e.item_id,
                    if e.items.is_empty() { "" } else { ": " },
                    e.items
                );
            }
            eprintln!("{} entries from {from} to {to}.", entries.len());
            Ok(())
        }
        Some(Command::Purge) => {
            if !config.retention.is_on() {
                return Err("no [retention] in the config: nothing is ever deleted".into());
            }
            let store = open().await?;
            let p = store
                .purge(config.retention.cutoffs(clock.now()))
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "Deleted {} closed reports ({} attachments), {} finished alarms, {} ended check-ins and {} expired sessions; the statistics keep their counts.",
                p.reports, p.attachments, p.alarms, p.checkins, p.sessions
            );
            Ok(())
        }
        Some(Command::Release {
            command: ReleaseCommand::List,
        }) => {
            let store = open().await?;
            let releases = store.releases().await.map_err(|e| e.to_string())?;
            if releases.is_empty() {
                eprintln!("No releases are published.");
            }
            for r in releases {
                println!(
                    "{}\t{}\t{} bytes\t{}\t{}",
                    r.version,
                    r.platform,
                    r.size,
                    r.published_at.to_rfc3339(),
                    r.notes.lines().next().unwrap_or("")
                );
            }
            Ok(())
        }
        Some(Command::Enroll { name, role, region }) => {
            let role = Role::parse(&role)
                .ok_or_else(|| format!("unknown role \"{role}\" (known: förtroendevald)"))?;
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 200 {
                return Err("--name must be 1 to 200 characters".into());
            }
            let region = pick_region(&config, region)?;
            let code = auth::new_code();
            let now = clock.now();
            let expires = now + api::CODE_LIFETIME;
            open()
                .await?
                .create_enrollment(
                    &region,
                    &name,
                    role,
                    &secret()?.code_hash(&varn_core::wire::normalize_code(&code)),
                    now,
                    expires,
                )
                .await
                .map_err(|e| e.to_string())?;
            println!("{code}");
            eprintln!(
                "Enrollment code for {name} ({}, region {region}); valid until {} UTC. Works once.",
                role.as_str(),
                expires.format("%Y-%m-%d %H:%M")
            );
            Ok(())
        }
        Some(Command::Officer {
            command:
                OfficerCommand::Add {
                    username,
                    name,
                    region,
                    password_stdin,
                },
        }) => {
            let region = pick_region(&config, region)?;
            let (hash, password, generated) = new_password(password_stdin).await?;
            let officer = Officer {
                id: Uuid::now_v7(),
                region_id: region.clone(),
                username: username.trim().to_string(),
                display_name: name.trim().to_string(),
                password_hash: hash,
                disabled_at: None,
            };
            open()
                .await?
                .create_officer(&officer, clock.now())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "Officer {} ({}) can now log in to the dashboard for region {region}.",
                officer.username, officer.display_name
            );
            if generated {
                println!("{password}");
                eprintln!("The password above is shown once. Give it to the officer in person.");
            }
            Ok(())
        }
        Some(Command::Officer {
            command: OfficerCommand::List,
        }) => {
            let store = open().await?;
            for region in config::region_ids(&config).map_err(|e| e.to_string())? {
                for o in store.officers(&region).await.map_err(|e| e.to_string())? {
                    let state = o
                        .disabled_at
                        .map(|t| format!("disabled {}", t.format("%Y-%m-%d %H:%M")))
                        .unwrap_or_else(|| "active".into());
                    println!(
                        "{}\t{}\t{}\t{state}",
                        o.username, o.region_id, o.display_name
                    );
                }
            }
            Ok(())
        }
        Some(Command::Officer { command }) => {
            let (username, change, done) = match command {
                OfficerCommand::Disable { username } => (
                    username,
                    OfficerChange::Disable(clock.now()),
                    "is disabled; their open dashboards were logged out",
                ),
                OfficerCommand::Enable { username } => {
                    (username, OfficerChange::Enable, "can log in again")
                }
                OfficerCommand::Remove { username } => (
                    username,
                    OfficerChange::Remove,
                    "is removed; their open dashboards were logged out",
                ),
                OfficerCommand::Passwd {
                    username,
                    password_stdin,
                } => {
                    let (hash, password, generated) = new_password(password_stdin).await?;
                    if generated {
                        println!("{password}");
                        eprintln!(
                            "The password above is shown once. Give it to the officer in person."
                        );
                    }
                    (
                        username,
                        OfficerChange::Password(hash),
                        "has a new password; their open dashboards were logged out",
                    )
                }
                OfficerCommand::Add { .. } | OfficerCommand::List => {
                    unreachable!("handled above")
                }
            };
            let username = username.trim().to_string();
            match open()
                .await?
                .change_officer(&username, &change)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(_) => {
                    tracing::info!(officer = %username, "officer login changed: {done}");
                    eprintln!("Officer {username} {done}.");
                    Ok(())
                }
                None => Err(format!(
                    "no officer \"{username}\" (see `varn-server officer list`)"
                )),
            }
        }
        Some(Command::Revoke { device }) => {
            if open()
                .await?
                .revoke_device(device, clock.now(), Revoker::Region)
                .await
                .map_err(|e| e.to_string())?
            {
                eprintln!("Device {device} is revoked; its token no longer works.");
                Ok(())
            } else {
                Err(format!(
                    "no active device {device} (see `varn-server devices`)"
                ))
            }
        }
        Some(Command::Devices) => {
            for d in open()
                .await?
                .devices(None)
                .await
                .map_err(|e| e.to_string())?
            {
                let state = match (d.revoked_at, d.revoked_by) {
                    (Some(t), Some(Revoker::Person)) => {
                        format!("unlinked by the person {}", t.format("%Y-%m-%d %H:%M"))
                    }
                    (Some(t), _) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
                    (None, _) => "active".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    d.id,
                    d.region_id,
                    d.role.as_str(),
                    d.name,
                    state
                );
            }
            Ok(())
        }
    }
}

/// Reads a profile file in any form (signed, JSON or TOML); errors name the file and field.
fn read_profile(path: &std::path::Path) -> Result<varn_core::signing::SignedProfile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    varn_core::signing::SignedProfile::read_any(&text)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a region's secret signing key.
fn read_key(path: &std::path::Path) -> Result<varn_core::signing::SecretKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    varn_core::signing::SecretKey::from_file_text(&text)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The profile commands that need no database (`check`, `keygen`, `sign`); `None` for the
/// others.
fn profile_offline(command: &ProfileCommand) -> Option<Result<(), String>> {
    use varn_core::signing::{Rotation, SecretKey, SignedProfile};
    Some(match command {
        ProfileCommand::Check { file } => read_profile(file).and_then(|signed| {
            let p = signed.profile().map_err(|e| e.to_string())?;
            let signature = if signed.is_signed() {
                let key = signed
                    .verified_key()
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                format!("signed with the key {}", key.fingerprint())
            } else {
                "not signed (sign it with `varn-server profile sign`)".to_string()
            };
            println!(
                "{}: region {} ({}), version {}: {} sections, {} action cards, {} checklist points, {} contacts; {signature}",
                file.display(),
                p.region.id,
                p.region.name,
                p.version,
                p.responsibilities.len() + p.before.len() + p.after.len(),
                p.during.len(),
                p.checklist.items.len(),
                p.contacts.len()
            );
            Ok(())
        }),
        ProfileCommand::Keygen { out } => {
            let seed: [u8; 32] = rand::Rng::random(&mut rand::rng());
            let key = SecretKey::from_seed(seed);
            write_new_private(out, &key.to_file_text()).map(|()| {
                println!("{}", key.public().encode());
                eprintln!(
                    "The secret key is in {} (keep it offline; whoever has it can change what your \
                     region's apps read and call). Fingerprint for the letter to your officials: {}",
                    out.display(),
                    key.public().fingerprint()
                );
            })
        }
        ProfileCommand::Sign {
            file,
            key,
            rotate_from,
            out,
        } => (|| {
            let profile = read_profile(file)?.profile().map_err(|e| e.to_string())?;
            let key = read_key(key)?;
            let rotations = match rotate_from {
                Some(old) => vec![Rotation::sign(&profile.region.id, &read_key(old)?, &key.public())],
                None => Vec::new(),
            };
            let signed = SignedProfile::sign(&profile, &key, rotations);
            let out = out.clone().unwrap_or_else(|| file.with_extension("signed.json"));
            std::fs::write(&out, signed.to_json()).map_err(|e| format!("{}: {e}", out.display()))?;
            eprintln!(
                "Signed region {}'s profile version {} with the key {} into {}. Publish it with: varn-server profile publish {}",
                profile.region.id,
                profile.version,
                key.public().fingerprint(),
                out.display(),
                out.display()
            );
            Ok(())
        })(),
        ProfileCommand::Publish { .. } => return None,
    })
}

/// Writes a new file only its owner can read; an existing file is never overwritten.
fn write_new_private(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A password for an officer: read from standard input, or generated (then shown once).
/// Returns its Argon2id hash, the password and whether it was generated.
async fn new_password(from_stdin: bool) -> Result<(String, String, bool), String> {
    let (password, generated) = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password: {e}"))?;
        (line.trim_end_matches(['\n', '\r']).to_string(), false)
    } else {
        (auth::new_token()[..20].to_string(), true)
    };
    if password.chars().count() < 12 {
        return Err("the password must have at least 12 characters".into());
    }
    let hash =
        tokio::task::spawn_blocking(move || auth::hash_password(&password).map(|h| (h, password)))
            .await
            .map_err(|e| e.to_string())??;
    Ok((hash.0, hash.1, generated))
}

/// Raises the soft limit on open files to the hard limit (connections are files), and says
/// how many connections that leaves room for.
fn raise_file_limit(limits: &mut varn_server::limits::Limits) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => {
            // Keep files for the database, logs and listeners.
            let room = usize::try_from(n.saturating_sub(256)).unwrap_or(usize::MAX);
            if room < limits.max_connections {
                tracing::warn!(
                    files = n,
                    "the open-file limit allows only {room} connections (limits.max_connections is {}); \
                     raise it (LimitNOFILE= in the systemd unit, ulimit -n)",
                    limits.max_connections
                );
                limits.max_connections = room.max(16);
            } else {
                tracing::info!(files = n, "open-file limit");
            }
        }
        Err(e) => tracing::warn!("the open-file limit could not be raised: {e}"),
    }
}

async fn serve(
    config: &Config,
    store: Arc<dyn Store>,
    secret: auth::ServerSecret,
) -> Result<(), String> {
    let profiles = config::load_profiles(config).map_err(|e| e.to_string())?;
    let smtp_password = config::secret_value(
        "VARN_SERVER_SMTP_PASSWORD",
        std::env::var("VARN_SERVER_SMTP_PASSWORD").ok(),
        config
            .smtp
            .as_ref()
            .and_then(|s| s.password_file.as_deref()),
    )?;
    let escalation = config::escalation(config, smtp_password).map_err(|e| e.to_string())?;
    if config.insecure_dev && config.tls.is_none() {
        for _ in 0..3 {
            tracing::warn!("INSECURE: --insecure-dev serves plain HTTP on {}; alarms and tokens travel unencrypted. Never use this for a region.", config.bind);
        }
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(
            server::tls_config(cert, key)
                .await
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let listener = std::net::TcpListener::bind(config.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let mut limits = config.limits.clone();
    raise_file_limit(&mut limits);
    let database = store.clone();
    let running = server::start(
        listener,
        server::Parts {
            store,
            clock: Arc::new(SystemClock),
            profiles,
            escalation,
            limits,
            secret,
            retention: config.retention,
            centres: config.centres.clone(),
            front: config.front.clone(),
        },
        tls,
    )
    .await
    .map_err(|e| e.to_string())?;
    tracing::info!(url = %running.url(), database = %config.database, "serving; dashboard at {}/dashboard", running.url());
    server::stop_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.stop().await.map_err(|e| e.to_string())?;
    database.close().await;
    tracing::info!("stopped");
    Ok(())
}
