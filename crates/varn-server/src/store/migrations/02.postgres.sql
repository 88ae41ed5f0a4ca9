
ALTER TABLE alarms ADD COLUMN drill BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE alarms ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN escalated_to TEXT NOT NULL DEFAULT '[]';
CREATE INDEX alarms_open ON alarms (received_at) WHERE status = 'open' AND NOT drill;
