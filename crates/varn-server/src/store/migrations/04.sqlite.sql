
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
