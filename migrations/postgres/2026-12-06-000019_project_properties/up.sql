-- DNAnexus project properties, {key: value} of strings as JSON, set by
-- /project-xxxx/setProperties (a table of their own, as the summaries: projects has Diesel's
-- 16 columns).
CREATE TABLE project_properties (
    project_id BIGINT NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    properties TEXT   NOT NULL
);
