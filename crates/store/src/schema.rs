//! The one Diesel schema for both backends, kept by hand in step with `migrations/sqlite` and
//! `migrations/postgres`. Only types that both backends map alike: ids are `BigInt`, times are
//! UTC `Timestamp`s, JSON is `Text`.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        name -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        is_admin -> Bool,
    }
}

diesel::table! {
    billing_groups (id) {
        id -> BigInt,
        uuid -> Text,
        name -> Text,
        owner_user_id -> BigInt,
        bill_to -> Text,
        spending_limit_cents -> Nullable<BigInt>,
        spent_cents -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        secret_sha256 -> Text,
        label -> Nullable<Text>,
        last4 -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        dx_id -> Text,
        owner_user_id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Text,
        region -> Text,
        billing_group_id -> BigInt,
        restricted -> Bool,
        protected -> Bool,
        contains_phi -> Bool,
        sponsored_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        modified_at -> Timestamp,
        tags -> Text,
        settings -> Text,
    }
}

diesel::table! {
    project_members (project_id, user_id) {
        project_id -> BigInt,
        user_id -> BigInt,
        level -> SmallInt,
        can_copy -> Bool,
        can_execute -> Bool,
        created_at -> Timestamp,
        project_dx_id -> Text,
    }
}

diesel::table! {
    folders (id) {
        id -> BigInt,
        sbg_id -> Text,
        project_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        path -> Text,
        path_digest -> Text,
        name -> Text,
        created_at -> Timestamp,
        modified_at -> Timestamp,
    }
}

diesel::table! {
    objects (id) {
        id -> BigInt,
        dx_id -> Text,
        class -> Text,
        state -> Text,
        hidden -> Bool,
        details -> Text,
        types -> Text,
        size -> BigInt,
        content_sha256 -> Nullable<Text>,
        md5 -> Nullable<Text>,
        created_at -> Timestamp,
        created_by_user_id -> BigInt,
        modified_at -> Timestamp,
        content_key -> Nullable<Text>,
    }
}

diesel::table! {
    object_links (object_id, target_dx_id) {
        object_id -> BigInt,
        target_dx_id -> Text,
    }
}

diesel::table! {
    placements (id) {
        id -> BigInt,
        sbg_id -> Text,
        object_id -> BigInt,
        project_id -> BigInt,
        folder_id -> BigInt,
        name -> Text,
        name_stem -> Text,
        name_number -> Nullable<BigInt>,
        tags -> Text,
        properties -> Text,
        metadata -> Text,
        created_at -> Timestamp,
        modified_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        public_id -> Text,
        kind -> Text,
        user_id -> BigInt,
        request_items -> BigInt,
        unresolved_items -> BigInt,
        total_items -> BigInt,
        completed_items -> BigInt,
        failed_items -> BigInt,
        cancelled_items -> BigInt,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        cancel_requested_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_chunks (id) {
        id -> BigInt,
        job_id -> BigInt,
        kind -> Text,
        state -> Text,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        attempts -> BigInt,
        source_folder -> Nullable<Text>,
        target_folder -> Nullable<Text>,
        after_folder_id -> BigInt,
        after_placement_id -> BigInt,
        folders_listed -> Bool,
    }
}

diesel::table! {
    job_items (id) {
        id -> BigInt,
        job_id -> BigInt,
        chunk_id -> BigInt,
        request_index -> Nullable<BigInt>,
        kind -> Nullable<Text>,
        source_id -> Text,
        source_name -> Nullable<Text>,
        target -> Text,
        name -> Nullable<Text>,
        state -> Text,
        result_id -> Nullable<Text>,
        result_name -> Nullable<Text>,
        worked_by -> Nullable<Text>,
        refusal -> Nullable<Text>,
        refusal_detail -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        request_id -> Nullable<Text>,
        user_id -> Nullable<BigInt>,
        token_label -> Nullable<Text>,
        action -> Text,
        target -> Nullable<Text>,
        outcome -> Text,
        detail -> Text,
    }
}

diesel::table! {
    rate_limit_counts (dialect, window_start, token_id) {
        dialect -> Text,
        window_start -> BigInt,
        token_id -> BigInt,
        requests -> BigInt,
    }
}

diesel::table! {
    project_summaries (project_id) {
        project_id -> BigInt,
        summary -> Text,
    }
}

diesel::table! {
    project_restrictions (project_id) {
        project_id -> BigInt,
        download_restricted -> Bool,
    }
}

diesel::table! {
    project_properties (project_id) {
        project_id -> BigInt,
        properties -> Text,
    }
}

diesel::table! {
    object_class_fields (object_id) {
        object_id -> BigInt,
        fields -> Text,
    }
}

diesel::table! {
    upload_parts (object_id, part_index) {
        object_id -> BigInt,
        part_index -> Integer,
        size -> BigInt,
        md5 -> Text,
        content_sha256 -> Nullable<Text>,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    dx_bucket_uploads (object_id) {
        object_id -> BigInt,
        upload_id -> Text,
        store_upload_id -> Text,
    }
}

diesel::table! {
    sbg_uploads (upload_id) {
        upload_id -> Text,
        user_id -> BigInt,
        folder_id -> BigInt,
        name -> Text,
        size -> BigInt,
        part_size -> BigInt,
        overwrite -> Bool,
        created_at -> Timestamp,
        touched_at -> Timestamp,
        store_upload_id -> Nullable<Text>,
    }
}

diesel::table! {
    sbg_upload_parts (upload_id, part_number) {
        upload_id -> Text,
        part_number -> Integer,
        size -> BigInt,
        etag -> Text,
        reported -> Bool,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    nonces (user_id, nonce) {
        user_id -> BigInt,
        nonce -> Text,
        request_sha256 -> Text,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> BigInt,
        idempotency_key -> Text,
        request_sha256 -> Text,
        state -> Text,
        claim -> Text,
        claimed_until -> Timestamp,
        response_status -> Nullable<Integer>,
        response_content_type -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        applied -> Bool,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sponsored_objects (object_id) {
        object_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(billing_groups -> users (owner_user_id));
diesel::joinable!(tokens -> users (user_id));
diesel::joinable!(projects -> users (owner_user_id));
diesel::joinable!(projects -> billing_groups (billing_group_id));
diesel::joinable!(project_members -> projects (project_id));
diesel::joinable!(project_members -> users (user_id));
diesel::joinable!(folders -> projects (project_id));
diesel::joinable!(objects -> users (created_by_user_id));
diesel::joinable!(object_links -> objects (object_id));
diesel::joinable!(placements -> objects (object_id));
diesel::joinable!(placements -> projects (project_id));
diesel::joinable!(placements -> folders (folder_id));
diesel::joinable!(sponsored_objects -> objects (object_id));
diesel::joinable!(jobs -> users (user_id));
diesel::joinable!(job_chunks -> jobs (job_id));
diesel::joinable!(job_items -> jobs (job_id));
diesel::joinable!(job_items -> job_chunks (chunk_id));
diesel::joinable!(project_summaries -> projects (project_id));
diesel::joinable!(project_properties -> projects (project_id));
diesel::joinable!(project_restrictions -> projects (project_id));
diesel::joinable!(object_class_fields -> objects (object_id));
diesel::joinable!(upload_parts -> objects (object_id));
diesel::joinable!(nonces -> users (user_id));
diesel::joinable!(sbg_uploads -> users (user_id));
diesel::joinable!(sbg_uploads -> folders (folder_id));
diesel::joinable!(sbg_upload_parts -> sbg_uploads (upload_id));
diesel::joinable!(idempotency_keys -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    billing_groups,
    tokens,
    projects,
    project_members,
    folders,
    objects,
    object_links,
    placements,
    jobs,
    job_chunks,
    job_items,
    audit_events,
    rate_limit_counts,
    project_summaries,
    project_properties,
    project_restrictions,
    object_class_fields,
    upload_parts,
    sbg_uploads,
    sbg_upload_parts,
    nonces,
    idempotency_keys,
    server_secrets,
    sponsored_objects,
);
