//! The content store: file bytes, immutable, addressed by their SHA-256.
//!
//! Layout under the data directory: `tmp/` for content being written (on the same filesystem,
//! so finishing one is a rename) and for SBG uploads in progress (`tmp/upload-<id>`, the parts
//! written in place at their offsets, stored whole on completion: [`ContentStore::seal_upload`]), `sha256/ab/cd/<hex>` for stored content, and `trash/<hex>`
//! for content the collector (`crate::content_gc`) found unreferenced and holds in quarantine
//! before deleting it. Each content is written once; storing the same bytes again finds them
//! there (and marks them used now, which the collector's grace period counts from). Copies and
//! clones only add metadata pointing at the same address, so they never come here.
//!
//! With an S3 content store (`s3://bucket/prefix`), stored content and content in quarantine
//! live in the bucket instead ([`crate::content_s3`], same layout as keys), and the data
//! directory holds only what Ferry is writing: content is written to `tmp/`, hashed, then put
//! at its address in the bucket. SBG uploads go straight to the bucket, through presigned part
//! URLs, and downloads come straight from it. Each method that differs is one two-arm match.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::content_s3::S3Content;

/// What the store knows of stored bytes: their address, their MD5 (which both APIs report)
/// and their length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentInfo {
    /// Lowercase hex.
    pub sha256: String,
    /// Lowercase hex.
    pub md5: String,
    pub size: u64,
}

#[derive(Debug)]
pub struct ContentStore {
    /// Everything, with the local store; with S3, only what is being written.
    root: PathBuf,
    /// Where stored content lives instead of `root`, if anywhere.
    remote: Option<Arc<S3Content>>,
}

const TMP_DIR: &str = "tmp";
const SHA256_DIR: &str = "sha256";
const TRASH_DIR: &str = "trash";
const UPLOAD_PREFIX: &str = "upload-";
const SEALED_SUFFIX: &str = ".sealed";

impl ContentStore {
    /// Opens the content store rooted at `root`, creating its directories if missing.
    pub fn new(root: &Path) -> io::Result<ContentStore> {
        fs::create_dir_all(root.join(TMP_DIR))?;
        fs::create_dir_all(root.join(SHA256_DIR))?;
        fs::create_dir_all(root.join(TRASH_DIR))?;
        Ok(ContentStore {
            root: root.to_path_buf(),
            remote: None,
        })
    }

    /// The content store `url` names: `s3://bucket[/prefix]`, configured by the environment
    /// and `settings` (see [`S3Content::open`]), writing through `root`; any other URL is
    /// refused.
    pub fn s3(root: &Path, url: &str, settings: &[(String, String)]) -> io::Result<ContentStore> {
        fs::create_dir_all(root.join(TMP_DIR))?;
        Ok(ContentStore {
            root: root.to_path_buf(),
            remote: Some(Arc::new(S3Content::open(url, settings)?)),
        })
    }

    /// Whether clients send and fetch bytes straight to and from an object store.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Streams `reader` into the store, hashing on the way.
    pub fn put_reader(&self, mut reader: impl Read) -> io::Result<ContentInfo> {
        let mut writer = self.writer()?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            writer.write(&buf[..n])?;
        }
        writer.finish()
    }

    /// A new content, written a piece at a time and stored by [`ContentWriter::finish`];
    /// dropped unfinished, it leaves nothing behind.
    pub fn writer(&self) -> io::Result<ContentWriter> {
        Ok(ContentWriter {
            temp: tempfile::NamedTempFile::new_in(self.root.join(TMP_DIR))?,
            sha256: Sha256::new(),
            md5: Md5::new(),
            size: 0,
            root: self.root.clone(),
            remote: self.remote.clone(),
        })
    }

    /// The contents with these SHA-256s, one after the other, stored as one (empty for none):
    /// the parts of an upload, put together.
    pub fn concat(&self, sha256s: &[&str]) -> io::Result<ContentInfo> {
        let mut writer = self.writer()?;
        for sha256 in sha256s {
            self.read(sha256, |bytes| writer.write(bytes))?;
        }
        writer.finish()
    }

    /// Reads the content with this SHA-256 (in quarantine or not), a chunk at a time, into
    /// `each`.
    pub fn read(
        &self,
        sha256: &str,
        mut each: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        match &self.remote {
            None => {
                let mut file = self.open(sha256)?;
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    match file.read(&mut buf) {
                        Ok(0) => return Ok(()),
                        Ok(n) => each(&buf[..n])?,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Some(s3) => match s3.read(&stored_key(sha256)?, &mut each) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => s3.read(&trash_key(sha256)?, each),
                read => read,
            },
        }
    }

    /// With an S3 store, a URL of the bucket's own that downloads the content for
    /// `expires_in`, ranges included, offering `name` to save it under; `None` with the local
    /// store, whose bytes Ferry serves itself.
    pub fn download_url(
        &self,
        content: Located<'_>,
        name: &str,
        expires_in: Duration,
    ) -> io::Result<Option<String>> {
        let Some(s3) = &self.remote else {
            return Ok(None);
        };
        let key = match content {
            Located::Address(sha256) => {
                let stored = stored_key(sha256)?;
                if s3.exists(&stored)? {
                    stored
                } else {
                    trash_key(sha256)?
                }
            }
            Located::Key(key) => {
                self.upload_paths(Self::upload_of_key(key).unwrap_or_default())?;
                key.to_owned()
            }
        };
        let encoded: String = rfc5987_encoded(name);
        let disposition = format!("attachment; filename*=UTF-8''{encoded}");
        s3.presign(
            "GET",
            &key,
            &[("response-content-disposition", disposition.as_str())],
            expires_in,
        )
        .map(Some)
    }

    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<ContentInfo> {
        self.put_reader(bytes)
    }

    /// Where the content with this SHA-256 lives (or would live). Refuses anything but 64
    /// lowercase hex digits, so that no input can name a path outside the store.
    pub fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
        content_path(&self.root, sha256)
    }

    /// Opens stored content for reading; content in quarantine is still there to be read, so
    /// that an object committed while the collector judged its content unreferenced reads it.
    /// The local store's alone: an S3 store's content is read with [`ContentStore::read`].
    pub fn open(&self, sha256: &str) -> io::Result<File> {
        if self.remote.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "content in an object store is not a file",
            ));
        }
        match File::open(self.path_of(sha256)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                File::open(self.root.join(TRASH_DIR).join(sha256))
            }
            opened => opened,
        }
    }

    /// The file upload `upload_id` (32 lowercase hex digits) writes its parts into, and the
    /// name it has while it is being completed.
    fn upload_paths(&self, upload_id: &str) -> io::Result<(PathBuf, PathBuf)> {
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

    fn bucket(&self) -> io::Result<&S3Content> {
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
    fn stored_paths(&self) -> io::Result<Vec<PathBuf>> {
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

const UPLOADS_DIR: &str = "uploads";

/// The bucket key of stored content (checked as [`content_path`] checks it). Flat, unlike the
/// local layout: an object store has no directories to keep small.
fn stored_key(sha256: &str) -> io::Result<String> {
    content_path(Path::new(""), sha256)?;
    Ok(format!("{SHA256_DIR}/{sha256}"))
}

fn trash_key(sha256: &str) -> io::Result<String> {
    content_path(Path::new(""), sha256)?;
    Ok(format!("{TRASH_DIR}/{sha256}"))
}

/// The bucket key of an upload's object (of an id [`ContentStore::upload_paths`] accepted).
fn upload_key(upload_id: &str) -> String {
    format!("{UPLOADS_DIR}/{upload_id}")
}

/// The listed objects named by a content address.
fn addresses(
    listed: Vec<(String, u64, SystemTime)>,
) -> impl Iterator<Item = (String, u64, SystemTime)> {
    listed
        .into_iter()
        .filter(|(name, _, _)| content_path(Path::new(""), name).is_ok())
}

/// The addresses of the bucket's objects under `dir/` last written before `cutoff`.
fn written_before(s3: &S3Content, dir: &str, cutoff: SystemTime) -> io::Result<Vec<String>> {
    Ok(addresses(s3.list(dir)?)
        .filter(|(_, _, written)| *written < cutoff)
        .map(|(sha256, _, _)| sha256)
        .collect())
}

/// A file name as RFC 5987 wants it in `filename*=UTF-8''…`: attribute characters as they are,
/// every other byte percent-encoded.
fn rfc5987_encoded(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The ETag S3 gives the object a multipart upload of parts with these ETags (their MD5s)
/// makes: the MD5 of the parts' MD5s, and their number. `None` if an ETag is no MD5.
fn multipart_etag(etags: &[String]) -> Option<String> {
    let mut digest = Md5::new();
    for etag in etags {
        let md5 = hex::decode(etag.trim_matches('"'))
            .ok()
            .filter(|md5| md5.len() == 16)?;
        digest.update(md5);
    }
    Some(format!(
        "{}-{}",
        hex::encode(digest.finalize()),
        etags.len()
    ))
}

/// The SHA-256 and MD5 of an object in the bucket, read once.
fn hash_remote(s3: &S3Content, key: &str) -> io::Result<ContentInfo> {
    let (mut sha256, mut md5, mut size) = (Sha256::new(), Md5::new(), 0u64);
    s3.read(key, |bytes| {
        sha256.update(bytes);
        md5.update(bytes);
        size += bytes.len() as u64;
        Ok(())
    })?;
    Ok(ContentInfo {
        sha256: hex::encode(sha256.finalize()),
        md5: hex::encode(md5.finalize()),
        size,
    })
}

/// Where an object's bytes are: at their address, or, not hashed yet, at a key of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Located<'a> {
    Address(&'a str),
    Key(&'a str),
}

/// The entries of a directory; none if it does not exist.
fn read_dir_or_empty(dir: &Path) -> io::Result<Vec<PathBuf>> {
    match fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        entries => entries?.map(|entry| Ok(entry?.path())).collect(),
    }
}

/// Whether the file was last modified before `cutoff`; false if it is gone.
fn modified_before(path: &Path, cutoff: SystemTime) -> io::Result<bool> {
    match fs::metadata(path) {
        Ok(metadata) => Ok(metadata.modified()? < cutoff),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The address a content file is named after, if its name is one.
fn address_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    content_path(Path::new(""), name).ok()?;
    Some(name.to_owned())
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        removed => removed,
    }
}

fn content_path(root: &Path, sha256: &str) -> io::Result<PathBuf> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a content address is 64 lowercase hex digits",
        ));
    }
    Ok(root
        .join(SHA256_DIR)
        .join(&sha256[..2])
        .join(&sha256[2..4])
        .join(sha256))
}

/// Where received bytes go, a buffer at a time.
pub trait Sink: Send + 'static {
    type Stored: Send + 'static;
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn finish(self) -> io::Result<Self::Stored>;
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
    file: File,
    offset: u64,
    size: u64,
    sha256: Sha256,
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
    file: File,
    info: ContentInfo,
    open: PathBuf,
    sealed: PathBuf,
    root: PathBuf,
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

/// SHA-256 and MD5 of a whole file, read once, the two digests computed side by side.
fn hash_file(file: &File) -> io::Result<ContentInfo> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(4);
    let md5 = std::thread::spawn(move || {
        let mut md5 = Md5::new();
        for block in receiver {
            md5.update(&block[..]);
        }
        hex::encode(md5.finalize())
    });
    let mut sha256 = Sha256::new();
    let mut size = 0u64;
    let mut reader = file;
    loop {
        let mut block = vec![0u8; 1024 * 1024];
        let n = match reader.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        block.truncate(n);
        sha256.update(&block);
        size += n as u64;
        if sender.send(Arc::new(block)).is_err() {
            break;
        }
    }
    drop(sender);
    let md5 = md5
        .join()
        .map_err(|_| io::Error::other("the MD5 thread panicked"))?;
    Ok(ContentInfo {
        sha256: hex::encode(sha256.finalize()),
        md5,
        size,
    })
}

fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

/// Content being written: a temporary file in the store, hashed as it grows.
#[derive(Debug)]
pub struct ContentWriter {
    temp: tempfile::NamedTempFile,
    sha256: Sha256,
    md5: Md5,
    size: u64,
    root: PathBuf,
    remote: Option<Arc<S3Content>>,
}

impl Sink for ContentWriter {
    type Stored = ContentInfo;

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sha256.update(bytes);
        self.md5.update(bytes);
        self.temp.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Stores what was written under its SHA-256, durably; the same bytes stored before are
    /// found there and kept.
    fn finish(self) -> io::Result<ContentInfo> {
        let info = ContentInfo {
            sha256: hex::encode(self.sha256.finalize()),
            md5: hex::encode(self.md5.finalize()),
            size: self.size,
        };
        if let Some(s3) = &self.remote {
            // Put at its address, unless the same bytes are there; the temp file goes when
            // dropped.
            let key = stored_key(&info.sha256)?;
            if !s3.exists(&key)? {
                s3.put_file(&key, &self.temp.reopen()?, info.size)?;
            }
            return Ok(info);
        }
        let target = content_path(&self.root, &info.sha256)?;
        // Already stored: marked used now, so that the collector's grace period covers the
        // reference about to be made to it; the temp file is deleted when dropped. Gone
        // meanwhile (into quarantine): stored again below.
        match File::options().write(true).open(&target) {
            Ok(stored) => {
                stored.set_modified(SystemTime::now())?;
                return Ok(info);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        // The bytes must be on disk before the name that promises them is.
        self.temp.as_file().sync_all()?;
        fs::create_dir_all(target.parent().expect("a content path has a parent"))?;
        match self.temp.persist_noclobber(&target) {
            Ok(_) => Ok(info),
            // Another writer stored the same bytes meanwhile.
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(info),
            Err(e) => Err(e.error),
        }
    }
}
