CREATE INDEX project_members_user_id_project_id_level ON project_members (user_id, project_id, level);
DROP INDEX project_members_user_id_project_id_level_dx_id;
ALTER TABLE project_members DROP COLUMN project_dx_id;
