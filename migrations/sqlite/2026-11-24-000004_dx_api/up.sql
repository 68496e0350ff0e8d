-- What the DNAnexus dialect keeps beside the shared model. Keep in step with migrations/postgres
-- and crates/store/src/schema.rs.

-- A DNAnexus project's one-line summary (SBG projects have none); no row for an empty one.
CREATE TABLE project_summaries (
    project_id BIGINT NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    summary    TEXT   NOT NULL
);

-- The class-specific fields DNAnexus describes, as a JSON object: an applet's runSpec, dxapi,
-- inputSpec, outputSpec, access, title, summary and description; a workflow's stages, inputs,
-- outputs, outputFolder, title, summary and description; a file's media type. Only objects that
-- have some get a row.
CREATE TABLE object_class_fields (
    object_id BIGINT NOT NULL PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    fields    TEXT   NOT NULL
);

-- The parts of an open file, uploaded through /file-xxxx/upload. The bytes are in the content
-- store under content_sha256; closing the file concatenates the parts in index order and
-- deletes these rows. A part uploaded again replaces the row.
CREATE TABLE upload_parts (
    object_id      BIGINT    NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    part_index     INTEGER   NOT NULL CHECK (part_index BETWEEN 1 AND 10000),
    size           BIGINT    NOT NULL,
    md5            TEXT      NOT NULL,
    content_sha256 TEXT      NOT NULL,
    uploaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (object_id, part_index)
);

-- DNAnexus nonces: a creation repeated with the same nonce and the same input gets the first
-- response; with another input it is refused. Written in the transaction of the creation.
CREATE TABLE nonces (
    user_id        BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nonce          TEXT      NOT NULL,
    request_sha256 TEXT      NOT NULL,
    response       TEXT      NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, nonce)
);

-- Secrets every `ferry serve` process sharing this database must agree on, such as the key that
-- signs upload and download URLs. Made on first use.
CREATE TABLE server_secrets (
    name       TEXT      NOT NULL PRIMARY KEY,
    secret     TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
