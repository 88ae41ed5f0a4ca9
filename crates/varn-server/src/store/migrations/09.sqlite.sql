
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
