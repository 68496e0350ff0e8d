DROP TABLE project_restrictions;
