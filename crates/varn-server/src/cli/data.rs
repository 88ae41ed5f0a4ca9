//! The database from the command line: back it up, restore it, read the audit log, delete
//! what is past its time.

use std::path::PathBuf;

use varn_server::config;
use varn_server::store::{backup, Database};

use varn_server::clock::Clock;

use super::Ctx;

/// `backup --to FILE`: a consistent copy of the SQLite database, private from its first byte.
pub async fn backup(ctx: &Ctx, to: PathBuf) -> Result<(), String> {
    let Database::Sqlite(db) = &ctx.config.database else {
        return Err(backup::POSTGRES_GUIDANCE.into());
    };
    let summary = backup::backup(db, &to)?;
    eprintln!(
            "Backed up {} to {}: {summary}.\nKeep the server's secret file with it ({}): enrollment codes are stored under it.",
            db.display(),
            to.display(),
            config::secret_file_name(&ctx.config)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "VARN_SERVER_SECRET".into())
        );
    Ok(())
}

/// `restore --from FILE [--replace]`: the database from a backup, checked first.
pub async fn restore(ctx: &Ctx, from: PathBuf, replace: bool) -> Result<(), String> {
    let Database::Sqlite(db) = &ctx.config.database else {
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

/// `audit [--from DAY] [--to DAY] [--region ID]`: the audit log, oldest first.
pub async fn audit(
    ctx: &Ctx,
    from: Option<String>,
    to: Option<String>,
    region: Option<String>,
) -> Result<(), String> {
    let today = ctx.clock.now().date_naive();
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
    let store = ctx.open().await?;
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
        // Who: the username, the role, the identity provider's subject (`-` where there is
        // none). A list's or a feed's entry ends with the ids it returned.
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{} {}{}{}",
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.region_id,
            e.officer,
            or_dash(&e.role),
            or_dash(&e.subject),
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

/// `purge`: delete now what `[retention]` says is past its time.
pub async fn purge(ctx: &Ctx) -> Result<(), String> {
    if !ctx.config.retention.is_on() {
        return Err("no [retention] in the config: nothing is ever deleted".into());
    }
    let store = ctx.open().await?;
    let p = store
        .purge(ctx.config.retention.cutoffs(ctx.clock.now()))
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
            "Deleted {} closed reports ({} attachments), {} finished alarms, {} ended check-ins and {} expired sessions; the statistics keep their counts.",
            p.reports, p.attachments, p.alarms, p.checkins, p.sessions
        );
    Ok(())
}
