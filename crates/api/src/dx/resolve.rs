//! `/system/resolveDataObjects` (dxpy's `resolve_data_objects`, which the `dx` CLI resolves
//! several paths with): for each `{name, project?, folder?}`, the objects of that name in that
//! folder (not below it), hidden ones too, as `[{project, id}]`, in the order of the input.
//! Objects that share a project and folder are resolved together: one query per folder (and
//! per 900 names), not per object.

use std::collections::{BTreeMap, HashMap};

use ferry_domain::ids::DxId;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_store::objects;
use ferry_usecases::access::container;
use serde::Deserialize;
use serde_json::{Value, json};

use super::input::parse;
use super::{Call, DxError};
use crate::{AppState, db};

/// The most objects one call resolves, as dxpy batches them.
const MAX_OBJECTS: usize = 1_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResolveInput {
    objects: Vec<Wanted>,
    /// The project of the objects that name none.
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    /// Their folder; `/` by default.
    #[schema(value_type = Option<String>)]
    folder: Option<FolderPath>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Wanted {
    name: String,
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    #[schema(value_type = Option<String>)]
    folder: Option<FolderPath>,
}

#[utoipa::path(post, path = "/system/resolveDataObjects", tag = "dx", request_body = ResolveInput, responses((status = 200, description = "{results: [[{project, id}], ...]}, one list per object")))]
pub(crate) async fn resolve_data_objects(state: &AppState, call: Call) -> Result<Value, DxError> {
    let input: ResolveInput = parse(call.input)?;
    if input.objects.len() > MAX_OBJECTS {
        return Err(DxError::invalid_input(format!(
            "objects: at most {MAX_OBJECTS} at once"
        )));
    }
    let wanted = input
        .objects
        .into_iter()
        .map(|object| {
            let project = object
                .project
                .or_else(|| input.project.clone())
                .ok_or_else(|| {
                    DxError::invalid_input(format!("{:?} names no project", object.name))
                })?;
            let folder = object
                .folder
                .or_else(|| input.folder.clone())
                .unwrap_or_else(FolderPath::root);
            Ok((project, folder, object.name))
        })
        .collect::<Result<Vec<_>, DxError>>()?;
    let user_id = call.caller.user.id;
    db::read(&state.store, move |conn| {
        // Each folder's wanted names, then its objects by name.
        let mut by_folder: BTreeMap<(&DxId, &FolderPath), Vec<&str>> = BTreeMap::new();
        for (project, folder, name) in &wanted {
            by_folder.entry((project, folder)).or_default().push(name);
        }
        let mut found: HashMap<(&DxId, &FolderPath, &str), Vec<Value>> = HashMap::new();
        let mut projects = HashMap::new();
        for ((project, folder), names) in &by_folder {
            let project_id = match projects.get(*project) {
                Some(id) => *id,
                None => {
                    let id = container(conn, user_id, project, Level::View)?.project.id;
                    projects.insert((*project).clone(), id);
                    id
                }
            };
            for (name, id) in objects::named_in_folder(conn, project_id, folder, names)? {
                let Some(key) = names.iter().find(|wanted| **wanted == name) else {
                    continue;
                };
                found
                    .entry((*project, *folder, *key))
                    .or_default()
                    .push(json!({"project": project, "id": id}));
            }
        }
        let results: Vec<Value> = wanted
            .iter()
            .map(|(project, folder, name)| {
                json!(
                    found
                        .get(&(project, folder, name.as_str()))
                        .cloned()
                        .unwrap_or_default()
                )
            })
            .collect();
        Ok(json!({ "results": results }))
    })
    .await
}
