-- SBG project tags (a JSON array of strings) and settings (a JSON object), stored as TEXT like
-- every other JSON column.
ALTER TABLE projects ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
