
ALTER TABLE alarm_events ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE alarm_events SET region_id = COALESCE((SELECT p.region_id FROM alarms p WHERE p.id = alarm_events.alarm_id), '');
ALTER TABLE report_revisions ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE report_revisions SET region_id = COALESCE((SELECT p.region_id FROM reports p WHERE p.id = report_revisions.report_id), '');
ALTER TABLE attachments ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE attachments SET region_id = COALESCE((SELECT p.region_id FROM reports p WHERE p.id = attachments.report_id), '');
ALTER TABLE attachment_chunks ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE attachment_chunks SET region_id = COALESCE((SELECT p.region_id FROM attachments p WHERE p.id = attachment_chunks.attachment_id), '');
ALTER TABLE sessions ADD COLUMN region_id TEXT NOT NULL DEFAULT '';
UPDATE sessions SET region_id = COALESCE((SELECT p.region_id FROM officers p WHERE p.id = sessions.officer_id), '');
CREATE INDEX alarm_events_by_region ON alarm_events (region_id, alarm_id);
