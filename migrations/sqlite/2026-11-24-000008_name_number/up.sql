-- The k of a numbered name `k_<name_stem>` (NULL for other names; k of more than 18 digits
-- reads as the largest BIGINT), so that the next copy's number is one index probe per name
-- (`store::names`), not a read of every earlier copy.
ALTER TABLE placements ADD COLUMN name_number BIGINT;
UPDATE placements
SET name_number = CASE
        WHEN length(name) - length(name_stem) - 1 > 18 THEN 9223372036854775807
        ELSE CAST(substr(name, 1, length(name) - length(name_stem) - 1) AS BIGINT)
    END
WHERE name <> name_stem AND substr(name, 1, 1) <> '0';
DROP INDEX placements_folder_id_name_stem;
CREATE INDEX placements_folder_id_name_stem_number ON placements (folder_id, name_stem, name_number);
