-- With an S3 content store, an SBG upload is a multipart upload of the bucket's own, whose parts
-- clients send to presigned URLs: its id there, to sign part URLs with, complete or abort it.
-- NULL with the local content store.
ALTER TABLE sbg_uploads ADD COLUMN store_upload_id TEXT;
