//! The digests of SBG uploads' files, computed while their parts arrive, so that completing a
//! large upload does not read it all again.
//!
//! Each process keeps, per upload, the SHA-256 and MD5 of the prefix of its file made of the
//! parts that arrived here, in order: when the part after the prefix arrives, it and any parts
//! waiting after it are read back (from the page cache, as they were just written) and hashed.
//! Each part read back is checked against the ETag it was recorded with (the SHA-256 of its
//! bytes), and completion takes the digests only if every part's ETag is still the one
//! recorded: a part sent again with other bytes, here or through another process, makes
//! completion hash the whole file instead. Nothing here is needed for correctness.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::content::{ContentInfo, ContentStore};
use ferry_domain::upload::PartPlan;

/// A digest not advanced for this long is dropped: its upload was abandoned.
const STALE: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Default)]
pub struct UploadDigests {
    uploads: Mutex<HashMap<String, Arc<Mutex<Running>>>>,
}

#[derive(Debug)]
struct Running {
    plan: PartPlan,
    /// Parts 1 to `hashed` are in the digests, with these ETags.
    hashed: Vec<String>,
    sha256: Sha256,
    md5: Md5,
    /// Parts arrived after a gap: number to ETag.
    waiting: BTreeMap<u32, String>,
    /// A part read back did not match its ETag.
    broken: bool,
    touched: Instant,
}

impl UploadDigests {
    /// Part `number` of the upload arrived, with `etag`: hashes what now follows the prefix.
    pub fn part_arrived(
        &self,
        content: &ContentStore,
        upload_id: &str,
        plan: PartPlan,
        number: u32,
        etag: &str,
    ) -> std::io::Result<()> {
        let running = {
            let mut uploads = self.uploads.lock().unwrap_or_else(PoisonError::into_inner);
            uploads.retain(|_, running| {
                running
                    .lock()
                    .is_ok_and(|running| running.touched.elapsed() < STALE)
            });
            uploads
                .entry(upload_id.to_owned())
                .or_insert_with(|| {
                    Arc::new(Mutex::new(Running {
                        plan,
                        hashed: Vec::new(),
                        sha256: Sha256::new(),
                        md5: Md5::new(),
                        waiting: BTreeMap::new(),
                        broken: false,
                        touched: Instant::now(),
                    }))
                })
                .clone()
        };
        let mut running = running.lock().unwrap_or_else(PoisonError::into_inner);
        running.touched = Instant::now();
        if running.broken || running.plan != plan {
            return Ok(());
        }
        let position = usize::try_from(number).unwrap_or(usize::MAX);
        if position <= running.hashed.len() {
            // Sent again after it was hashed: completion compares the ETags.
            return Ok(());
        }
        running.waiting.insert(number, etag.to_owned());
        loop {
            let next = u32::try_from(running.hashed.len() + 1).unwrap_or(u32::MAX);
            let Some(expected) = running.waiting.remove(&next) else {
                break;
            };
            let offset = u64::from(next - 1) * plan.part_size();
            let len = plan.part_len(next).unwrap_or_default();
            let mut part = Sha256::new();
            let Running { sha256, md5, .. } = &mut *running;
            content.read_upload(upload_id, offset, len, |bytes| {
                part.update(bytes);
                sha256.update(bytes);
                md5.update(bytes);
            })?;
            if hex::encode(part.finalize()) != expected {
                running.broken = true;
                break;
            }
            running.hashed.push(expected);
        }
        Ok(())
    }

    /// The digests of the whole file, if every part was hashed here with the ETag `etags`
    /// (in order) now records; forgets the upload either way.
    pub fn take(&self, upload_id: &str, etags: &[String]) -> Option<ContentInfo> {
        let running = self
            .uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(upload_id)?;
        let running = Arc::try_unwrap(running).ok()?.into_inner().ok()?;
        let complete = !running.broken
            && running.hashed.len() == usize::try_from(running.plan.parts()).ok()?
            && running.hashed == etags;
        complete.then(|| ContentInfo {
            sha256: hex::encode(running.sha256.finalize()),
            md5: hex::encode(running.md5.finalize()),
            size: running.plan.size(),
        })
    }

    /// Forgets an upload that will not be completed.
    pub fn forget(&self, upload_id: &str) {
        self.uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(upload_id);
    }
}
