//! `describe` output for data objects and projects (dx-api.md §5.3, §5.13, §5.14), shared by
//! the describe methods, `listFolder`, `findDataObjects`, `findProjects` and
//! `describeDataObjects`. Times are milliseconds since the epoch, as DNAnexus gives them.

use ferry_domain::row_ids::ObjectRowId;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use ferry_domain::ids::DxClass;
use ferry_domain::links::linked_ids;
use ferry_domain::model::{BillingGroup, ObjectState, Project};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_store::objects::{self, ObjectCopy};
use ferry_store::page::Page;
use ferry_store::uploads::{self, UploadedPart};
use ferry_store::{DbConnection, StoreError, dx_containers, dx_folders, members};
use serde_json::{Map, Value, json};

use super::input::DescribeOptions;
use super::upload::upload_parameters;

/// A time as DNAnexus gives it: milliseconds since the epoch.
pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// `user-<username>`, a user's DNAnexus id.
pub(crate) fn user_id(username: impl std::fmt::Display) -> String {
    format!("user-{username}")
}

/// What describing a set of objects needs beyond the copies: loaded once for the whole set.
#[derive(Debug, Default)]
pub(crate) struct ObjectExtras {
    class_fields: HashMap<ObjectRowId, Map<String, Value>>,
    parts: HashMap<ObjectRowId, Vec<UploadedPart>>,
    sponsored: HashSet<ObjectRowId>,
}

impl ObjectExtras {
    /// A constant number of queries for any number of copies; the parts only when `with_parts`.
    pub(crate) fn load<'a>(
        conn: &mut DbConnection,
        copies: impl IntoIterator<Item = &'a ObjectCopy>,
        with_parts: bool,
    ) -> Result<ObjectExtras, StoreError> {
        let mut ids = Vec::new();
        let mut with_fields = Vec::new();
        let mut files = Vec::new();
        for copy in copies {
            let object = &copy.object;
            ids.push(object.id);
            if object.class != DxClass::Record {
                with_fields.push(object.id);
            }
            if object.class == DxClass::File {
                files.push(object.id);
            }
        }
        Ok(ObjectExtras {
            class_fields: objects::class_fields(conn, &with_fields)?,
            parts: if with_parts && !files.is_empty() {
                uploads::parts(conn, &files)?
            } else {
                HashMap::new()
            },
            sponsored: objects::operator_sponsored(conn, &ids)?,
        })
    }
}

/// Whether any of these options shows a file's parts, which cost a query.
pub(crate) fn wants_parts<'a>(options: impl IntoIterator<Item = &'a DescribeOptions>) -> bool {
    options
        .into_iter()
        .any(|options| options.wants("parts", false))
}

/// The fields of each class that creation keeps as given and `describe` shows.
pub(crate) fn class_field_names(class: DxClass) -> &'static [&'static str] {
    match class {
        DxClass::File => &["media"],
        DxClass::Applet => &[
            "runSpec",
            "dxapi",
            "inputSpec",
            "outputSpec",
            "access",
            "title",
            "summary",
            "description",
        ],
        DxClass::Workflow => &[
            "title",
            "summary",
            "description",
            "outputFolder",
            "stages",
            "inputs",
            "outputs",
        ],
        _ => &[],
    }
}

/// What `describe` shows for a class field that was not given; `None` leaves it out.
fn class_field_default(class: DxClass, field: &str) -> Option<Value> {
    match (class, field) {
        (DxClass::File, "media") => Some(json!("")),
        (DxClass::Workflow, "stages") => Some(json!([])),
        (DxClass::Workflow, "title" | "summary" | "description") => Some(json!("")),
        (DxClass::Workflow, _) => Some(Value::Null),
        _ => None,
    }
}

/// One copy of a data object as `describe` shows it.
pub(crate) fn object(copy: &ObjectCopy, extras: &ObjectExtras, options: &DescribeOptions) -> Value {
    let object = &copy.object;
    let placement = &copy.placement;
    let links: Vec<String> = linked_ids(&object.details)
        .iter()
        .map(ToString::to_string)
        .collect();
    let modified = placement.modified_at.max(object.modified_at);
    let mut all = vec![
        ("id", true, json!(object.dx_id)),
        ("project", true, json!(copy.project)),
        ("class", true, json!(object.class.as_str())),
        (
            "sponsored",
            true,
            json!(extras.sponsored.contains(&object.id)),
        ),
        ("name", true, json!(placement.name)),
        ("types", true, json!(object.types)),
        ("state", true, json!(object.state.as_str())),
        ("hidden", true, json!(object.hidden)),
        ("links", true, json!(links)),
        ("folder", true, json!(copy.folder)),
        ("tags", true, json!(placement.tags)),
        ("created", true, json!(millis(object.created_at))),
        ("modified", true, json!(millis(modified))),
        (
            "createdBy",
            true,
            json!({"user": user_id(&copy.created_by)}),
        ),
        ("details", false, object.details.clone()),
        ("properties", false, json!(placement.properties)),
    ];
    let given = extras.class_fields.get(&object.id);
    for field in class_field_names(object.class) {
        let value = given.and_then(|fields| fields.get(*field)).cloned();
        if let Some(value) = value.or_else(|| class_field_default(object.class, field)) {
            all.push((field, true, value));
        }
    }
    match object.class {
        DxClass::File => {
            all.push(("archivalState", true, json!("live")));
            if object.state == ObjectState::Closed {
                all.push(("size", true, json!(object.size)));
            }
            let uploaded: Map<String, Value> = extras
                .parts
                .get(&object.id)
                .into_iter()
                .flatten()
                .map(|part| {
                    let uploaded = json!({"state": "complete", "size": part.size, "md5": part.md5});
                    (part.index.to_string(), uploaded)
                })
                .collect();
            let parts = match object.state {
                // A closed file made without parts (imported, an SBG upload, a copy) is one
                // part, so that dxpy downloads it whole and checks its MD5; one uploaded in
                // parts keeps them, as DNAnexus shows them.
                ObjectState::Closed if uploaded.is_empty() => {
                    let mut part = json!({"state": "complete", "size": object.size});
                    if let Some(md5) = &object.md5 {
                        part["md5"] = json!(md5);
                    }
                    Map::from_iter([("1".to_owned(), part)])
                }
                _ => uploaded,
            };
            all.push(("parts", false, Value::Object(parts)));
        }
        DxClass::Workflow => all.push(("editVersion", true, json!(0))),
        _ => {}
    }
    options.select(all)
}

/// What describing a project reads beyond the project and the caller's level, each only when
/// a wanted field needs it.
/// `to_bucket`: whether file parts go to an S3 content store (see `upload_parameters`).
pub(crate) fn project(
    conn: &mut DbConnection,
    project: &Project,
    level: Level,
    options: &DescribeOptions,
    to_bucket: bool,
) -> Result<Value, StoreError> {
    let billing: BillingGroup = dx_containers::billing_group(conn, project)?;
    let summary = if options.wants("summary", true) {
        dx_containers::summary(conn, project.id)?
    } else {
        String::new()
    };
    // In GB, as DNAnexus shows it (`dx describe` prints "%.2f GB").
    let data_usage = if options.wants("dataUsage", true) {
        dx_containers::data_bytes(conn, project.id)? as f64 / 1e9
    } else {
        0.0
    };
    let download_restricted = options.wants("downloadRestricted", true)
        && dx_containers::download_restricted(conn, project.id)?;
    let properties = if options.wants("properties", true) {
        dx_containers::properties(conn, project.id)?
    } else {
        Map::new()
    };
    let folders: Vec<FolderPath> = if options.wants("folders", false) {
        dx_folders::all_paths(conn, project.id)?
    } else {
        Vec::new()
    };
    let permissions: Map<String, Value> = if options.wants("permissions", false) {
        members::list(conn, project.id, Page::ALL)?
            .0
            .into_iter()
            .map(|(user, permissions)| (user_id(&user.username), json!(permissions.level.as_str())))
            .collect()
    } else {
        Map::new()
    };
    let at_spending_limit = billing
        .spending_limit_cents
        .is_some_and(|limit| billing.spent_cents >= limit);
    let all = vec![
        ("id", true, json!(project.dx_id)),
        ("name", true, json!(project.name)),
        ("class", true, json!("project")),
        ("created", true, json!(millis(project.created_at))),
        ("modified", true, json!(millis(project.modified_at))),
        ("billTo", true, json!(billing.bill_to)),
        ("level", true, json!(level.as_str())),
        ("dataUsage", true, json!(data_usage)),
        ("sponsoredDataUsage", true, json!(0)),
        ("region", true, json!(project.region)),
        ("summary", true, json!(summary)),
        ("description", true, json!(project.description)),
        ("protected", true, json!(project.protected)),
        ("restricted", true, json!(project.restricted)),
        ("downloadRestricted", true, json!(download_restricted)),
        ("containsPHI", true, json!(project.contains_phi)),
        (
            "createdBy",
            true,
            json!({"user": user_id(project.sbg_id.owner())}),
        ),
        ("version", true, json!(0)),
        ("storageCost", true, json!(0)),
        ("pendingTransfer", true, Value::Null),
        ("tags", true, json!(project.tags)),
        ("properties", true, Value::Object(properties)),
        ("defaultInstanceType", true, json!("mem2_hdd2_x2")),
        ("archivalState", true, json!("live")),
        ("archivalProgress", true, Value::Null),
        ("totalSponsoredEgressBytes", true, json!(0)),
        ("consumedSponsoredEgressBytes", true, json!(0)),
        ("atSpendingLimit", true, json!(at_spending_limit)),
        ("databaseUIViewOnly", true, json!(false)),
        ("externalUploadRestricted", true, json!(false)),
        ("previewViewerRestricted", true, json!(false)),
        ("folders", false, json!(folders)),
        ("permissions", false, Value::Object(permissions)),
        ("fileUploadParameters", false, upload_parameters(to_bucket)),
    ];
    Ok(options.select(all))
}
