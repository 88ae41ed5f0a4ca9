
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
