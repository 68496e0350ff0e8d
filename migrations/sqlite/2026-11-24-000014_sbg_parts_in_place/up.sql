-- SBG upload parts are written in place, at their offsets in one file per upload (the content
-- store's tmp/upload-<id>), which becomes the file's content on completion: a part is no
-- content of its own any more, so it has no address, and its ETag is the SHA-256 of its bytes.
-- Uploads in progress lose their parts, which their clients send again.
DROP TABLE sbg_upload_parts;
CREATE TABLE sbg_upload_parts (
    upload_id   TEXT      NOT NULL REFERENCES sbg_uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER   NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
    size        BIGINT    NOT NULL,
    etag        TEXT      NOT NULL,
    reported    BOOLEAN   NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
