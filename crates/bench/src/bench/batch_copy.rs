//! The batch copy: one `POST /v2/action/files/copy`, with and without name collisions.

use std::time::Instant;

use super::figures::{median, rate, thousands};
use super::report::{AgainstFloor, Row};
use super::{Bench, settle};
use crate::Failure;

impl Bench<'_> {
    /// One `POST /v2/action/files/copy` of `batch` files into a project where each name is
    /// already taken by `collisions` earlier copies; taken `batch_rounds` times, each into a
    /// project of its own and each with a floor of as many rows, and reported by the medians.
    pub(super) fn batch_copy(&mut self, batch: usize, collisions: usize) -> Result<Row, Failure> {
        let rounds = self.sizes.batch_rounds;
        let (mut ferry, mut floor) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            let destination = self.new_project(&format!("copy {batch} k{collisions} {round}"))?;
            let destination = destination.sbg_id.as_ref();
            let file_ids = &self.sources[..batch];
            // The k earlier copies, through the same API, so their names are the API's.
            for _ in 0..collisions {
                self.api.copy_batch(destination, file_ids)?;
            }
            settle(self.conn)?;
            let started = Instant::now();
            self.api.copy_batch(destination, file_ids)?;
            ferry.push(started.elapsed());
            floor.push(self.floor(batch)?);
        }
        let (ferry, floor) = (median(ferry), median(floor));
        Ok(Row {
            measurement: format!("batch copy, {}", collisions_label(collisions)),
            size: format!("{} files, median of {rounds}", thousands(batch)),
            figure: rate(batch, ferry, "files/s"),
            against_floor: Some(AgainstFloor {
                rows: batch,
                ferry,
                floor,
            }),
        })
    }
}

fn collisions_label(collisions: usize) -> String {
    match collisions {
        0 => "no collisions".to_owned(),
        1 => "every file colliding with 1 earlier copy".to_owned(),
        k => format!("every file colliding with {k} earlier copies"),
    }
}
