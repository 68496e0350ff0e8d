-- Set by the request's own write transaction (store::idempotency::applying): the writes of the
-- request that holds the key committed. A key that is applied but has no response lost its
-- answer to a crash between that commit and the recording; a retry is told so and never runs
-- the request again.
ALTER TABLE idempotency_keys ADD COLUMN applied BOOLEAN NOT NULL DEFAULT FALSE;
