//! The schema's history: one numbered list of intent, each step written for both backends.
//! Step N brings a database from version N-1 to N (SQLite keeps the number in `user_version`,
//! PostgreSQL in `varn_schema`). Steps are never edited once released; a change is a new step
//! at the end, with both dialects side by side so they cannot drift apart.

/// One step of the schema.
pub struct Migration {
    /// What the step is for, in words.
    pub intent: &'static str,
    /// The step in SQLite (tables are `STRICT`, times RFC 3339 text, ids text).
    pub sqlite: &'static str,
    /// The step in PostgreSQL (times `TIMESTAMPTZ`, ids `UUID`).
    pub postgres: &'static str,
}

/// Every step, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        intent: "Devices, officers, sessions, alarms with their timeline, reports with revisions, attachments in chunks.",
        sqlite: include_str!("migrations/01.sqlite.sql"),
        postgres: include_str!("migrations/01.postgres.sql"),
    },
    Migration {
        intent: "Drills and escalation: an alarm can be a drill, and records its escalation step and whom it alerted.",
        sqlite: include_str!("migrations/02.sqlite.sql"),
        postgres: include_str!("migrations/02.postgres.sql"),
    },
    Migration {
        intent: "Duress: when an alarm was cancelled with the duress PIN.",
        sqlite: include_str!("migrations/03.sqlite.sql"),
        postgres: include_str!("migrations/03.postgres.sql"),
    },
    Migration {
        intent: "Check-ins: the server's dead man's switch, with the deadline and the alarm a missed one raised.",
        sqlite: include_str!("migrations/04.sqlite.sql"),
        postgres: include_str!("migrations/04.postgres.sql"),
    },
    Migration {
        intent: "Every row carries its region: timeline entries, report revisions, attachments, \
                 their chunks and dashboard sessions get the region of what they belong to, and \
                 every query checks it.",
        sqlite: include_str!("migrations/05.sqlite.sql"),
        postgres: include_str!("migrations/05.postgres.sql"),
    },
    Migration {
        intent: "Against an attacker: officers can be disabled, sessions end when idle (last \
                 seen), a device records who revoked it (the region, or the person unlinking), \
                 and an upload keeps its running SHA-256 so the last chunk is not re-read.",
        sqlite: include_str!("migrations/06.sqlite.sql"),
        postgres: include_str!("migrations/06.postgres.sql"),
    },
    Migration {
        intent: "Signed region profiles published into the database (varn-server profile \
                 publish), so every instance serves the newest one.",
        sqlite: include_str!("migrations/07.sqlite.sql"),
        postgres: include_str!("migrations/07.postgres.sql"),
    },
    Migration {
        intent: "App releases published by the region (varn-server release add): the signed \
                 bundle and its notes, served to the devices' updater.",
        sqlite: include_str!("migrations/08.sqlite.sql"),
        postgres: include_str!("migrations/08.postgres.sql"),
    },
    Migration {
        intent: "The region's follow-up: each report's follow-up state and its own timeline, \
                 the facts the statistics count (kept when retention deletes the report or \
                 the alarm), and an append-only audit log of what officers read and export.",
        sqlite: include_str!("migrations/09.sqlite.sql"),
        postgres: include_str!("migrations/09.postgres.sql"),
    },
    Migration {
        intent: "The silent conversation during an alarm (officer and person, each message \
                 once by its client id) and what the person wants responders to know.",
        sqlite: include_str!("migrations/10.sqlite.sql"),
        postgres: include_str!("migrations/10.postgres.sql"),
    },
    Migration {
        intent: "The region's 24/7 alarm centre (SIA DC-09): which timeline entries it has \
                 answered, who sends for the region (a lease), how the link stands, and when \
                 it confirmed or refused an alarm.",
        sqlite: include_str!("migrations/11.sqlite.sql"),
        postgres: include_str!("migrations/11.postgres.sql"),
    },
    Migration {
        intent: "What the region holds, it guards: the statistics' facts keep the month a \
                 report happened in, never the day (`occurred_on` is the month's first day), \
                 an audit entry for a list or a feed keeps the ids it returned (`items`), \
                 and on PostgreSQL the audit log refuses TRUNCATE as it refuses UPDATE and \
                 DELETE, and the server's own role has none of the three on it.",
        sqlite: include_str!("migrations/12.sqlite.sql"),
        postgres: include_str!("migrations/12.postgres.sql"),
    },
    Migration {
        intent: "PTU's third kind of event is *korruptionsförsök*: the facts' old name for it, \
                 `improper_influence`, becomes `corruption` (a report's own text keeps the old \
                 name until it is sent again; both are read as the new one).",
        sqlite: include_str!("migrations/13.sqlite.sql"),
        postgres: include_str!("migrations/13.postgres.sql"),
    },
    Migration {
        intent: "An alarm centre has a primary and backup receivers: how each stands (answers, \
                 carries the traffic, since when), for the dashboard.",
        sqlite: include_str!("migrations/14.sqlite.sql"),
        postgres: include_str!("migrations/14.postgres.sql"),
    },
    Migration {
        intent: "Officers sign in with the region's identity provider (OpenID Connect): an \
                 officer has a role (läsare or handläggare), the provider's subject, and for the \
                 break-glass account a TOTP secret (sealed) with the last time step used; a \
                 session has the role it was given, how it was signed in, when it is renewed \
                 through the provider and the provider's refresh token (sealed); every audit \
                 entry names the officer's role and subject.",
        sqlite: include_str!("migrations/15.sqlite.sql"),
        postgres: include_str!("migrations/15.postgres.sql"),
    },
];

/// The SQLite steps, in order.
pub fn sqlite() -> Vec<&'static str> {
    MIGRATIONS.iter().map(|m| m.sqlite).collect()
}

/// The PostgreSQL steps, in order.
pub fn postgres() -> Vec<&'static str> {
    MIGRATIONS.iter().map(|m| m.postgres).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_both_dialects_and_an_intent() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert!(!m.intent.trim().is_empty(), "step {}", i + 1);
            assert!(!m.sqlite.trim().is_empty(), "step {}", i + 1);
            assert!(!m.postgres.trim().is_empty(), "step {}", i + 1);
        }
    }

    #[test]
    fn both_dialects_create_the_same_tables() {
        fn tables(sql: &str) -> Vec<String> {
            let mut t: Vec<String> = sql
                .split("CREATE TABLE ")
                .skip(1)
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
                .collect();
            t.sort();
            t
        }
        for m in MIGRATIONS {
            assert_eq!(tables(m.sqlite), tables(m.postgres), "{}", m.intent);
        }
    }
}

#[cfg(test)]
mod upgrade {
    use super::*;
    use crate::store::prelude::*;
    use crate::store::sqlite::SqliteStore;

    /// A database written before step 5 keeps its timeline and reports, now with their
    /// region filled in from what they belong to.
    #[tokio::test]
    async fn step_5_gives_existing_rows_their_region() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut c = varn_core::sqlite::open_durable(&path).unwrap();
            varn_core::sqlite::migrate(&mut c, &sqlite()[..4]).unwrap();
            c.execute_batch(
                "INSERT INTO devices VALUES ('d1', 'sormland', 'Anna', 'förtroendevald', 'h', '2026-01-01T00:00:00.000000Z', NULL);
                 INSERT INTO alarms (id, region_id, device_id, triggered_at, received_at, meeting, place, message, status, version)
                   VALUES ('01a2286d-0000-7000-8000-000000000001', 'sormland', 'd1', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:01.000000Z', '', 'Torget', '', 'open', 1);
                 INSERT INTO alarm_events (alarm_id, at, kind, actor, detail)
                   VALUES ('01a2286d-0000-7000-8000-000000000001', '2026-01-01T00:00:01.000000Z', 'received', 'server', '');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let id = uuid::Uuid::parse_str("01a2286d-0000-7000-8000-000000000001").unwrap();
        let events = store.alarm_events("sormland", id).await.unwrap();
        assert_eq!(
            events.len(),
            1,
            "the old entry is kept and found by its region"
        );
        assert!(store.alarm_events("uppsala", id).await.unwrap().is_empty());
    }

    /// A fact written under PTU's third kind's old name counts under its new one.
    #[tokio::test]
    async fn the_old_name_of_corruption_becomes_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let step = MIGRATIONS
            .iter()
            .position(|m| m.sqlite.contains("'improper_influence'"))
            .expect("the rename step");
        {
            let mut c = varn_core::sqlite::open_durable(&path).unwrap();
            varn_core::sqlite::migrate(&mut c, &sqlite()[..step]).unwrap();
            c.execute_batch(
                "INSERT INTO report_facts (report_id, region_id, occurred_on, event, consequences, police_reported)
                   VALUES ('r1', 'sormland', '2026-03-01', 'improper_influence', '', 0);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let on = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let facts = store.report_facts("sormland", on, on).await.unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].event, Some(varn_core::ptu::EventType::Corruption));
        let c = rusqlite::Connection::open(&path).unwrap();
        let stored: String = c
            .query_row("SELECT event FROM report_facts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, "corruption");
    }
}
