DROP TABLE server_secrets;
DROP TABLE nonces;
DROP TABLE upload_parts;
DROP TABLE object_class_fields;
DROP TABLE project_summaries;
