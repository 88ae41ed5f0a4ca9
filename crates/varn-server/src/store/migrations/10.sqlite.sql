
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
