-- SBG multipart uploads in progress (`/v2/upload/multipart`). An upload becomes a file when it
-- is completed, and is deleted then, when aborted, or once idle for longer than the server's
-- upload expiry. Keep in step with the other backend's migration and crates/store/src/schema.rs.
CREATE TABLE sbg_uploads (
    upload_id  TEXT      NOT NULL PRIMARY KEY,
    user_id    BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    folder_id  BIGINT    NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    name       TEXT      NOT NULL,
    size       BIGINT    NOT NULL CHECK (size >= 0),
    part_size  BIGINT    NOT NULL CHECK (part_size > 0),
    overwrite  BOOLEAN   NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- The last time a part was sent or reported: what the expiry counts from.
    touched_at TIMESTAMP NOT NULL
);
CREATE INDEX sbg_uploads_touched_at ON sbg_uploads (touched_at);

-- The parts received, their bytes in the content store under content_sha256. `reported` once
-- the client has reported the part with its ETag, as the SDK does after each PUT.
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
