-- listProjects (`store::clone::projects_holding`) answers with each project's DNAnexus id. Kept
-- beside the membership (project ids never change) and in its index, each project holding the
-- object costs one index descent into the caller's memberships, not that and one into
-- `projects`. SQLite adds a NOT NULL column only with a default; every insert sets it.
ALTER TABLE project_members ADD COLUMN project_dx_id TEXT NOT NULL DEFAULT '';
UPDATE project_members
SET project_dx_id = (SELECT dx_id FROM projects WHERE projects.id = project_members.project_id);
CREATE INDEX project_members_user_id_project_id_level_dx_id
    ON project_members (user_id, project_id, level, project_dx_id);
DROP INDEX project_members_user_id_project_id_level;
