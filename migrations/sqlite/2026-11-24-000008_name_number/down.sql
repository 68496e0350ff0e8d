DROP INDEX placements_folder_id_name_stem_number;
CREATE INDEX placements_folder_id_name_stem ON placements (folder_id, name_stem);
ALTER TABLE placements DROP COLUMN name_number;
