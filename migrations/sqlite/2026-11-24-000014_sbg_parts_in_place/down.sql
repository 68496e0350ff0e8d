DROP TABLE sbg_upload_parts;
CREATE TABLE sbg_upload_parts (
    upload_id      TEXT      NOT NULL REFERENCES sbg_uploads (upload_id) ON DELETE CASCADE,
    part_number    INTEGER   NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
    size           BIGINT    NOT NULL,
    md5            TEXT      NOT NULL,
    content_sha256 TEXT      NOT NULL,
    reported       BOOLEAN   NOT NULL,
    uploaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE INDEX sbg_upload_parts_content_sha256 ON sbg_upload_parts (content_sha256);
