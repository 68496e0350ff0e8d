-- Idempotency-Key: a mutating request sent again with the same key by the same user within
-- 24 h gets the stored response of the first and writes nothing. A row is claimed (in_flight,
-- with a lease) before the handler runs and completed (done, with the response) after it.
CREATE TABLE idempotency_keys (
    user_id               BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key       TEXT      NOT NULL,
    -- SHA-256 of the method, path, query and body of the request that claimed the key.
    request_sha256        TEXT      NOT NULL,
    state                 TEXT      NOT NULL CHECK (state IN ('in_flight', 'done')),
    -- Who runs the request now, and until when; a lapsed lease may be taken over.
    claim                 TEXT      NOT NULL,
    claimed_until         TIMESTAMP NOT NULL,
    response_status       INTEGER,
    response_content_type TEXT,
    response_body         BLOB,
    created_at            TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key),
    CHECK ((state = 'done') = (response_status IS NOT NULL AND response_body IS NOT NULL))
);

-- Rows older than 24 h are ignored and pruned by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
