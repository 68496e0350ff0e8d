-- The numbered copies of a name (`k_name`) are counted per stem by `store::names`: with the
-- name in the index the count reads the index alone, never the table.
DROP INDEX placements_folder_id_name_stem;
CREATE INDEX placements_folder_id_name_stem_name ON placements (folder_id, name_stem, name);
