DROP INDEX placements_folder_id_name_stem_name;
CREATE INDEX placements_folder_id_name_stem ON placements (folder_id, name_stem);
