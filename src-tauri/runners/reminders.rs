//! Reminders before planned appearances: a desktop notification `remind_minutes` before the
//! start when the risk inventory is missing or advises measures. Each fires once: it is
//! marked in the database before it is shown, so a restart never shows it again.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::NaiveDateTime;
use varn_core::appearance::{self, Appearance, Reminder};
use varn_core::incident::LOCAL_TIME;
use varn_core::profile::RiskConfig;
use varn_core::risk::{assess, InventoryState};

use crate::profiles::ActiveProfile;
use crate::storage::{Db, StorageError};

/// How often the reminders are looked at.
pub const LOOK_EVERY: Duration = Duration::from_secs(20);

/// The reminders due at `now` (local time), each marked shown in the same step; the caller
/// shows them.
pub fn due(
    db: &Db,
    risk: &RiskConfig,
    now: NaiveDateTime,
) -> Result<Vec<(Appearance, Reminder)>, StorageError> {
    let mut out = Vec::new();
    for a in db.appearances(&now.format(LOCAL_TIME).to_string())? {
        if db.reminded(a.id)? {
            continue;
        }
        let inventory = inventory_state(db, risk, &a)?;
        if let Some(r) = appearance::reminder_due(&a, inventory, now) {
            if db.mark_reminded(a.id)? {
                out.push((a, r));
            }
        }
    }
    Ok(out)
}

/// Where an appearance's risk inventory stands (missing when it has none, or it is gone).
pub fn inventory_state(
    db: &Db,
    risk: &RiskConfig,
    a: &Appearance,
) -> Result<InventoryState, StorageError> {
    let assessment = match a.inventory_id {
        Some(id) => db
            .inventory(id)?
            .map(|s| assess(risk, &s.inventory.answers)),
        None => None,
    };
    Ok(InventoryState::of(assessment.as_ref()))
}

/// Looks every [`LOOK_EVERY`] and hands each due reminder to `show`.
pub async fn run(
    db: Arc<Db>,
    profile: Arc<RwLock<ActiveProfile>>,
    show: impl Fn(&Appearance, Reminder) + Send + 'static,
) {
    loop {
        let risk = profile
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .profile
            .risk
            .clone();
        let now = chrono::Local::now().naive_local();
        match due(&db, &risk, now) {
            Ok(list) => {
                for (a, r) in list {
                    show(&a, r);
                }
            }
            Err(e) => tracing::error!("reading appearances for reminders failed: {e}"),
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(s: &str) -> NaiveDateTime {
        appearance::parse_local(s).unwrap()
    }

    #[test]
    fn a_reminder_fires_once_at_its_time_and_not_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("varn.db");
        let risk = varn_core::profile::Profile::embedded_default()
            .unwrap()
            .risk;
        let a = Appearance {
            id: Uuid::now_v7(),
            title: "Medborgardialog".into(),
            place: "Folkets hus".into(),
            starts_at: "2026-12-01T18:00".into(),
            ends_at: "2026-12-01T20:00".into(),
            remind_minutes: 30,
            inventory_id: None,
        };
        {
            let db = Db::open(&path).unwrap();
            db.save_appearance(&a).unwrap();
            assert!(due(&db, &risk, at("2026-12-01T17:29")).unwrap().is_empty());
            let fired = due(&db, &risk, at("2026-12-01T17:30")).unwrap();
            assert_eq!(fired.len(), 1);
            assert_eq!(fired[0].1, Reminder::NoInventory);
            assert!(due(&db, &risk, at("2026-12-01T17:31")).unwrap().is_empty());
        }
        // A restart: the same database, later the same evening.
        let db = Db::open(&path).unwrap();
        assert!(due(&db, &risk, at("2026-12-01T17:45")).unwrap().is_empty());
        // Moved to another day: armed again.
        let moved = Appearance {
            starts_at: "2026-12-02T18:00".into(),
            ends_at: "2026-12-02T20:00".into(),
            ..a
        };
        db.save_appearance(&moved).unwrap();
        assert_eq!(due(&db, &risk, at("2026-12-02T17:30")).unwrap().len(), 1);
    }

    #[test]
    fn an_inventory_with_nothing_rated_still_reminds_and_a_calm_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("varn.db")).unwrap();
        let risk = varn_core::profile::Profile::embedded_default()
            .unwrap()
            .risk;
        let empty = varn_core::risk::Inventory {
            id: Uuid::now_v7(),
            what: "Möte".into(),
            when: "2026-12-01T18:00".into(),
            place: String::new(),
            answers: Default::default(),
        };
        db.save_inventory(&empty, "2026-12-01T10:00:00Z").unwrap();
        let mut calm = empty.clone();
        calm.id = Uuid::now_v7();
        let low = varn_core::risk::Answer {
            level: Some(varn_core::risk::Level::Low),
            note: String::new(),
        };
        calm.answers = risk
            .questions
            .iter()
            .map(|q| (q.id.clone(), low.clone()))
            .collect();
        db.save_inventory(&calm, "2026-12-01T10:00:00Z").unwrap();
        let planned = |inventory: Uuid| Appearance {
            id: Uuid::now_v7(),
            title: "Möte".into(),
            place: String::new(),
            starts_at: "2026-12-01T18:00".into(),
            ends_at: "2026-12-01T19:00".into(),
            remind_minutes: 60,
            inventory_id: Some(inventory),
        };
        let (a, b) = (planned(empty.id), planned(calm.id));
        db.save_appearance(&a).unwrap();
        db.save_appearance(&b).unwrap();
        let fired = due(&db, &risk, at("2026-12-01T17:00")).unwrap();
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].0.id, a.id);
        assert_eq!(fired[0].1, Reminder::NoInventory);
    }
}
