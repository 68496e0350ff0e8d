//! How large each measurement is: the full presets, the smoke presets, and the flags that
//! override them.

use super::BenchArgs;

/// The size of every measurement.
pub(super) struct Sizes {
    /// Files per batch copy, each with every number of earlier copies in `collisions`.
    pub(super) batches: Vec<usize>,
    pub(super) collisions: Vec<usize>,
    /// Times each batch copy is taken (its median is reported).
    pub(super) batch_rounds: usize,
    /// Files of the async copy job.
    pub(super) async_files: usize,
    /// Objects of each cloned folder, rounded up to whole chains of depth 3.
    pub(super) clone_objects: &'static [usize],
    /// Projects holding the object `listProjects` is timed on, and the calls timed.
    pub(super) holding_projects: usize,
    pub(super) list_calls: usize,
    /// Concurrent connections, and the single-file copies each makes one after the other.
    pub(super) connections: usize,
    pub(super) copies_per_connection: usize,
    /// The file uploaded and downloaded, and the part size asked for.
    pub(super) transfer_bytes: u64,
    pub(super) transfer_part_size: u64,
}

impl Sizes {
    /// The preset `--smoke` picks, with the sizes the flags give instead.
    pub(super) fn for_args(args: &BenchArgs) -> Sizes {
        let mut sizes = if args.smoke {
            Sizes::smoke()
        } else {
            Sizes::full()
        };
        if !args.batch_files.is_empty() {
            sizes.batches.clone_from(&args.batch_files);
        }
        if !args.collisions.is_empty() {
            sizes.collisions.clone_from(&args.collisions);
        }
        sizes
    }

    pub(super) fn largest_batch(&self) -> usize {
        self.batches.iter().copied().max().unwrap_or(0)
    }

    fn full() -> Sizes {
        Sizes {
            batches: vec![100, 1_000],
            collisions: vec![0, 1, 10, 100],
            batch_rounds: 3,
            async_files: 100_000,
            clone_objects: &[10_000, 100_000],
            holding_projects: 10_000,
            list_calls: 200,
            connections: 64,
            copies_per_connection: 50,
            transfer_bytes: 1 << 30,
            transfer_part_size: 32 << 20,
        }
    }

    fn smoke() -> Sizes {
        Sizes {
            batches: vec![10, 20],
            collisions: vec![0, 1],
            batch_rounds: 1,
            async_files: 500,
            clone_objects: &[100],
            holding_projects: 50,
            list_calls: 20,
            connections: 4,
            copies_per_connection: 10,
            transfer_bytes: 12 << 20,
            transfer_part_size: 5 << 20,
        }
    }
}
