-- listProjects (`store::clone::projects_holding`) reads, for each project holding an object,
-- the placement's project and the caller's level in it: with those columns in the indexes, each
-- row costs an index entry, not an index entry and a table row. Both replace an index on their
-- first column alone.
CREATE INDEX placements_object_id_project_id ON placements (object_id, project_id);
DROP INDEX placements_object_id;
CREATE INDEX project_members_user_id_project_id_level ON project_members (user_id, project_id, level);
DROP INDEX project_members_user_id;
