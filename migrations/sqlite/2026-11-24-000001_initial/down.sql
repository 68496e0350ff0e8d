-- Children before parents, so that no foreign key is left dangling.
DROP TABLE audit_events;
DROP TABLE job_items;
DROP TABLE jobs;
DROP TABLE placements;
DROP TABLE object_links;
DROP TABLE objects;
DROP TABLE folders;
DROP TABLE project_members;
DROP TABLE projects;
DROP TABLE tokens;
DROP TABLE billing_groups;
DROP TABLE users;
