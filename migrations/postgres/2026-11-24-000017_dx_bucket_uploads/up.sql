-- With an S3 content store, a DNAnexus file's parts go straight to the bucket, to presigned
-- UploadPart URLs of one multipart upload per file (at uploads/<upload_id>): Ferry records each
-- part (its index, size and MD5, which the client announces) when it signs its URL, with no
-- content address (content_sha256 NULL); closing completes the bucket's upload.
ALTER TABLE upload_parts ALTER COLUMN content_sha256 DROP NOT NULL;

CREATE TABLE dx_bucket_uploads (
    object_id       BIGINT NOT NULL PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    upload_id       TEXT   NOT NULL,
    store_upload_id TEXT   NOT NULL
);
