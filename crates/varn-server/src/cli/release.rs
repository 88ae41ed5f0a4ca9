//! App releases from the command line: publish one (its signature checked first), list them.

use varn_server::clock::Clock;

use super::{Ctx, ReleaseCommand};

/// `release add …` and `release list`.
pub async fn run(ctx: &Ctx, command: ReleaseCommand) -> Result<(), String> {
    match command {
        ReleaseCommand::Add {
            bundle,
            signature,
            notes,
            version,
            platform,
            update_key,
        } => {
            let key_file = update_key.or(ctx.config.update_key.clone()).ok_or(
                "release add verifies the signature before it publishes: give the update key's \
                     public half (--update-key FILE.pub, or update_key in the config)",
            )?;
            let key = std::fs::read_to_string(&key_file)
                .map_err(|e| format!("{}: {e}", key_file.display()))?;
            let store = ctx.open().await?;
            let new = varn_server::releases::NewRelease {
                bundle: &bundle,
                signature: &signature,
                notes,
                version,
                platform,
                update_key: key.trim(),
            };
            let r = varn_server::releases::publish(store.as_ref(), new, ctx.clock.now())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                    "Published version {} for {} ({} bytes, sha256 {}). Devices on an older version are offered it at their next check.",
                    r.version, r.platform, r.size, r.sha256
                );
            Ok(())
        }
        ReleaseCommand::List => {
            let store = ctx.open().await?;
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
    }
}
