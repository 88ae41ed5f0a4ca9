
ALTER TABLE alarm_events ADD COLUMN region_id TEXT;
UPDATE alarm_events c SET region_id = p.region_id FROM alarms p WHERE p.id = c.alarm_id;
ALTER TABLE alarm_events ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE report_revisions ADD COLUMN region_id TEXT;
UPDATE report_revisions c SET region_id = p.region_id FROM reports p WHERE p.id = c.report_id;
ALTER TABLE report_revisions ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE attachments ADD COLUMN region_id TEXT;
UPDATE attachments c SET region_id = p.region_id FROM reports p WHERE p.id = c.report_id;
ALTER TABLE attachments ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE attachment_chunks ADD COLUMN region_id TEXT;
UPDATE attachment_chunks c SET region_id = p.region_id FROM attachments p WHERE p.id = c.attachment_id;
ALTER TABLE attachment_chunks ALTER COLUMN region_id SET NOT NULL;
ALTER TABLE sessions ADD COLUMN region_id TEXT;
UPDATE sessions c SET region_id = p.region_id FROM officers p WHERE p.id = c.officer_id;
ALTER TABLE sessions ALTER COLUMN region_id SET NOT NULL;
CREATE INDEX alarm_events_by_region ON alarm_events (region_id, alarm_id);
