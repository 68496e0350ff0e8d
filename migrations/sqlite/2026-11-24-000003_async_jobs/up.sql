-- Async copy jobs, worked in chunks by any number of workers (shared/design.md, "Async jobs").
-- Replaces the placeholder `jobs` and `job_items` of the initial schema, which nothing used.
-- Keep in step with migrations/postgres and crates/store/src/schema.rs.
DROP TABLE job_items;
DROP TABLE jobs;

-- The counters are updated in the same transaction as the work they count.
-- `unresolved_items`: request items not worked yet plus copied folders whose sub-folders are
-- not all listed yet; while it is above zero `total_items` may still grow (state RESOLVING).
CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id           TEXT      NOT NULL UNIQUE,
    kind                TEXT      NOT NULL CHECK (kind IN ('COPY')),
    user_id             BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_items       BIGINT    NOT NULL,
    unresolved_items    BIGINT    NOT NULL,
    total_items         BIGINT    NOT NULL,
    completed_items     BIGINT    NOT NULL DEFAULT 0,
    failed_items        BIGINT    NOT NULL DEFAULT 0,
    cancelled_items     BIGINT    NOT NULL DEFAULT 0,
    outcome             TEXT
        CHECK (outcome IN ('completed', 'completed_with_failures', 'cancelled')),
    created_at          TIMESTAMP NOT NULL,
    started_at          TIMESTAMP,
    cancel_requested_at TIMESTAMP,
    finished_at         TIMESTAMP
);
CREATE INDEX jobs_user_id_created_at ON jobs (user_id, created_at);
CREATE INDEX jobs_finished_at ON jobs (finished_at);

-- A unit of work, claimed by one worker at a time under a lease. An `items` chunk holds up to
-- a few hundred request items; a `folder` chunk copies the contents of `source_folder` into
-- `target_folder` (SBG ids), a batch per claim, resuming after the two cursors.
CREATE TABLE job_chunks (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id             BIGINT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind               TEXT      NOT NULL CHECK (kind IN ('items', 'folder')),
    state              TEXT      NOT NULL
        CHECK (state IN ('pending', 'claimed', 'done', 'cancelled')),
    claimed_by         TEXT,
    claimed_until      TIMESTAMP,
    attempts           BIGINT    NOT NULL DEFAULT 0,
    source_folder      TEXT,
    target_folder      TEXT,
    after_folder_id    BIGINT    NOT NULL DEFAULT 0,
    after_placement_id BIGINT    NOT NULL DEFAULT 0,
    folders_listed     BOOLEAN   NOT NULL DEFAULT FALSE
);
CREATE INDEX job_chunks_state_id ON job_chunks (state, id);
CREATE INDEX job_chunks_job_id_state ON job_chunks (job_id, state);

-- One file or folder to copy: a request item (`request_index` set, pending until its chunk is
-- worked) or an entry of a copied folder (written once, with its outcome).
CREATE TABLE job_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        BIGINT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    chunk_id      BIGINT    NOT NULL REFERENCES job_chunks (id) ON DELETE CASCADE,
    request_index BIGINT,
    kind          TEXT      CHECK (kind IN ('file', 'folder')),
    source_id     TEXT      NOT NULL,
    source_name   TEXT,
    -- `owner/project` (its root folder) or a folder's SBG id, which never holds a '/'.
    target        TEXT      NOT NULL,
    name          TEXT,
    state         TEXT      NOT NULL
        CHECK (state IN ('pending', 'copied', 'merged', 'failed', 'cancelled')),
    result_id     TEXT,
    result_name   TEXT,
    error_status  INTEGER,
    error_code    BIGINT,
    error_message TEXT,
    worked_by     TEXT,
    UNIQUE (job_id, request_index)
);
CREATE INDEX job_items_job_id_id ON job_items (job_id, id);
CREATE INDEX job_items_chunk_id_state ON job_items (chunk_id, state);
