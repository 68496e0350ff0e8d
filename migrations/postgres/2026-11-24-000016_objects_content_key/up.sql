-- Bytes whose checksums are not known yet: an SBG upload completed straight into an S3 content
-- store leaves its object at uploads/<id> in the bucket, and its file `closing`, until a job
-- worker has read it, stored it at its SHA-256 and set content_sha256 and md5. The key stays
-- afterwards: a copy made from the file while it was closing carries it, and is settled from
-- the settled objects of the same key without reading the bytes again.
ALTER TABLE objects ADD COLUMN content_key TEXT;
CREATE INDEX objects_content_key ON objects (content_key) WHERE content_key IS NOT NULL;
