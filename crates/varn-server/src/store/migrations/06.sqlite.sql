
ALTER TABLE officers ADD COLUMN disabled_at TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE devices ADD COLUMN revoked_by TEXT;
ALTER TABLE attachments ADD COLUMN hash_state BLOB;
CREATE INDEX sessions_by_officer ON sessions (officer_id);
