
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
    "offset"      BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (attachment_id, "offset")
);
