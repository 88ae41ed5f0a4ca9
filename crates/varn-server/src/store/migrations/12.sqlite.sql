
UPDATE report_facts SET occurred_on = substr(occurred_on, 1, 8) || '01';
ALTER TABLE audit_log ADD COLUMN items TEXT NOT NULL DEFAULT '';
