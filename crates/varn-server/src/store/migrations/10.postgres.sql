
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
