-- Ferry's initial schema, SQLite dialect. Keep in step with migrations/postgres (same names,
-- same columns) and with crates/store/src/schema.rs.
-- Timestamps are UTC, written by the application (Diesel stores them as ISO-8601 text).
-- JSON values are stored as TEXT.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    username   TEXT      NOT NULL UNIQUE,
    name       TEXT      NOT NULL,
    email      TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE billing_groups (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid                 TEXT      NOT NULL UNIQUE,
    name                 TEXT      NOT NULL,
    owner_user_id        BIGINT    NOT NULL REFERENCES users (id),
    bill_to              TEXT      NOT NULL UNIQUE,
    spending_limit_cents BIGINT,
    spent_cents          BIGINT    NOT NULL DEFAULT 0,
    created_at           TIMESTAMP NOT NULL
);
CREATE INDEX billing_groups_owner_user_id ON billing_groups (owner_user_id);

CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sha256 TEXT      NOT NULL UNIQUE,
    label         TEXT,
    last4         TEXT      NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP,
    revoked_at    TIMESTAMP,
    last_used_at  TIMESTAMP
);
CREATE INDEX tokens_user_id ON tokens (user_id);

CREATE TABLE projects (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dx_id            TEXT      NOT NULL UNIQUE,
    owner_user_id    BIGINT    NOT NULL REFERENCES users (id),
    slug             TEXT      NOT NULL,
    name             TEXT      NOT NULL,
    description      TEXT      NOT NULL,
    region           TEXT      NOT NULL DEFAULT 'aws:us-east-1',
    billing_group_id BIGINT    NOT NULL REFERENCES billing_groups (id),
    restricted       BOOLEAN   NOT NULL DEFAULT FALSE,
    protected        BOOLEAN   NOT NULL DEFAULT FALSE,
    contains_phi     BOOLEAN   NOT NULL DEFAULT FALSE,
    sponsored_until  TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    modified_at      TIMESTAMP NOT NULL,
    UNIQUE (owner_user_id, slug)
);
CREATE INDEX projects_billing_group_id ON projects (billing_group_id);

CREATE TABLE project_members (
    project_id  BIGINT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level       SMALLINT  NOT NULL CHECK (level BETWEEN 1 AND 4),
    can_copy    BOOLEAN   NOT NULL,
    can_execute BOOLEAN   NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_id ON project_members (user_id);

-- Paths may be longer than a PostgreSQL btree entry allows, so uniqueness is on a SHA-256 of
-- the path here too, so that both backends behave alike.
CREATE TABLE folders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sbg_id      TEXT      NOT NULL UNIQUE,
    project_id  BIGINT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    parent_id   BIGINT    REFERENCES folders (id) ON DELETE CASCADE,
    path        TEXT      NOT NULL,
    path_digest TEXT      NOT NULL,
    name        TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    UNIQUE (project_id, path_digest)
);
CREATE INDEX folders_parent_id ON folders (parent_id);

CREATE TABLE objects (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    dx_id              TEXT      NOT NULL UNIQUE,
    class              TEXT      NOT NULL,
    state              TEXT      NOT NULL CHECK (state IN ('open', 'closing', 'closed')),
    hidden             BOOLEAN   NOT NULL DEFAULT FALSE,
    details            TEXT      NOT NULL DEFAULT '{}',
    types              TEXT      NOT NULL DEFAULT '[]',
    size               BIGINT    NOT NULL DEFAULT 0,
    content_sha256     TEXT,
    md5                TEXT,
    created_at         TIMESTAMP NOT NULL,
    created_by_user_id BIGINT    NOT NULL REFERENCES users (id),
    modified_at        TIMESTAMP NOT NULL
);
CREATE INDEX objects_created_by_user_id ON objects (created_by_user_id);

-- Object ids found in an object's details ($dnanexus_link) and an applet's bundledDepends.
CREATE TABLE object_links (
    object_id    BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    target_dx_id TEXT   NOT NULL,
    PRIMARY KEY (object_id, target_dx_id)
);
CREATE INDEX object_links_target_dx_id ON object_links (target_dx_id);

-- An object placed in a project. name_stem is the name without a "k_" prefix, so the names
-- that can collide with a batch of wanted names W are `name IN W OR name_stem IN W`.
CREATE TABLE placements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sbg_id      TEXT      NOT NULL UNIQUE,
    object_id   BIGINT    NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    project_id  BIGINT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    folder_id   BIGINT    NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    name        TEXT      NOT NULL,
    name_stem   TEXT      NOT NULL,
    tags        TEXT      NOT NULL DEFAULT '[]',
    properties  TEXT      NOT NULL DEFAULT '{}',
    metadata    TEXT      NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL,
    modified_at TIMESTAMP NOT NULL,
    UNIQUE (project_id, object_id)
);
CREATE INDEX placements_folder_id_name ON placements (folder_id, name);
CREATE INDEX placements_folder_id_name_stem ON placements (folder_id, name_stem);
CREATE INDEX placements_object_id ON placements (object_id);

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT      NOT NULL UNIQUE,
    kind            TEXT      NOT NULL,
    user_id         BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state           TEXT      NOT NULL,
    total_items     BIGINT    NOT NULL DEFAULT 0,
    completed_items BIGINT    NOT NULL DEFAULT 0,
    failed_items    BIGINT    NOT NULL DEFAULT 0,
    outcome         TEXT,
    created_at      TIMESTAMP NOT NULL,
    started_at      TIMESTAMP,
    finished_at     TIMESTAMP,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX jobs_user_id_created_at ON jobs (user_id, created_at);

CREATE TABLE job_items (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id              BIGINT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq                 BIGINT    NOT NULL,
    chunk               BIGINT    NOT NULL,
    request             TEXT      NOT NULL,
    state               TEXT      NOT NULL
        CHECK (state IN ('pending', 'done', 'failed', 'cancelled')),
    claimed_by          TEXT,
    claimed_until       TIMESTAMP,
    outcome             TEXT,
    -- Kept when the placement goes: the outcome JSON still says what was done.
    result_placement_id BIGINT    REFERENCES placements (id) ON DELETE SET NULL,
    UNIQUE (job_id, seq)
);
CREATE INDEX job_items_job_id_chunk_state ON job_items (job_id, chunk, state);
CREATE INDEX job_items_result_placement_id ON job_items (result_placement_id);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TIMESTAMP NOT NULL,
    request_id  TEXT,
    user_id     BIGINT,
    token_label TEXT,
    action      TEXT      NOT NULL,
    target      TEXT,
    outcome     TEXT      NOT NULL,
    detail      TEXT      NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at);
