-- Back to the placeholder tables of the initial schema.
DROP TABLE job_items;
DROP TABLE job_chunks;
DROP TABLE jobs;

CREATE TABLE jobs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
