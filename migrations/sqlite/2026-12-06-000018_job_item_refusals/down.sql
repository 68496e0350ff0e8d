-- Back to the SBG rendering of a failed item's refusal (api::sbg::error has the same words).
ALTER TABLE job_items ADD COLUMN error_status INTEGER;
ALTER TABLE job_items ADD COLUMN error_code BIGINT;
ALTER TABLE job_items ADD COLUMN error_message TEXT;
UPDATE job_items SET
    error_status = CASE refusal
        WHEN 'destination_not_writable' THEN 403
        WHEN 'source_not_copyable' THEN 403
        WHEN 'project_not_found' THEN 404
        WHEN 'source_not_found' THEN 404
        WHEN 'destination_not_found' THEN 404
        WHEN 'gave_up' THEN 500
        ELSE 400
    END,
    error_code = CASE refusal
        WHEN 'destination_not_writable' THEN 3001
        WHEN 'project_not_found' THEN 3002
        WHEN 'source_not_found' THEN 5002
        WHEN 'source_not_copyable' THEN 5014
        WHEN 'source_is_folder' THEN 5018
        WHEN 'invalid_name' THEN 5024
        WHEN 'name_too_long' THEN 5024
        WHEN 'destination_not_found' THEN 5026
        WHEN 'into_itself' THEN 10229
        WHEN 'root_folder' THEN 90000
        WHEN 'gave_up' THEN 90010
    END,
    error_message = CASE refusal
        WHEN 'destination_not_writable' THEN 'Not enough privileges to write to the destination project.'
        WHEN 'project_not_found' THEN 'Requested project or member does not exist.'
        WHEN 'source_not_found' THEN 'Requested file does not exist.'
        WHEN 'source_not_copyable' THEN 'Insufficient privileges to copy the requested file.'
        WHEN 'source_is_folder' THEN 'Copying folders is not supported by this call; use POST /v2/async/files/copy.'
        WHEN 'invalid_name' THEN 'Invalid name parameter: ' || refusal_detail
        WHEN 'name_too_long' THEN 'Invalid name parameter: the copy would be named "' || refusal_detail || '", longer than 255 characters.'
        WHEN 'destination_not_found' THEN 'Destination folder is not found.'
        WHEN 'into_itself' THEN 'Cannot copy a folder into itself or below itself, nor merge it into itself.'
        WHEN 'root_folder' THEN 'Copying the project root folder is not allowed.'
        WHEN 'gave_up' THEN 'Copying this item failed ' || refusal_detail || ' times; Ferry gave up on it.'
    END
WHERE state = 'failed';
ALTER TABLE job_items DROP COLUMN refusal;
ALTER TABLE job_items DROP COLUMN refusal_detail;
