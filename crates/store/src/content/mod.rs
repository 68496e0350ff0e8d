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

mod collection;
mod uploads;
mod writers;

pub use uploads::{PartWriter, SealedUpload, WrittenPart};
pub use writers::{ContentWriter, Sink};
use writers::{hash_file, same_file};

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
