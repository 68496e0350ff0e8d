DROP TABLE dx_bucket_uploads;
DELETE FROM upload_parts WHERE content_sha256 IS NULL;
CREATE TABLE upload_parts_old (
    object_id      BIGINT    NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    part_index     INTEGER   NOT NULL CHECK (part_index BETWEEN 1 AND 10000),
    size           BIGINT    NOT NULL,
    md5            TEXT      NOT NULL,
    content_sha256 TEXT      NOT NULL,
    uploaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (object_id, part_index)
);
INSERT INTO upload_parts_old SELECT * FROM upload_parts;
DROP TABLE upload_parts;
ALTER TABLE upload_parts_old RENAME TO upload_parts;
CREATE INDEX upload_parts_content_sha256 ON upload_parts (content_sha256);
