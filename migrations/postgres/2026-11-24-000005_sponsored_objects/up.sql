-- Objects whose storage the operator of this server sponsors: DNAnexus's "sponsored" (by
-- DNAnexus) objects. A project is third-party sponsored while projects.sponsored_until lies ahead
-- (/project-xxxx/updateSponsorship). An object has at most one sponsor: a clone into a
-- third-party sponsored project refuses objects listed here (shared/seeds/dnanexus-clone.txt).
-- Keep in step with the other backend's folder and crates/store/src/schema.rs.
CREATE TABLE sponsored_objects (
    object_id  BIGINT    NOT NULL PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
