//! `varn-server`: serve the region server, or manage it from the command line
//! (enrollment codes, officer logins, revoking devices). This file parses and dispatches; the
//! work is in `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use varn_server::auth;
use varn_server::clock::SystemClock;
use varn_server::config::{self, Overrides};
use varn_server::store::DatabaseAccess;

use cli::{Cli, Command, Ctx, ProfileCommand, SecretCommand, ServeArgs};

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
        if let Some(done) = cli::profile::profile_offline(command) {
            return done;
        }
    }
    let ctx = Ctx {
        access: DatabaseAccess {
            password: config::secret_value(
                "VARN_SERVER_DATABASE_PASSWORD",
                std::env::var("VARN_SERVER_DATABASE_PASSWORD").ok(),
                config.database_password_file.as_deref(),
            )?,
            ca_file: config.database_ca.clone(),
        },
        config,
        clock: SystemClock,
    };
    match cli.command {
        None | Some(Command::Serve(_)) => {
            cli::serve::serve(&ctx.config, ctx.open().await?, ctx.secret()?).await
        }
        Some(Command::Secret { .. } | Command::Openapi) => Ok(()),
        Some(Command::Backup { to }) => cli::data::backup(&ctx, to).await,
        Some(Command::Restore { from, replace }) => cli::data::restore(&ctx, from, replace).await,
        Some(Command::Audit { from, to, region }) => cli::data::audit(&ctx, from, to, region).await,
        Some(Command::Purge) => cli::data::purge(&ctx).await,
        Some(Command::Profile {
            command: ProfileCommand::Publish { file },
        }) => cli::profile::publish(&ctx, file).await,
        Some(Command::Profile { .. }) => Ok(()),
        Some(Command::Release { command }) => cli::release::run(&ctx, command).await,
        Some(Command::Enroll { name, role, region }) => {
            cli::people::enroll(&ctx, name, role, region).await
        }
        Some(Command::Officer { command }) => cli::people::officer(&ctx, command).await,
        Some(Command::Revoke { device }) => cli::people::revoke(&ctx, device).await,
        Some(Command::Devices) => cli::people::devices(&ctx).await,
    }
}
