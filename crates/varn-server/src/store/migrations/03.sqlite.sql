
ALTER TABLE alarms ADD COLUMN duress_at TEXT;
