
UPDATE report_facts SET occurred_on = date_trunc('month', occurred_on)::date;
ALTER TABLE audit_log ADD COLUMN items TEXT NOT NULL DEFAULT '';
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
