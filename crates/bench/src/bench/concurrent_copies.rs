//! Single-file copies from many connections at once.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Bench;
use super::figures::{Latencies, rate, thousands};
use super::report::Row;
use crate::{Failure, work};

impl Bench<'_> {
    /// `POST /v2/files/{id}/actions/copy` from `connections` threads at once, each copying its
    /// own files one after the other into the root of one project.
    pub(super) fn concurrent_copies(&mut self) -> Result<Row, Failure> {
        let (connections, each) = (self.sizes.connections, self.sizes.copies_per_connection);
        let copies = connections * each;
        let destination = self.new_project("concurrent")?;
        let project = destination.sbg_id.as_ref();
        let start = Barrier::new(connections + 1);
        let (latencies, took) = std::thread::scope(|scope| {
            let threads: Vec<_> = self.sources[..copies]
                .chunks(each)
                .map(|files| {
                    let (api, start) = (&self.api, &start);
                    scope.spawn(move || {
                        start.wait();
                        files
                            .iter()
                            .map(|file| {
                                let started = Instant::now();
                                api.post(
                                    &format!("/v2/files/{file}/actions/copy"),
                                    &json!({ "project": project }),
                                )?;
                                Ok(started.elapsed())
                            })
                            .collect::<Result<Vec<Duration>, Failure>>()
                    })
                })
                .collect();
            start.wait();
            let started = Instant::now();
            let mut latencies = Vec::with_capacity(copies);
            for thread in threads {
                let joined = thread
                    .join()
                    .map_err(|_| work("a copying thread panicked"))?;
                latencies.extend(joined?);
            }
            Ok::<_, Failure>((Latencies::from_iter(latencies), started.elapsed()))
        })?;
        self.row(
            format!("single-file copies, {connections} concurrent connections"),
            format!("{} files", thousands(copies)),
            format!(
                "{}; {}",
                rate(copies, took, "requests/s"),
                latencies.p50_p99()
            ),
            copies,
            took,
        )
    }
}
