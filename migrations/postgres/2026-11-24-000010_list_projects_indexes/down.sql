CREATE INDEX project_members_user_id ON project_members (user_id);
DROP INDEX project_members_user_id_project_id_level;
CREATE INDEX placements_object_id ON placements (object_id);
DROP INDEX placements_object_id_project_id;
