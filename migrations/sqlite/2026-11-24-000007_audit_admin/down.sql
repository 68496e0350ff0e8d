DROP TABLE rate_limit_counts;
DROP INDEX audit_events_action_at;
DROP INDEX audit_events_user_at;
ALTER TABLE users DROP COLUMN is_admin;
