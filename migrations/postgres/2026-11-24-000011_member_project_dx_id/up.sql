-- listProjects (`store::clone::projects_holding`) answers with each project's DNAnexus id. Kept
-- beside the membership (project ids never change) and in its index, each project holding the
-- object costs one index entry of the caller's memberships, not that and a row of `projects`.
ALTER TABLE project_members ADD COLUMN project_dx_id TEXT;
UPDATE project_members m SET project_dx_id = p.dx_id FROM projects p WHERE p.id = m.project_id;
ALTER TABLE project_members ALTER COLUMN project_dx_id SET NOT NULL;
CREATE INDEX project_members_user_id_project_id_level_dx_id
    ON project_members (user_id, project_id, level, project_dx_id);
DROP INDEX project_members_user_id_project_id_level;
