//! The bench's one table, in Markdown so that it can be pasted into docs/performance.md.

use std::fmt::Write as _;
use std::time::Duration;

use ferry_store::Backend;
use ferry_store::bench_support::FLOOR_ROWS_PER_INSERT;

use super::figures::thousands;
use super::memory::Memory;
use super::transfer::Transfer;

/// One row of the table.
pub(super) struct Row {
    pub(super) measurement: String,
    pub(super) size: String,
    /// Ferry's figure as it reads best: files/s, objects/s, p50 and p99, ...
    pub(super) figure: String,
    /// Where Ferry writes rows: its time against the floor's for as many rows.
    pub(super) against_floor: Option<AgainstFloor>,
}

pub(super) struct AgainstFloor {
    pub(super) rows: usize,
    pub(super) ferry: Duration,
    pub(super) floor: Duration,
}

impl AgainstFloor {
    fn micros_per_row(&self, d: Duration) -> f64 {
        d.as_secs_f64() * 1e6 / self.rows as f64
    }
}

/// The table's rows, and Ferry's cost per file by number of files copied (batch copies
/// without collisions and the async job), for the line on flatness under the table.
#[derive(Default)]
pub(super) struct Report {
    rows: Vec<Row>,
    per_file: Vec<(usize, f64)>,
    pub(super) transfers: Vec<Transfer>,
}

impl Report {
    /// Adds the row; `copies_files` if its cost per file belongs on the line on flatness.
    pub(super) fn push(&mut self, row: Row, copies_files: bool) {
        if let Some(cost) = row.against_floor.as_ref().filter(|_| copies_files) {
            self.per_file
                .push((cost.rows, cost.micros_per_row(cost.ferry)));
        }
        self.rows.push(row);
    }
}

/// The one table, and the line on the cost per file from the smallest copy to the largest.
pub(super) fn table(backend: Backend, report: &Report) -> String {
    let mut out = format!(
        "Ferry bench on {backend} (floor: the same number of object and placement rows by \
         multi-row INSERTs of {FLOOR_ROWS_PER_INSERT} rows in one transaction)\n\n\
         | measurement | size | Ferry | Ferry µs/row | floor µs/row | Ferry / floor |\n\
         | --- | --- | --- | ---: | ---: | ---: |\n"
    );
    for row in &report.rows {
        let against_floor = row.against_floor.as_ref().map_or_else(
            || "— | — | —".to_owned(),
            |cost| {
                format!(
                    "{:.1} | {:.1} | {:.2}",
                    cost.micros_per_row(cost.ferry),
                    cost.micros_per_row(cost.floor),
                    cost.ferry.as_secs_f64() / cost.floor.as_secs_f64(),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {against_floor} |",
            row.measurement, row.size, row.figure
        );
    }
    out.push_str(&transfer_table(&report.transfers));
    if report.per_file.is_empty() {
        return out;
    }
    let costs: Vec<f64> = report.per_file.iter().map(|&(_, cost)| cost).collect();
    let (min, max) = costs
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(min, max), &c| {
            (min.min(c), max.max(c))
        });
    let sizes: Vec<String> = report
        .per_file
        .iter()
        .map(|&(files, cost)| format!("{} files {cost:.1} µs", thousands(files)))
        .collect();
    let _ = writeln!(
        out,
        "\nCost per file copied (batch copies without collisions, async job): {}; \
         max / min {:.2}",
        sizes.join(", "),
        max / min
    );
    out
}

/// The bytes moved through Ferry, against the same bytes copied on the same disk.
fn transfer_table(transfers: &[Transfer]) -> String {
    if transfers.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\nBytes through Ferry (floor: {})\n\n\
         | measurement | size | Ferry | floor | Ferry / floor | peak RSS growth |\n\
         | --- | --- | ---: | ---: | ---: | ---: |\n",
        transfers[0].floor_kind
    );
    for t in transfers {
        let rate = |d: Duration| t.bytes as f64 / d.as_secs_f64() / f64::from(1 << 20);
        let _ = writeln!(
            out,
            "| {} | {} MiB | {:.0} ms ({:.0} MiB/s) | {:.0} ms ({:.0} MiB/s) | {:.2} | {} |",
            t.measurement,
            t.bytes >> 20,
            t.ferry.as_secs_f64() * 1e3,
            rate(t.ferry),
            t.floor.as_secs_f64() * 1e3,
            rate(t.floor),
            t.ferry.as_secs_f64() / t.floor.as_secs_f64(),
            Memory::show(t.rss_growth_kb),
        );
    }
    out
}
