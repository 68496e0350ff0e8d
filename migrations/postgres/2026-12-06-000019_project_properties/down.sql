DROP TABLE project_properties;
