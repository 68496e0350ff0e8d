ALTER TABLE projects DROP COLUMN settings;
ALTER TABLE projects DROP COLUMN tags;
