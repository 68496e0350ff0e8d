-- DNAnexus downloadRestricted: no file of the project may be downloaded (a table of its own,
-- as the summaries and properties: projects has Diesel's 16 columns).
CREATE TABLE project_restrictions (
    project_id          BIGINT  NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    download_restricted BOOLEAN NOT NULL
);
