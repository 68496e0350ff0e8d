DROP TABLE dx_bucket_uploads;
DELETE FROM upload_parts WHERE content_sha256 IS NULL;
ALTER TABLE upload_parts ALTER COLUMN content_sha256 SET NOT NULL;
