//! How a multipart upload splits a file into parts (SBG `/upload/multipart`).
//!
//! Part `n` of a plan of `N` parts covers bytes `(n-1)·P` up to `n·P` (the last part the rest),
//! where `P` is the plan's part size. The server picks `P` from the size the client asks for:
//! at least 5 MiB and at most 5 GiB (S3's limits), large enough for 10,000 parts to hold the
//! file, and never one that leaves a last part of exactly 1 byte. `sevenbridges-python` (which
//! adopts the part size the server answers) splits such a file differently, folding that byte
//! into the part before and sending an empty last part; with any other part size its split is
//! this one.

use crate::error::DomainError;

const MIB: u64 = 1024 * 1024;
/// The smallest part but the last.
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// The largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// What a client that does not ask gets (`sevenbridges-python`'s recommended size).
pub const DEFAULT_PART_SIZE: u64 = 32 * MIB;
pub const MAX_PARTS: u32 = 10_000;
/// The largest file: 5 TiB, as on CAVATICA.
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * MIB;

/// Why a multipart upload into a folder (SBG `/upload/multipart`) is refused, at its start, a
/// part's report or its completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadRefusal {
    /// The project named is not one the caller can see.
    ProjectNotFound,
    /// The folder named is not one the caller can see.
    DestinationNotFound,
    /// The id named as the folder is a file's.
    NotAFolder,
    DestinationNotWritable,
    /// A file or folder of that name is in the folder, and the upload may not replace it.
    NameTaken {
        name: String,
    },
    /// No upload of the caller's has that id.
    UploadNotFound,
    /// The part number is not one of the plan's, 1 to `parts`.
    PartOutOfRange {
        given: String,
        parts: u32,
    },
    /// Parts to an object store are reported with their ETag, the bucket's name for them.
    ReportWithoutEtag {
        part: u32,
    },
    PartNotUploaded {
        part: u32,
    },
    /// The ETag reported is not that of the bytes received.
    EtagMismatch {
        part: u32,
        reported: String,
        received: String,
    },
    /// A part sent is not as long as the plan has it.
    PartWrongLength {
        part: u32,
        sent: u64,
        planned: u64,
    },
    /// Parts the plan has were not received and reported: the first ten missing.
    Incomplete {
        missing: Vec<u32>,
        parts: u32,
    },
    /// A part was sent again while the upload was being completed.
    PartResent,
    /// Another completion of the upload is under way.
    BeingCompleted,
    /// The object store did not take the parts as reported.
    PartsRefusedByStore {
        reason: String,
    },
    /// The parts make a file of another size than the upload was started for.
    WrongSize {
        sent: u64,
        planned: u64,
    },
}

/// Why a file written in parts while open (DNAnexus `/file-xxxx/upload` and `close`) is
/// refused a part or its closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenFileRefusal {
    Access(crate::access::AccessRefusal),
    NotOpen(crate::ids::DxId),
    /// A part sent to an object store needs its size and MD5 announced.
    PartUnannounced,
    /// The object store did not take the parts as announced.
    PartsRefusedByStore {
        reason: String,
    },
}

impl From<crate::access::AccessRefusal> for OpenFileRefusal {
    fn from(refusal: crate::access::AccessRefusal) -> Self {
        OpenFileRefusal::Access(refusal)
    }
}

/// A file's size and the size of its parts, within the limits above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    size: u64,
    part_size: u64,
}

impl PartPlan {
    /// The plan for a file of `size` bytes, with the part size nearest to `wanted` (the
    /// default when absent) that the rules allow.
    pub fn new(size: u64, wanted: Option<u64>) -> Result<PartPlan, DomainError> {
        if size > MAX_FILE_SIZE {
            return Err(DomainError::invalid(
                "upload size",
                format!("a file is at most {MAX_FILE_SIZE} bytes, not {size}"),
            ));
        }
        let fewest = size.div_ceil(u64::from(MAX_PARTS));
        let mut part_size = wanted
            .unwrap_or(DEFAULT_PART_SIZE)
            .clamp(MIN_PART_SIZE, MAX_PART_SIZE)
            .max(fewest);
        // Up a byte at a time, or down from the largest part size.
        let up = part_size < MAX_PART_SIZE;
        while size > part_size && size % part_size == 1 {
            part_size = if up { part_size + 1 } else { part_size - 1 };
        }
        Ok(PartPlan { size, part_size })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// How many parts: one at least, an empty one for an empty file.
    pub fn parts(&self) -> u32 {
        u32::try_from(self.size.div_ceil(self.part_size).max(1))
            .expect("a plan has at most 10,000 parts")
    }

    /// The length of part `number` (1-based), if the plan has it.
    pub fn part_len(&self, number: u32) -> Option<u64> {
        if number == 0 || number > self.parts() {
            return None;
        }
        let start = u64::from(number - 1) * self.part_size;
        Some((self.size - start).min(self.part_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split `sevenbridges-python` 2.11.2 sends (`UPartedFile.get_parts`), as lengths.
    fn sdk_split(size: u64, part_size: u64) -> Vec<u64> {
        let total = size.div_ceil(part_size).max(1);
        let mut start = 0;
        (0..total)
            .map(|_| {
                let mut end = start + part_size;
                if end + 1 >= size {
                    end = size;
                }
                let len = end - start;
                start = end;
                len
            })
            .collect()
    }

    fn lengths(plan: &PartPlan) -> Vec<u64> {
        (1..=plan.parts())
            .map(|n| plan.part_len(n).unwrap())
            .collect()
    }

    #[test]
    fn the_sdk_splits_every_plan_as_the_plan_does() {
        for size in [
            0,
            1,
            MIN_PART_SIZE - 1,
            MIN_PART_SIZE,
            MIN_PART_SIZE + 1,
            2 * MIN_PART_SIZE + 1,
            3 * DEFAULT_PART_SIZE + 1,
            40 * MIB + 3,
        ] {
            let plan = PartPlan::new(size, Some(MIN_PART_SIZE)).unwrap();
            assert_eq!(lengths(&plan), sdk_split(size, plan.part_size()), "{size}");
            assert_eq!(lengths(&plan).iter().sum::<u64>(), size);
        }
        let plan = PartPlan::new(MIN_PART_SIZE + 1, Some(MIN_PART_SIZE)).unwrap();
        assert_eq!(plan.part_size(), MIN_PART_SIZE + 1);
        assert_eq!(plan.parts(), 1);
    }

    #[test]
    fn part_sizes_stay_within_the_limits() {
        assert_eq!(
            PartPlan::new(10, Some(1)).unwrap().part_size(),
            MIN_PART_SIZE
        );
        assert_eq!(
            PartPlan::new(10, None).unwrap().part_size(),
            DEFAULT_PART_SIZE
        );
        assert_eq!(
            PartPlan::new(10, Some(u64::MAX)).unwrap().part_size(),
            MAX_PART_SIZE
        );
        let huge = PartPlan::new(MAX_FILE_SIZE, Some(MIN_PART_SIZE)).unwrap();
        assert!(huge.parts() <= MAX_PARTS);
        assert!(PartPlan::new(MAX_FILE_SIZE + 1, None).is_err());
        let plan = PartPlan::new(12 * MIB, Some(MIN_PART_SIZE)).unwrap();
        assert_eq!(plan.parts(), 3);
        assert_eq!(plan.part_len(3), Some(2 * MIB));
        assert_eq!((plan.part_len(0), plan.part_len(4)), (None, None));
        let empty = PartPlan::new(0, None).unwrap();
        assert_eq!((empty.parts(), empty.part_len(1)), (1, Some(0)));
    }
}
