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
        sqlite: "
CREATE TABLE enrollment_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    region_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    device_id  TEXT
) STRICT;
CREATE TABLE devices (
    id         TEXT PRIMARY KEY NOT NULL,
    region_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE TABLE officers (
    id            TEXT PRIMARY KEY NOT NULL,
    region_id     TEXT NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE TABLE alarms (
    id              TEXT PRIMARY KEY NOT NULL,
    region_id       TEXT NOT NULL,
    device_id       TEXT NOT NULL REFERENCES devices (id),
    triggered_at    TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    meeting         TEXT NOT NULL,
    place           TEXT NOT NULL,
    message         TEXT NOT NULL,
    status          TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    cancelled_at    TEXT,
    cancel_reason   TEXT,
    version         INTEGER NOT NULL
) STRICT;
CREATE INDEX alarms_by_region ON alarms (region_id, received_at DESC);
CREATE TABLE alarm_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id TEXT NOT NULL REFERENCES alarms (id),
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    detail   TEXT NOT NULL
) STRICT;
CREATE INDEX alarm_events_by_alarm ON alarm_events (alarm_id, seq);
CREATE TABLE reports (
    id                TEXT PRIMARY KEY NOT NULL,
    region_id         TEXT NOT NULL,
    device_id         TEXT NOT NULL REFERENCES devices (id),
    current_revision  INTEGER NOT NULL,
    first_received_at TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX reports_by_region ON reports (region_id, updated_at DESC);
CREATE TABLE report_revisions (
    report_id   TEXT NOT NULL REFERENCES reports (id),
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (report_id, revision)
) STRICT;
CREATE TABLE attachments (
    id           TEXT PRIMARY KEY NOT NULL,
    report_id    TEXT NOT NULL REFERENCES reports (id),
    device_id    TEXT NOT NULL REFERENCES devices (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    received     INTEGER NOT NULL,
    complete_at  TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX attachments_by_report ON attachments (report_id);
CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL REFERENCES attachments (id),
    offset        INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, offset)
) STRICT;
",
        postgres: "
CREATE TABLE enrollment_codes (
    code_hash  TEXT PRIMARY KEY,
    region_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    device_id  UUID
);
CREATE TABLE devices (
    id         UUID PRIMARY KEY,
    region_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE TABLE officers (
    id            UUID PRIMARY KEY,
    region_id     TEXT NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    officer_id UUID NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE alarms (
    id              UUID PRIMARY KEY,
    region_id       TEXT NOT NULL,
    device_id       UUID NOT NULL REFERENCES devices (id),
    triggered_at    TIMESTAMPTZ NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    meeting         TEXT NOT NULL,
    place           TEXT NOT NULL,
    message         TEXT NOT NULL,
    status          TEXT NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by TEXT,
    cancelled_at    TIMESTAMPTZ,
    cancel_reason   TEXT,
    version         BIGINT NOT NULL
);
CREATE INDEX alarms_by_region ON alarms (region_id, received_at DESC);
CREATE TABLE alarm_events (
    seq      BIGSERIAL PRIMARY KEY,
    alarm_id UUID NOT NULL REFERENCES alarms (id),
    at       TIMESTAMPTZ NOT NULL,
    kind     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX alarm_events_by_alarm ON alarm_events (alarm_id, seq);
CREATE TABLE reports (
    id                UUID PRIMARY KEY,
    region_id         TEXT NOT NULL,
    device_id         UUID NOT NULL REFERENCES devices (id),
    current_revision  INTEGER NOT NULL,
    first_received_at TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX reports_by_region ON reports (region_id, updated_at DESC);
CREATE TABLE report_revisions (
    report_id   UUID NOT NULL REFERENCES reports (id),
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (report_id, revision)
);
CREATE TABLE attachments (
    id           UUID PRIMARY KEY,
    report_id    UUID NOT NULL REFERENCES reports (id),
    device_id    UUID NOT NULL REFERENCES devices (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    received     BIGINT NOT NULL,
    complete_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_by_report ON attachments (report_id);
CREATE TABLE attachment_chunks (
    attachment_id UUID NOT NULL REFERENCES attachments (id),
    \"offset\"      BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (attachment_id, \"offset\")
);
",
    },
    Migration {
        intent: "Drills and escalation: an alarm can be a drill, and records its escalation step and whom it alerted.",
        sqlite: "
ALTER TABLE alarms ADD COLUMN drill INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '[]';
CREATE INDEX alarms_open ON alarms (status, drill) WHERE status = 'open' AND drill = 0;
",
        postgres: "
ALTER TABLE alarms ADD COLUMN drill BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE alarms ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '[]';
CREATE INDEX alarms_open ON alarms (received_at) WHERE status = 'open' AND NOT drill;
",
    },
    Migration {
        intent: "Duress: when an alarm was cancelled with the duress PIN.",
        sqlite: "
ALTER TABLE alarms ADD COLUMN duress_at TEXT;
",
        postgres: "
ALTER TABLE alarms ADD COLUMN duress_at TIMESTAMPTZ;
",
    },
    Migration {
        intent: "Check-ins: the server's dead man's switch, with the deadline and the alarm a missed one raised.",
        sqlite: "
CREATE TABLE checkins (
    id             TEXT PRIMARY KEY NOT NULL,
    region_id      TEXT NOT NULL,
    device_id      TEXT NOT NULL REFERENCES devices (id),
    started_at     TEXT NOT NULL,
    deadline       TEXT NOT NULL,
    meeting        TEXT NOT NULL,
    place          TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'checked_out', 'overdue')),
    received_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    checked_out_at TEXT,
    outcome        TEXT CHECK (outcome IN ('calm', 'incident')),
    alarm_id       TEXT
) STRICT;
CREATE INDEX checkins_due ON checkins (deadline) WHERE status = 'active';
CREATE INDEX checkins_by_region ON checkins (region_id, status);
",
        postgres: "
CREATE TABLE checkins (
    id             UUID PRIMARY KEY,
    region_id      TEXT NOT NULL,
    device_id      UUID NOT NULL REFERENCES devices (id),
    started_at     TIMESTAMPTZ NOT NULL,
    deadline       TIMESTAMPTZ NOT NULL,
    meeting        TEXT NOT NULL,
    place          TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'checked_out', 'overdue')),
    received_at    TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    checked_out_at TIMESTAMPTZ,
    outcome        TEXT CHECK (outcome IN ('calm', 'incident')),
    alarm_id       UUID
);
CREATE INDEX checkins_due ON checkins (deadline) WHERE status = 'active';
CREATE INDEX checkins_by_region ON checkins (region_id, status);
",
    },
    Migration {
        intent: "Every row carries its region: timeline entries, report revisions, attachments, \
                 their chunks and dashboard sessions get the region of what they belong to, and \
                 every query checks it.",
        sqlite: "
ALTER TABLE alarm_events ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE alarm_events SET region_id = COALESCE((SELECT p.region_id FROM alarms p WHERE p.id = alarm_events.alarm_id), '');
ALTER TABLE report_revisions ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE report_revisions SET region_id = COALESCE((SELECT p.region_id FROM reports p WHERE p.id = report_revisions.report_id), '');
ALTER TABLE attachments ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE attachments SET region_id = COALESCE((SELECT p.region_id FROM reports p WHERE p.id = attachments.report_id), '');
ALTER TABLE attachment_chunks ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE attachment_chunks SET region_id = COALESCE((SELECT p.region_id FROM attachments p WHERE p.id = attachment_chunks.attachment_id), '');
ALTER TABLE sessions ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE sessions SET region_id = COALESCE((SELECT p.region_id FROM officers p WHERE p.id = sessions.officer_id), '');
CREATE INDEX alarm_events_by_region ON alarm_events (region_id, alarm_id);
",
        postgres: "
ALTER TABLE alarm_events ADD COLUMN region_id TEXT;
UPDATE alarm_events c SET region_id = p.region_id FROM alarms p WHERE p.id = c.alarm_id;
ALTER TABLE alarm_events ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE report_revisions ADD COLUMN region_id TEXT;
UPDATE report_revisions c SET region_id = p.region_id FROM reports p WHERE p.id = c.report_id;
ALTER TABLE report_revisions ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE attachments ADD COLUMN region_id TEXT;
UPDATE attachments c SET region_id = p.region_id FROM reports p WHERE p.id = c.report_id;
ALTER TABLE attachments ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE attachment_chunks ADD COLUMN region_id TEXT;
UPDATE attachment_chunks c SET region_id = p.region_id FROM attachments p WHERE p.id = c.attachment_id;
ALTER TABLE attachment_chunks ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE sessions ADD COLUMN region_id TEXT;
UPDATE sessions c SET region_id = p.region_id FROM officers p WHERE p.id = c.officer_id;
ALTER TABLE sessions ALTER COLUMN region_id SET NOT NULL;
CREATE INDEX alarm_events_by_region ON alarm_events (region_id, alarm_id);
",
    },
    Migration {
        intent: "Against an attacker: officers can be disabled, sessions end when idle (last \
                 seen), a device records who revoked it (the region, or the person unlinking), \
                 and an upload keeps its running SHA-256 so the last chunk is not re-read.",
        sqlite: "
ALTER TABLE officers ADD COLUMN disabled_at TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE devices ADD COLUMN revoked_by TEXT;
ALTER TABLE attachments ADD COLUMN hash_state BLOB;
CREATE INDEX sessions_by_officer ON sessions (officer_id);
",
        postgres: "
ALTER TABLE officers ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE devices ADD COLUMN revoked_by TEXT;
ALTER TABLE attachments ADD COLUMN hash_state BYTEA;
CREATE INDEX sessions_by_officer ON sessions (officer_id);
",
    },
    Migration {
        intent: "Signed region profiles published into the database (varn-server profile \
                 publish), so every instance serves the newest one.",
        sqlite: "
CREATE TABLE published_profiles (
    region_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    signed       TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (region_id, version)
) STRICT;
",
        postgres: "
CREATE TABLE published_profiles (
    region_id    TEXT NOT NULL,
    version      BIGINT NOT NULL,
    signed       TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_id, version)
);
",
    },
    Migration {
        intent: "App releases published by the region (varn-server release add): the signed \
                 bundle and its notes, served to the devices' updater.",
        sqlite: "
CREATE TABLE app_releases (
    version      TEXT NOT NULL,
    platform     TEXT NOT NULL,
    notes        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    bundle       BLOB NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (version, platform)
) STRICT;
",
        postgres: "
CREATE TABLE app_releases (
    version      TEXT NOT NULL,
    platform     TEXT NOT NULL,
    notes        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    bundle       BYTEA NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (version, platform)
);
",
    },
    Migration {
        intent: "The region's follow-up: each report's follow-up state and its own timeline, \
                 the facts the statistics count (kept when retention deletes the report or \
                 the alarm), and an append-only audit log of what officers read and export.",
        sqlite: "
ALTER TABLE reports ADD COLUMN followup_state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE reports ADD COLUMN followup_by TEXT;
ALTER TABLE reports ADD COLUMN followup_message TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN followup_at TEXT;
CREATE TABLE report_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES reports (id),
    region_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL
) STRICT;
CREATE INDEX report_events_by_report ON report_events (report_id, seq);
CREATE TABLE report_facts (
    report_id           TEXT PRIMARY KEY NOT NULL,
    region_id           TEXT NOT NULL,
    occurred_on         TEXT NOT NULL,
    event               TEXT,
    channel             TEXT,
    sexual              INTEGER,
    repeated            INTEGER,
    perpetrator         TEXT,
    consequences        TEXT NOT NULL,
    police_reported     INTEGER NOT NULL,
    not_reported_reason TEXT
) STRICT;
CREATE INDEX report_facts_by_region ON report_facts (region_id, occurred_on);
CREATE TABLE alarm_facts (
    alarm_id     TEXT PRIMARY KEY NOT NULL,
    region_id    TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    drill        INTEGER NOT NULL,
    from_checkin INTEGER NOT NULL,
    ack_seconds  INTEGER,
    escalated    INTEGER NOT NULL
) STRICT;
CREATE INDEX alarm_facts_by_region ON alarm_facts (region_id, received_at);
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    officer   TEXT NOT NULL,
    action    TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    item_id   TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_item ON audit_log (region_id, item_id, seq);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
",
        postgres: "
ALTER TABLE reports ADD COLUMN followup_state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE reports ADD COLUMN followup_by TEXT;
ALTER TABLE reports ADD COLUMN followup_message TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN followup_at TIMESTAMPTZ;
CREATE TABLE report_events (
    seq       BIGSERIAL PRIMARY KEY,
    report_id UUID NOT NULL REFERENCES reports (id),
    region_id TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX report_events_by_report ON report_events (report_id, seq);
CREATE TABLE report_facts (
    report_id           UUID PRIMARY KEY,
    region_id           TEXT NOT NULL,
    occurred_on         DATE NOT NULL,
    event               TEXT,
    channel             TEXT,
    sexual              BOOLEAN,
    repeated            BOOLEAN,
    perpetrator         TEXT,
    consequences        TEXT NOT NULL,
    police_reported     BOOLEAN NOT NULL,
    not_reported_reason TEXT
);
CREATE INDEX report_facts_by_region ON report_facts (region_id, occurred_on);
CREATE TABLE alarm_facts (
    alarm_id     UUID PRIMARY KEY,
    region_id    TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    drill        BOOLEAN NOT NULL,
    from_checkin BOOLEAN NOT NULL,
    ack_seconds  BIGINT,
    escalated    BOOLEAN NOT NULL
);
CREATE INDEX alarm_facts_by_region ON alarm_facts (region_id, received_at);
CREATE TABLE audit_log (
    seq       BIGSERIAL PRIMARY KEY,
    region_id TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    officer   TEXT NOT NULL,
    action    TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    item_id   TEXT NOT NULL
);
CREATE INDEX audit_log_by_item ON audit_log (region_id, item_id, seq);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
",
    },
    Migration {
        intent: "The silent conversation during an alarm (officer and person, each message \
                 once by its client id) and what the person wants responders to know.",
        sqlite: "
CREATE TABLE alarm_messages (
    id        TEXT PRIMARY KEY NOT NULL,
    alarm_id  TEXT NOT NULL REFERENCES alarms (id),
    region_id TEXT NOT NULL,
    sender    TEXT NOT NULL,
    author    TEXT NOT NULL,
    text      TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX alarm_messages_by_alarm ON alarm_messages (alarm_id, at);
ALTER TABLE devices ADD COLUMN instructions TEXT NOT NULL DEFAULT '';
",
        postgres: "
CREATE TABLE alarm_messages (
    id        UUID PRIMARY KEY,
    alarm_id  UUID NOT NULL REFERENCES alarms (id),
    region_id TEXT NOT NULL,
    sender    TEXT NOT NULL,
    author    TEXT NOT NULL,
    text      TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX alarm_messages_by_alarm ON alarm_messages (alarm_id, at);
ALTER TABLE devices ADD COLUMN instructions TEXT NOT NULL DEFAULT '';
",
    },
    Migration {
        intent: "The region's 24/7 alarm centre (SIA DC-09): which timeline entries it has \
                 answered, who sends for the region (a lease), how the link stands, and when \
                 it confirmed or refused an alarm.",
        sqlite: "
CREATE TABLE centre_state (
    region_id    TEXT PRIMARY KEY NOT NULL,
    since        TEXT NOT NULL,
    lease_holder TEXT,
    lease_until  TEXT,
    last_answer_at TEXT,
    down_since   TEXT
) STRICT;
CREATE TABLE centre_sent (
    event_seq INTEGER PRIMARY KEY NOT NULL,
    region_id TEXT NOT NULL,
    answer    TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX alarm_events_for_centre ON alarm_events (region_id, seq);
ALTER TABLE alarms ADD COLUMN centre_received_at TEXT;
ALTER TABLE alarms ADD COLUMN centre_refused_at TEXT;
",
        postgres: "
CREATE TABLE centre_state (
    region_id    TEXT PRIMARY KEY,
    since        TIMESTAMPTZ NOT NULL,
    lease_holder UUID,
    lease_until  TIMESTAMPTZ,
    last_answer_at TIMESTAMPTZ,
    down_since   TIMESTAMPTZ
);
CREATE TABLE centre_sent (
    event_seq BIGINT PRIMARY KEY,
    region_id TEXT NOT NULL,
    answer    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX alarm_events_for_centre ON alarm_events (region_id, seq);
ALTER TABLE alarms ADD COLUMN centre_received_at TIMESTAMPTZ;
ALTER TABLE alarms ADD COLUMN centre_refused_at TIMESTAMPTZ;
",
    },
    Migration {
        intent: "What the region holds, it guards: the statistics' facts keep the month a \
                 report happened in, never the day (`occurred_on` is the month's first day), \
                 an audit entry for a list or a feed keeps the ids it returned (`items`), \
                 and on PostgreSQL the audit log refuses TRUNCATE as it refuses UPDATE and \
                 DELETE, and the server's own role has none of the three on it.",
        sqlite: "
UPDATE report_facts SET occurred_on = substr(occurred_on, 1, 8) || '01';
ALTER TABLE audit_log ADD COLUMN items TEXT NOT NULL DEFAULT '';
",
        postgres: "
UPDATE report_facts SET occurred_on = date_trunc('month', occurred_on)::date;
ALTER TABLE audit_log ADD COLUMN items TEXT NOT NULL DEFAULT '';
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
",
    },
    Migration {
        intent: "PTU's third kind of event is *korruptionsförsök*: the facts' old name for it, \
                 `improper_influence`, becomes `corruption` (a report's own text keeps the old \
                 name until it is sent again; both are read as the new one).",
        sqlite: "
UPDATE report_facts SET event = 'corruption' WHERE event = 'improper_influence';
",
        postgres: "
UPDATE report_facts SET event = 'corruption' WHERE event = 'improper_influence';
",
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
