//! The content store: file bytes, immutable, addressed by their SHA-256.
//!
//! Layout under the data directory: `tmp/` for uploads in progress (on the same filesystem,
//! so finishing one is a rename) and `sha256/ab/cd/<hex>` for stored content. Each content is
//! written once; storing the same bytes again finds them there. Copies and clones only add
//! metadata pointing at the same address, so they never come here.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use md5::Md5;
use sha2::{Digest, Sha256};

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
    root: PathBuf,
}

const TMP_DIR: &str = "tmp";
const SHA256_DIR: &str = "sha256";

impl ContentStore {
    /// Opens the content store rooted at `root`, creating its directories if missing.
    pub fn new(root: &Path) -> io::Result<ContentStore> {
        fs::create_dir_all(root.join(TMP_DIR))?;
        fs::create_dir_all(root.join(SHA256_DIR))?;
        Ok(ContentStore {
            root: root.to_path_buf(),
        })
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
        })
    }

    /// The contents with these SHA-256s, one after the other, stored as one (empty for none):
    /// the parts of an upload, put together.
    pub fn concat(&self, sha256s: &[&str]) -> io::Result<ContentInfo> {
        let mut readers = Vec::with_capacity(sha256s.len());
        for sha256 in sha256s {
            readers.push(self.open(sha256)?);
        }
        let chained = readers
            .into_iter()
            .fold(Box::new(io::empty()) as Box<dyn Read>, |all, part| {
                Box::new(all.chain(part))
            });
        self.put_reader(chained)
    }

    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<ContentInfo> {
        self.put_reader(bytes)
    }

    /// Where the content with this SHA-256 lives (or would live). Refuses anything but 64
    /// lowercase hex digits, so that no input can name a path outside the store.
    pub fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
        content_path(&self.root, sha256)
    }

    /// Opens stored content for reading.
    pub fn open(&self, sha256: &str) -> io::Result<File> {
        File::open(self.path_of(sha256)?)
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

/// Content being written: a temporary file in the store, hashed as it grows.
#[derive(Debug)]
pub struct ContentWriter {
    temp: tempfile::NamedTempFile,
    sha256: Sha256,
    md5: Md5,
    size: u64,
    root: PathBuf,
}

impl ContentWriter {
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sha256.update(bytes);
        self.md5.update(bytes);
        self.temp.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Stores what was written under its SHA-256, durably; the same bytes stored before are
    /// found there and kept.
    pub fn finish(self) -> io::Result<ContentInfo> {
        let info = ContentInfo {
            sha256: hex::encode(self.sha256.finalize()),
            md5: hex::encode(self.md5.finalize()),
            size: self.size,
        };
        let target = content_path(&self.root, &info.sha256)?;
        if target.exists() {
            // Already stored: the temp file is deleted when dropped.
            return Ok(info);
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
