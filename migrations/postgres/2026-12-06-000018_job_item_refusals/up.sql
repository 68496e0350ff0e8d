-- A failed job item records why as the copy rules say it (`ferry_domain::copy::CopyRefusal`: a
-- kind and its detail), no longer as the SBG dialect renders it (status, code, message): the
-- dialect renders the refusal when it shows the item. Items already failed are translated by
-- their SBG code, which named one refusal each (5024's reason is its message after
-- "Invalid name parameter: "; 90010 was only ever given after 5 attempts).
ALTER TABLE job_items ADD COLUMN refusal TEXT;
ALTER TABLE job_items ADD COLUMN refusal_detail TEXT;
UPDATE job_items SET
    refusal = CASE error_code
        WHEN 3001 THEN 'destination_not_writable'
        WHEN 3002 THEN 'project_not_found'
        WHEN 5002 THEN 'source_not_found'
        WHEN 5014 THEN 'source_not_copyable'
        WHEN 5018 THEN 'source_is_folder'
        WHEN 5024 THEN 'invalid_name'
        WHEN 5026 THEN 'destination_not_found'
        WHEN 10229 THEN 'into_itself'
        WHEN 90000 THEN 'root_folder'
        WHEN 90010 THEN 'gave_up'
    END,
    refusal_detail = CASE error_code
        WHEN 5024 THEN substr(error_message, 25)
        WHEN 90010 THEN '5'
    END
WHERE state = 'failed';
ALTER TABLE job_items DROP COLUMN error_status;
ALTER TABLE job_items DROP COLUMN error_code;
ALTER TABLE job_items DROP COLUMN error_message;
