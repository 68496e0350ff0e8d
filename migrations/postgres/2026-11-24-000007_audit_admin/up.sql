-- Administrators may read the audit trail (GET /admin/audit). The audit indexes serve its
-- filters by user and by action, newest first.
-- Keep in step with the other backend's folder and crates/store/src/schema.rs.
ALTER TABLE users ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX audit_events_user_at ON audit_events (user_id, at);
CREATE INDEX audit_events_action_at ON audit_events (action, at);

-- Requests per token per rate-limit window, summed over every `ferry serve` process: each adds
-- what it counted about once a second and reads the totals back (crates/store/src/rate_counts.rs).
CREATE TABLE rate_limit_counts (
    dialect      TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    token_id     BIGINT NOT NULL,
    requests     BIGINT NOT NULL,
    PRIMARY KEY (dialect, window_start, token_id)
);
