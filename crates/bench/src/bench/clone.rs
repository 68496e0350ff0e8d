//! The DNAnexus clone of a folder whose objects link hidden objects, chains of depth 3.

use std::time::Instant;

use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::{Folder, ObjectState, Project};
use ferry_domain::path::FolderPath;
use ferry_store::objects::{self, NewDataObject, ObjectSearch};
use ferry_store::{StoreError, folders};
use serde_json::{Map, json};

use super::figures::{rate, thousands};
use super::report::Row;
use super::{Bench, settle};
use crate::{Failure, work};

/// Objects per page when the clone's result is counted.
const PAGE: usize = 1_000;

impl Bench<'_> {
    /// `POST /{source}/clone` of the folder `/f` of a project whose `objects` objects are
    /// chains of depth 3: a visible record in `/f` linking a hidden record linking another.
    pub(super) fn clone_folder(&mut self, objects: usize) -> Result<Row, Failure> {
        let chains = objects.div_ceil(3);
        let objects = chains * 3;
        let source = self.new_project(&format!("clone {objects} source"))?;
        let destination = self.new_project(&format!("clone {objects} destination"))?;
        self.seed_chains(&source, chains)?;
        settle(self.conn)?;
        let started = Instant::now();
        let cloned = self.api.dx(
            source.dx_id.as_str(),
            "clone",
            &json!({
                "project": destination.dx_id.as_str(),
                "folders": ["/f"],
                "destination": "/",
            }),
        )?;
        let took = started.elapsed();
        let placed = self.objects_in(&destination)?;
        if cloned["exists"] != json!([]) || placed != objects {
            return Err(work(format!(
                "the clone placed {placed} of {objects} objects: {cloned}"
            )));
        }
        self.row(
            "clone of a folder, hidden-link chains of depth 3".to_owned(),
            format!("{} objects", thousands(objects)),
            rate(objects, took, "objects/s"),
            objects,
            took,
        )
    }

    /// `chains` chains of depth 3 in `project`, in one transaction: a visible record in `/f`
    /// linking a hidden record in `/hidden`, which links another there. Each record is made as
    /// `record/new` makes it, its link from its details; the last of a chain first, so that
    /// the one before can link it.
    fn seed_chains(&mut self, project: &Project, chains: usize) -> Result<(), Failure> {
        let user_id = self.user.id;
        let (visible, hidden) = (
            FolderPath::parse("/f").map_err(work)?,
            FolderPath::parse("/hidden").map_err(work)?,
        );
        self.store
            .write(None, |conn| {
                let visible = folders::ensure_path(conn, project.id, &visible)?;
                let hidden = folders::ensure_path(conn, project.id, &hidden)?;
                let mut record = |folder: &Folder, name: String, link: Option<&DxId>| {
                    let details = match link {
                        Some(target) => json!({ "link": { "$dnanexus_link": target.as_str() } }),
                        None => json!({}),
                    };
                    let new = NewDataObject {
                        class: DxClass::Record,
                        project_id: project.id,
                        folder,
                        name: &name,
                        details,
                        hidden: folder.id == hidden.id,
                        types: Vec::new(),
                        tags: Vec::new(),
                        properties: Map::new(),
                        state: ObjectState::Closed,
                        created_by: user_id,
                    };
                    Ok::<_, StoreError>(objects::create(conn, &new)?.0.dx_id)
                };
                for i in 0..chains {
                    let last = record(&hidden, format!("last-{i}"), None)?;
                    let middle = record(&hidden, format!("middle-{i}"), Some(&last))?;
                    record(&visible, format!("head-{i}"), Some(&middle))?;
                }
                Ok::<_, StoreError>(())
            })
            .map_err(work)
    }

    /// How many objects `project` holds, hidden ones included: `objects::find`, page by page.
    fn objects_in(&mut self, project: &Project) -> Result<usize, Failure> {
        let (mut count, mut starting) = (0, None);
        loop {
            let search = ObjectSearch {
                project_id: Some(project.id),
                starting,
                limit: PAGE,
                ..ObjectSearch::default()
            };
            let (page, next) = objects::find(self.conn, self.user.id, &search).map_err(work)?;
            count += page.len();
            match next {
                Some(next) => starting = Some(next),
                None => return Ok(count),
            }
        }
    }
}
