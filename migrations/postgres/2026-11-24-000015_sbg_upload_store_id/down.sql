ALTER TABLE sbg_uploads DROP COLUMN store_upload_id;
