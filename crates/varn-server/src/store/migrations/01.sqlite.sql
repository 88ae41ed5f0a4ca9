
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
