DROP TABLE sbg_upload_parts;
DROP TABLE sbg_uploads;
