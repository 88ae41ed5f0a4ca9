//! People from the command line: enrollment codes for the person's app, officers' logins,
//! devices (listed, revoked).

use uuid::Uuid;
use varn_core::wire::Role;
use varn_server::config;
use varn_server::store::{Officer, OfficerChange, Revoker};
use varn_server::{api, auth};

use varn_server::clock::Clock;

use super::{pick_region, Ctx, OfficerCommand};

/// `enroll --name NAME [--role ROLE] [--region ID]`: a one-time code, printed once.
pub async fn enroll(
    ctx: &Ctx,
    name: String,
    role: String,
    region: Option<String>,
) -> Result<(), String> {
    let role = Role::parse(&role)
        .ok_or_else(|| format!("unknown role \"{role}\" (known: förtroendevald)"))?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err("--name must be 1 to 200 characters".into());
    }
    let region = pick_region(&ctx.config, region)?;
    let code = auth::new_code();
    let now = ctx.clock.now();
    let expires = now + api::CODE_LIFETIME;
    ctx.open()
        .await?
        .create_enrollment(
            &region,
            &name,
            role,
            &ctx.secret()?
                .code_hash(&varn_core::wire::normalize_code(&code)),
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

/// `officer add|list|disable|enable|remove|passwd`.
pub async fn officer(ctx: &Ctx, command: OfficerCommand) -> Result<(), String> {
    match command {
        OfficerCommand::Add {
            username,
            name,
            region,
            password_stdin,
            role,
            break_glass,
        } => {
            let region = pick_region(&ctx.config, region)?;
            let role = officer_role(&role)?;
            if !varn_server::store::valid_local_username(&username) {
                return Err(format!(
                    "--username \"{username}\": 1 to 200 characters, without \":\" (names with \":\" \
                     are the identity provider's)"
                ));
            }
            let (hash, password, generated) = new_password(password_stdin).await?;
            let totp = break_glass.then(varn_server::breakglass::new_secret);
            let officer = Officer {
                id: Uuid::now_v7(),
                region_id: region.clone(),
                username: username.trim().to_string(),
                display_name: name.trim().to_string(),
                password_hash: hash,
                disabled_at: None,
                role,
                subject: None,
                totp: match &totp {
                    Some(secret) => Some(
                        ctx.secret()?
                            .seal(varn_server::breakglass::SEAL_PURPOSE, secret),
                    ),
                    None => None,
                },
            };
            ctx.open()
                .await?
                .create_officer(&officer, ctx.clock.now())
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
            if let Some(secret) = totp {
                let (uri, base32) = varn_server::breakglass::enrolment(&secret, &officer.username)?;
                println!("{uri}");
                eprintln!(
                    "The break-glass account also needs a code from an authenticator app: add the \
                     otpauth:// address above (or the key {base32}) to one, kept with the sealed \
                     password. Shown once. Every use is written to the audit log and the journal."
                );
            }
            Ok(())
        }
        OfficerCommand::List => {
            let store = ctx.open().await?;
            for region in config::region_ids(&ctx.config).map_err(|e| e.to_string())? {
                for o in store.officers(&region).await.map_err(|e| e.to_string())? {
                    let state = o
                        .disabled_at
                        .map(|t| format!("disabled {}", t.format("%Y-%m-%d %H:%M")))
                        .unwrap_or_else(|| "active".into());
                    // An officer the provider signs in has the role its groups give at each
                    // sign-in and renewal, not one kept here.
                    let (kind, role) = match (&o.subject, &o.totp) {
                        (Some(_), _) => ("identity provider", "by the provider's groups"),
                        (None, Some(_)) => ("break-glass", o.role.as_str()),
                        (None, None) => ("password", o.role.as_str()),
                    };
                    println!(
                        "{}\t{}\t{}\t{role}\t{kind}\t{state}",
                        o.username, o.region_id, o.display_name
                    );
                }
            }
            Ok(())
        }
        command => change_officer(ctx, command).await,
    }
}

/// Disable, enable, remove or give a new password: one change to one officer.
async fn change_officer(ctx: &Ctx, command: OfficerCommand) -> Result<(), String> {
    let (username, change, done) = match command {
        OfficerCommand::Disable { username } => (
            username,
            OfficerChange::Disable(ctx.clock.now()),
            "is disabled; their open dashboards were logged out",
        ),
        OfficerCommand::Enable { username } => {
            (username, OfficerChange::Enable, "can log in again")
        }
        OfficerCommand::Role { username, role } => {
            let role = officer_role(&role)?;
            (
                username,
                OfficerChange::Role(role),
                "has a new role; their open dashboards were logged out",
            )
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
                eprintln!("The password above is shown once. Give it to the officer in person.");
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
    match ctx
        .open()
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

/// `revoke --device ID`.
pub async fn revoke(ctx: &Ctx, device: Uuid) -> Result<(), String> {
    if ctx
        .open()
        .await?
        .revoke_device(device, ctx.clock.now(), Revoker::Region)
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

/// `devices`: every device, with its state.
pub async fn devices(ctx: &Ctx) -> Result<(), String> {
    for d in ctx
        .open()
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

fn officer_role(role: &str) -> Result<varn_server::store::OfficerRole, String> {
    varn_server::store::OfficerRole::parse(role)
        .ok_or_else(|| format!("unknown role \"{role}\" (known: handläggare, läsare)"))
}
