
ALTER TABLE alarms ADD COLUMN drill INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '[]';
CREATE INDEX alarms_open ON alarms (status, drill) WHERE status = 'open' AND drill = 0;
