//! SBG multipart uploads in the content store: parts written in place, sealed, stored whole; or, with an S3 store, straight to the bucket.

use super::*;

impl ContentStore {
    /// The file upload `upload_id` (32 lowercase hex digits) writes its parts into, and the
    /// name it has while it is being completed.
    pub(super) fn upload_paths(&self, upload_id: &str) -> io::Result<(PathBuf, PathBuf)> {
        if upload_id.len() != 32
            || !upload_id
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an upload id is 32 lowercase hex digits",
            ));
        }
        let open = self
            .root
            .join(TMP_DIR)
            .join(format!("{UPLOAD_PREFIX}{upload_id}"));
        let sealed = self
            .root
            .join(TMP_DIR)
            .join(format!("{UPLOAD_PREFIX}{upload_id}{SEALED_SUFFIX}"));
        Ok((open, sealed))
    }

    /// Makes the file an upload's parts are written into, `size` bytes long (sparse until
    /// written); with an S3 store, starts the bucket's multipart upload instead, and returns
    /// its id there.
    pub fn create_upload(&self, upload_id: &str, size: u64) -> io::Result<Option<String>> {
        let (open, _) = self.upload_paths(upload_id)?;
        match &self.remote {
            None => File::create_new(open)?.set_len(size).map(|()| None),
            Some(s3) => s3.create_multipart(&upload_key(upload_id)).map(Some),
        }
    }

    /// With an S3 store, the presigned URL part `part_number` of the upload is `PUT` to, for
    /// `expires_in`; `None` with the local store, whose part URLs are Ferry's.
    pub fn upload_part_url(
        &self,
        upload_id: &str,
        store_upload_id: Option<&str>,
        part_number: u32,
        expires_in: Duration,
    ) -> io::Result<Option<String>> {
        let (Some(s3), Some(store_upload_id)) = (&self.remote, store_upload_id) else {
            return Ok(None);
        };
        self.upload_paths(upload_id)?;
        let part_number = part_number.to_string();
        s3.presign(
            "PUT",
            &upload_key(upload_id),
            &[
                ("partNumber", part_number.as_str()),
                ("uploadId", store_upload_id),
            ],
            expires_in,
        )
        .map(Some)
    }

    /// Completes an upload to an S3 store with its parts' ETags, and returns the key and the
    /// length of the object it made, whose checksums [`ContentStore::settle`] computes later:
    /// hashing here would make a large file's completion outlast the client's timeout. An
    /// upload completed before (its file then failed to commit) is checked again.
    pub fn complete_remote_upload(
        &self,
        upload_id: &str,
        store_upload_id: &str,
        etags: &[String],
    ) -> io::Result<(String, u64)> {
        let s3 = self.bucket()?;
        self.upload_paths(upload_id)?;
        let key = upload_key(upload_id);
        if !s3.exists(&key)? {
            s3.complete_multipart(&key, store_upload_id, etags)?;
        }
        // Not every S3-compatible server checks the ETags it is given on completion; the ETag
        // of what it made, MD5 of the parts' MD5s, tells whether they were those of its parts.
        let (size, etag) = s3.head(&key)?;
        if etag != multipart_etag(etags) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the ETags reported are not those of the parts the object store holds",
            ));
        }
        Ok((key, size))
    }

    /// Hashes the not yet hashed object at `key` (an upload's, from
    /// [`ContentStore::complete_remote_upload`]) and stores it at its address, within the
    /// bucket; the object at `key` stays for the collector.
    pub fn settle(&self, key: &str) -> io::Result<ContentInfo> {
        let s3 = self.bucket()?;
        self.upload_paths(Self::upload_of_key(key).unwrap_or_default())?;
        let info = hash_remote(s3, key)?;
        let target = stored_key(&info.sha256)?;
        if !s3.exists(&target)? {
            s3.copy(key, &target)?;
        }
        Ok(info)
    }

    /// The upload id of an object key [`ContentStore::complete_remote_upload`] returned.
    pub fn upload_of_key(key: &str) -> Option<&str> {
        key.strip_prefix(UPLOADS_DIR)?.strip_prefix('/')
    }

    /// The key of an upload's object.
    pub fn key_of_upload(upload_id: &str) -> String {
        upload_key(upload_id)
    }

    pub(super) fn bucket(&self) -> io::Result<&S3Content> {
        self.remote
            .as_deref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "the content store is local"))
    }

    /// A writer of the part at `offset` of the upload's file. `NotFound` once the upload is
    /// being completed (or gone): a part can never change content already judged.
    pub fn part_writer(&self, upload_id: &str, offset: u64) -> io::Result<PartWriter> {
        let (open, _) = self.upload_paths(upload_id)?;
        let file = File::options().write(true).open(&open)?;
        // Completion renames the file, then waits for the writers holding this lock: a writer
        // that got it after the rename must not write.
        file.lock_shared()?;
        let still_open = fs::metadata(&open)
            .map(|at_path| same_file(&at_path, &file.metadata()?))
            .unwrap_or(Ok(false))?;
        if !still_open {
            return Err(io::ErrorKind::NotFound.into());
        }
        Ok(PartWriter {
            file,
            offset,
            size: 0,
            sha256: Sha256::new(),
        })
    }

    /// Seals the upload's file against part writers (waiting for those writing), and hashes
    /// it: what [`SealedUpload::store`] stores, or [`SealedUpload::unseal`] gives back. A file
    /// left sealed by a crash is unsealed first.
    ///
    /// `known` gives the digests if they were computed as the parts came, once no part can be
    /// written any more (it returns `None` to have the file hashed).
    pub fn seal_upload(
        &self,
        upload_id: &str,
        known: impl FnOnce() -> Option<ContentInfo>,
    ) -> io::Result<SealedUpload> {
        let (open, sealed) = self.upload_paths(upload_id)?;
        if !open.exists() && sealed.exists() {
            fs::rename(&sealed, &open)?;
        }
        fs::rename(&open, &sealed)?;
        let sealing = || -> io::Result<(File, ContentInfo)> {
            let file = File::open(&sealed)?;
            file.lock()?;
            let info = match known() {
                Some(info) if info.size == file.metadata()?.len() => info,
                _ => hash_file(&file)?,
            };
            Ok((file, info))
        };
        match sealing() {
            Ok((file, info)) => Ok(SealedUpload {
                file,
                info,
                open,
                sealed,
                root: self.root.clone(),
            }),
            Err(e) => {
                fs::rename(&sealed, &open)?;
                Err(e)
            }
        }
    }

    /// Reads `len` bytes of the upload's file from `offset`, a megabyte at a time, into `each`.
    pub fn read_upload(
        &self,
        upload_id: &str,
        offset: u64,
        len: u64,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let (open, _) = self.upload_paths(upload_id)?;
        let file = File::open(open)?;
        let mut buf = vec![0u8; 1024 * 1024];
        let mut done = 0u64;
        while done < len {
            let want = usize::try_from((len - done).min(buf.len() as u64)).expect("fits");
            file.read_exact_at(&mut buf[..want], offset + done)?;
            each(&buf[..want]);
            done += want as u64;
        }
        Ok(())
    }

    /// Deletes an upload's file (aborted, expired, or collected); with an S3 store, aborts its
    /// multipart upload (if `store_upload_id` names one) and deletes the object it made.
    pub fn discard_upload(&self, upload_id: &str, store_upload_id: Option<&str>) -> io::Result<()> {
        let (open, sealed) = self.upload_paths(upload_id)?;
        match &self.remote {
            None => {
                remove_if_present(&open)?;
                remove_if_present(&sealed)
            }
            Some(s3) => {
                let key = upload_key(upload_id);
                if let Some(id) = store_upload_id {
                    s3.abort_multipart(&key, id)?;
                }
                s3.delete(&key)
            }
        }
    }

    /// The uploads that have a file, with whether it is sealed, last written before `cutoff`.
    /// With an S3 store, the objects of completed uploads (never sealed: their files point at
    /// them, see [`ContentStore::settle`]).
    pub fn upload_files_since(&self, cutoff: SystemTime) -> io::Result<Vec<(String, bool)>> {
        if let Some(s3) = &self.remote {
            return Ok(s3
                .list(UPLOADS_DIR)?
                .into_iter()
                .filter(|(id, _, written)| *written < cutoff && self.upload_paths(id).is_ok())
                .map(|(id, _, _)| (id, false))
                .collect());
        }
        let mut found = Vec::new();
        for path in read_dir_or_empty(&self.root.join(TMP_DIR))? {
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            let Some(rest) = name.strip_prefix(UPLOAD_PREFIX) else {
                continue;
            };
            let (id, sealed) = match rest.strip_suffix(SEALED_SUFFIX) {
                Some(id) => (id, true),
                None => (rest, false),
            };
            if self.upload_paths(id).is_ok() && modified_before(&path, cutoff)? {
                found.push((id.to_owned(), sealed));
            }
        }
        Ok(found)
    }

    /// Stores a sealed upload left by a crash after its completion committed: its bytes are
    /// then where the file's object expects them.
    pub fn adopt_sealed(&self, upload_id: &str) -> io::Result<ContentInfo> {
        let (open, sealed) = self.upload_paths(upload_id)?;
        let file = File::open(&sealed)?;
        let info = hash_file(&file)?;
        SealedUpload {
            file,
            info: info.clone(),
            open,
            sealed,
            root: self.root.clone(),
        }
        .store()?;
        Ok(info)
    }
}

/// What a part written in place came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenPart {
    pub size: u64,
    /// Lowercase hex: the part's ETag.
    pub sha256: String,
}

/// A part being written at its offset in an upload's file, under a shared lock that completion
/// waits for.
#[derive(Debug)]
pub struct PartWriter {
    pub(super) file: File,
    pub(super) offset: u64,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
}

impl Sink for PartWriter {
    type Stored = WrittenPart;

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all_at(bytes, self.offset + self.size)?;
        self.sha256.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Durable before it is reported written; the lock goes with the file.
    fn finish(self) -> io::Result<WrittenPart> {
        self.file.sync_data()?;
        Ok(WrittenPart {
            size: self.size,
            sha256: hex::encode(self.sha256.finalize()),
        })
    }
}

/// An upload's file, sealed and hashed, held under an exclusive lock until it is stored or
/// given back.
#[derive(Debug)]
pub struct SealedUpload {
    pub(super) file: File,
    pub(super) info: ContentInfo,
    pub(super) open: PathBuf,
    pub(super) sealed: PathBuf,
    pub(super) root: PathBuf,
}

impl SealedUpload {
    pub fn info(&self) -> &ContentInfo {
        &self.info
    }

    /// Moves the bytes to their address (or, if the same bytes are there, marks those used and
    /// drops these).
    pub fn store(self) -> io::Result<()> {
        let target = content_path(&self.root, &self.info.sha256)?;
        match File::options().write(true).open(&target) {
            Ok(stored) => {
                stored.set_modified(SystemTime::now())?;
                return remove_if_present(&self.sealed);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        fs::create_dir_all(target.parent().expect("a content path has a parent"))?;
        // The parts were synced as they came; the rename makes them content, stored now for
        // the collector's grace period.
        fs::rename(&self.sealed, &target)?;
        self.file.set_modified(SystemTime::now())?;
        Ok(())
    }

    /// Gives the file back to the upload, for its parts to be sent again or completed later.
    pub fn unseal(self) -> io::Result<()> {
        fs::rename(&self.sealed, &self.open)
    }
}
