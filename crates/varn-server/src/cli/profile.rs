//! Region profiles from the command line: check, keygen and sign need no database;
//! publish puts a signed profile where every instance serves it.

use std::path::PathBuf;

use varn_server::config;

use varn_server::clock::Clock;

use super::{Ctx, ProfileCommand};

/// `profile publish FILE`.
pub async fn publish(ctx: &Ctx, file: PathBuf) -> Result<(), String> {
    let signed = read_profile(&file)?;
    let store = ctx.open().await?;
    let configured = config::load_profiles(&ctx.config).map_err(|e| e.to_string())?;
    let p = varn_server::profiles::publish(store.as_ref(), &configured, &signed, ctx.clock.now())
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

/// Reads a profile file in any form (signed, JSON or TOML); errors name the file and field.
pub fn read_profile(path: &std::path::Path) -> Result<varn_core::signing::SignedProfile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    varn_core::signing::SignedProfile::read_any(&text)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a region's secret signing key.
pub fn read_key(path: &std::path::Path) -> Result<varn_core::signing::SecretKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    varn_core::signing::SecretKey::from_file_text(&text)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The profile commands that need no database (`check`, `keygen`, `sign`); `None` for the
/// others.
pub fn profile_offline(command: &ProfileCommand) -> Option<Result<(), String>> {
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
pub fn write_new_private(path: &std::path::Path, text: &str) -> Result<(), String> {
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
