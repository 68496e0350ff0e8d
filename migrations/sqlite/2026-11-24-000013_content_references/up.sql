-- The content collector (crates/store/src/content_gc.rs) asks which of a batch of content
-- addresses anything still references: one index probe per address in each table that holds
-- them. Records have no content, so objects index only the rows that do.
CREATE INDEX objects_content_sha256 ON objects (content_sha256) WHERE content_sha256 IS NOT NULL;
CREATE INDEX upload_parts_content_sha256 ON upload_parts (content_sha256);
CREATE INDEX sbg_upload_parts_content_sha256 ON sbg_upload_parts (content_sha256);
