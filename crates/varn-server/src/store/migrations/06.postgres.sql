
ALTER TABLE officers ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE devices ADD COLUMN revoked_by TEXT;
ALTER TABLE attachments ADD COLUMN hash_state BYTEA;
CREATE INDEX sessions_by_officer ON sessions (officer_id);
