-- With an S3 content store, a DNAnexus file's parts go straight to the bucket, to presigned
-- UploadPart URLs of one multipart upload per file (at uploads/<upload_id>): Ferry records each
-- part (its index, size and MD5, which the client announces) when it signs its URL, with no
-- content address (content_sha256 NULL); closing completes the bucket's upload.
CREATE TABLE upload_parts_new (
    object_id      BIGINT    NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    part_index     INTEGER   NOT NULL CHECK (part_index BETWEEN 1 AND 10000),
    size           BIGINT    NOT NULL,
    md5            TEXT      NOT NULL,
    content_sha256 TEXT,
    uploaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (object_id, part_index)
);
INSERT INTO upload_parts_new SELECT * FROM upload_parts;
DROP TABLE upload_parts;
ALTER TABLE upload_parts_new RENAME TO upload_parts;
CREATE INDEX upload_parts_content_sha256 ON upload_parts (content_sha256);

CREATE TABLE dx_bucket_uploads (
    object_id       BIGINT NOT NULL PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    upload_id       TEXT   NOT NULL,
    store_upload_id TEXT   NOT NULL
);
