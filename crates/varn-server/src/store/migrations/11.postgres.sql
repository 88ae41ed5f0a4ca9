
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
