DROP INDEX objects_content_key;
ALTER TABLE objects DROP COLUMN content_key;
