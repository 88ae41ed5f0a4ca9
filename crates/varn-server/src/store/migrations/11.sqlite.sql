
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
