//! DNAnexus data objects (records, files, applets, workflows): creation with their links and
//! class-specific fields. Every object made here also gets a placement with its own SBG id, so
//! that it shows in the SBG dialect too: one store, two dialects.

use ferry_domain::row_ids::{ObjectRowId, PlacementRowId, ProjectRowId, UserRowId};
use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use ferry_domain::glob::{Glob, Token};
use ferry_domain::ids::{DxClass, DxId, Username};
use ferry_domain::links::{bundled_depends, linked_ids};
use ferry_domain::model::{Folder, Object, ObjectState, Placement};
use ferry_domain::naming::{name_number, name_stem};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use serde_json::{Map, Value};

use crate::content::ContentInfo;
use crate::convert::{corrupt, escape_like, from_json, now};
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::files;
use crate::files::{ObjectRow, PlacementRow};
use crate::folders::path_digest;
use crate::placing::{ObjectSpec, PlacementSpec, insert_placed};
use crate::schema::{
    folders, object_class_fields, object_links, objects, placements, project_members, projects,
    sponsored_objects, users,
};

mod changes;
mod copies;
mod search;

pub use changes::*;
pub use copies::*;
pub use search::*;

/// A data object to create, placed in one project's folder.
#[derive(Debug, Clone)]
pub struct NewDataObject<'a> {
    pub class: DxClass,
    pub project_id: ProjectRowId,
    pub folder: &'a Folder,
    /// The name in the project; empty for the DNAnexus default, the object's own id.
    pub name: &'a str,
    pub details: Value,
    pub hidden: bool,
    pub types: Vec<String>,
    pub tags: Vec<String>,
    pub properties: Map<String, Value>,
    pub state: ObjectState,
    pub created_by: UserRowId,
}

/// Creates the object, its links (from its details) and its placement; see
/// [`create_with_class_fields`].
pub fn create(
    conn: &mut DbConnection,
    new: &NewDataObject<'_>,
) -> Result<(Object, Placement), StoreError> {
    create_with_class_fields(conn, new, &Map::new())
}

/// Creates the object with the fields of its class that `describe` shows (an applet's
/// `runSpec`, a file's `media`, ...), its links and its placement, with a new DNAnexus id and a
/// new SBG id. The links are the ids linked from the details and, for an applet, its
/// `runSpec.bundledDepends`. Does not check names: DNAnexus allows two objects of one name in a
/// folder.
pub fn create_with_class_fields(
    conn: &mut DbConnection,
    new: &NewDataObject<'_>,
    class_fields: &Map<String, Value>,
) -> Result<(Object, Placement), StoreError> {
    debug_assert_eq!(
        new.folder.project_id, new.project_id,
        "the folder is in another project"
    );
    let mut links = linked_ids(&new.details);
    if new.class == DxClass::Applet {
        links.extend(
            class_fields
                .get("runSpec")
                .map(bundled_depends)
                .unwrap_or_default(),
        );
    }
    let object = ObjectSpec {
        class: new.class,
        state: new.state,
        hidden: new.hidden,
        details: new.details.to_string(),
        types: Value::from(new.types.clone()).to_string(),
        size: 0,
        content_sha256: None,
        md5: None,
        content_key: None,
        created_by: new.created_by.get(),
    };
    let placement = PlacementSpec {
        project_id: new.project_id.get(),
        folder_id: new.folder.id.get(),
        name: new.name,
        tags: Value::from(new.tags.clone()).to_string(),
        properties: Value::Object(new.properties.clone()).to_string(),
        metadata: Value::Object(Map::new()).to_string(),
    };
    conn.transaction(|conn| {
        let (object, mut placement) = insert_placed(conn, &[(object, placement)])?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("the new object was not returned".to_owned()))?;
        if new.name.is_empty() {
            // The id is made by the insert, so the default name follows it.
            placement.name.clone_from(&object.dx_id);
            change_copy(
                conn,
                PlacementRowId::new(placement.id),
                CopyChanges {
                    name: Some(&placement.name),
                    ..CopyChanges::default()
                },
            )?;
        }
        insert_links(conn, ObjectRowId::new(object.id), links.iter())?;
        if !class_fields.is_empty() {
            diesel::insert_into(object_class_fields::table)
                .values((
                    object_class_fields::object_id.eq(object.id),
                    object_class_fields::fields.eq(Value::Object(class_fields.clone()).to_string()),
                ))
                .execute(conn)?;
        }
        Ok((object.try_into()?, placement.try_into()?))
    })
}

/// Rows per multi-row INSERT of links: two parameters a row.
const LINKS_PER_INSERT: usize = 5_000;

/// Records that `object_id` links to `targets`, one multi-row INSERT per 5,000 links.
fn insert_links<'a>(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
    targets: impl Iterator<Item = &'a DxId>,
) -> Result<(), StoreError> {
    let rows: Vec<_> = targets
        .map(|target| {
            (
                object_links::object_id.eq(object_id.get()),
                object_links::target_dx_id.eq(target.as_str()),
            )
        })
        .collect();
    for chunk in rows.chunks(LINKS_PER_INSERT) {
        each_backend!(conn, |c| diesel::insert_into(object_links::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}
