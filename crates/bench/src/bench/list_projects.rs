//! `listProjects` of an object placed in many projects of the caller.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ferry_domain::ids::{DxId, SbgId};
use ferry_domain::path::FolderPath;
use ferry_store::clone;
use ferry_store::{files, projects};
use ferry_usecases::clone::{CloneError, CloneRequest, clone_objects};
use serde_json::json;

use super::figures::{Latencies, thousands};
use super::report::Row;
use super::{Bench, settle};
use crate::{Failure, work};

impl Bench<'_> {
    /// `POST /{file}/listProjects`, one call after the other, on a file placed in
    /// `holding_projects` projects of the caller.
    pub(super) fn list_projects(&mut self) -> Result<Row, Failure> {
        let projects = self.sizes.holding_projects;
        let file = self.sources[0].clone();
        let (_, object) =
            files::get_placement_by_sbg_id(self.conn, &SbgId::parse(&file).map_err(work)?)
                .map_err(work)?
                .ok_or_else(|| work(format!("source {file} is gone")))?;
        // The source project holds it too.
        let already = self.holders(&object.dx_id)?;
        self.seed_holders(&object.dx_id, projects.saturating_sub(already))?;
        let holding = self.holders(&object.dx_id)?;
        settle(self.conn)?;
        let path = format!("/{}/listProjects", object.dx_id);
        let call = || -> Result<Duration, Failure> {
            let started = Instant::now();
            let answer = self.api.post_for_bytes(&path, &json!({}))?;
            // As a typed client reads it: the ids and levels borrowed from the body, not a
            // `Value` of 10,000 entries.
            let listed: HashMap<&str, &str> =
                serde_json::from_slice(answer.as_ref()).map_err(work)?;
            let took = started.elapsed();
            let count = listed.len();
            if count != holding {
                return Err(work(format!(
                    "listProjects listed {count} of {holding} projects"
                )));
            }
            Ok(took)
        };
        call()?;
        let latencies = (0..self.sizes.list_calls)
            .map(|_| call())
            .collect::<Result<Latencies, _>>()?;
        Ok(Row {
            measurement: format!(
                "listProjects of an object, {} calls one after the other",
                self.sizes.list_calls
            ),
            size: format!("{} projects", thousands(holding)),
            figure: latencies.p50_p99(),
            against_floor: None,
        })
    }

    /// `count` new projects of the user (each with its root folder and the user as
    /// administrator), each holding `object` in its root, in one transaction: made as the
    /// store makes them, a project created then the object cloned into it from the sources'
    /// project.
    fn seed_holders(&mut self, object: &DxId, count: usize) -> Result<(), Failure> {
        let (user, billing_group_id) = (&self.user, self.billing_group_id);
        let source = &self.source.dx_id;
        let objects = [object.to_string()];
        let root = FolderPath::root();
        self.store
            .write(None, |conn| {
                for n in 0..count {
                    let name = format!("holder {n}");
                    let holder = projects::create(conn, user, &name, "", billing_group_id)?;
                    let request = CloneRequest {
                        user_id: user.id,
                        source,
                        destination: &holder.dx_id,
                        objects: &objects,
                        folders: &[],
                        folder: &root,
                        parents: false,
                    };
                    clone_objects(conn, &request)?;
                }
                Ok::<_, CloneError>(())
            })
            .map_err(work)
    }

    /// How many projects of the user hold the object.
    fn holders(&mut self, object: &DxId) -> Result<usize, Failure> {
        clone::projects_holding(self.conn, self.user.id, object)
            .map(|holders| holders.len())
            .map_err(work)
    }
}
