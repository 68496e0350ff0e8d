//! What the content collector (`crate::content_gc`) needs: every stored content, its last use, quarantine and deletion.

use super::*;

impl ContentStore {
    /// Every stored content (not in quarantine): its address and its length on disk.
    pub fn stored(&self) -> io::Result<Vec<(String, u64)>> {
        if let Some(s3) = &self.remote {
            return Ok(addresses(s3.list(SHA256_DIR)?)
                .map(|(sha256, size, _)| (sha256, size))
                .collect());
        }
        let mut found = Vec::new();
        for path in self.stored_paths()? {
            if let Some(sha256) = address_of(&path) {
                found.push((sha256, fs::metadata(&path)?.len()));
            }
        }
        Ok(found)
    }

    /// The files of `sha256/ab/cd/`.
    pub(super) fn stored_paths(&self) -> io::Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        for level1 in read_dir_or_empty(&self.root.join(SHA256_DIR))? {
            for level2 in read_dir_or_empty(&level1)? {
                found.extend(read_dir_or_empty(&level2)?);
            }
        }
        Ok(found)
    }

    /// Whether the content's bytes still hash to its address; `on_read` hears how many bytes
    /// each read brought.
    pub fn matches_address(&self, sha256: &str, mut on_read: impl FnMut(u64)) -> io::Result<bool> {
        let mut digest = Sha256::new();
        self.read(sha256, |bytes| {
            digest.update(bytes);
            on_read(bytes.len() as u64);
            Ok(())
        })?;
        Ok(hex::encode(digest.finalize()) == sha256)
    }

    /// Whether content is stored at this address, in quarantine or not.
    pub fn contains(&self, sha256: &str) -> io::Result<bool> {
        match &self.remote {
            None => {
                Ok(self.path_of(sha256)?.exists()
                    || self.root.join(TRASH_DIR).join(sha256).exists())
            }
            Some(s3) => Ok(s3.exists(&stored_key(sha256)?)? || s3.exists(&trash_key(sha256)?)?),
        }
    }

    /// The addresses of the stored contents last written or stored again before `cutoff`.
    /// (An S3 store cannot mark content used again without rewriting it: there, the
    /// quarantine's second look at the references is what covers content stored again.)
    pub fn unused_since(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        if let Some(s3) = &self.remote {
            return written_before(s3, SHA256_DIR, cutoff);
        }
        let mut found = Vec::new();
        for path in self.stored_paths()? {
            if modified_before(&path, cutoff)? {
                found.extend(address_of(&path));
            }
        }
        Ok(found)
    }

    /// Moves the content into quarantine, where it can still be read; false if it was gone.
    pub fn quarantine(&self, sha256: &str) -> io::Result<bool> {
        if let Some(s3) = &self.remote {
            // The copy's time of writing is the quarantine's start.
            return s3.rename(&stored_key(sha256)?, &trash_key(sha256)?);
        }
        let trashed = self.root.join(TRASH_DIR).join(sha256);
        match fs::rename(self.path_of(sha256)?, &trashed) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            moved => moved?,
        }
        // The quarantine counts from now.
        File::options()
            .write(true)
            .open(&trashed)?
            .set_modified(SystemTime::now())?;
        Ok(true)
    }

    /// The addresses in quarantine since before `cutoff`.
    pub fn quarantined_since(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        if let Some(s3) = &self.remote {
            return written_before(s3, TRASH_DIR, cutoff);
        }
        let mut found = Vec::new();
        for path in read_dir_or_empty(&self.root.join(TRASH_DIR))? {
            if modified_before(&path, cutoff)? {
                found.extend(address_of(&path));
            }
        }
        Ok(found)
    }

    /// Brings content out of quarantine: back to its address, or dropped if the same bytes
    /// were stored there again meanwhile.
    pub fn restore(&self, sha256: &str) -> io::Result<()> {
        if let Some(s3) = &self.remote {
            let (stored, trashed) = (stored_key(sha256)?, trash_key(sha256)?);
            if s3.exists(&stored)? {
                return s3.delete(&trashed);
            }
            return s3.rename(&trashed, &stored).map(|_| ());
        }
        let trashed = self.root.join(TRASH_DIR).join(sha256);
        let target = self.path_of(sha256)?;
        fs::create_dir_all(target.parent().expect("a content path has a parent"))?;
        if target.exists() {
            return remove_if_present(&trashed);
        }
        match fs::rename(&trashed, &target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            moved => moved,
        }
    }

    /// Deletes content in quarantine.
    pub fn discard(&self, sha256: &str) -> io::Result<()> {
        match &self.remote {
            None => {
                content_path(&self.root, sha256)?;
                remove_if_present(&self.root.join(TRASH_DIR).join(sha256))
            }
            Some(s3) => s3.delete(&trash_key(sha256)?),
        }
    }
}
