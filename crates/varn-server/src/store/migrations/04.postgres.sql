
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
