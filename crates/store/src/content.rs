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
        let mut temp = tempfile::NamedTempFile::new_in(self.root.join(TMP_DIR))?;
        let mut sha256 = Sha256::new();
        let mut md5 = Md5::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            sha256.update(&buf[..n]);
            md5.update(&buf[..n]);
            temp.write_all(&buf[..n])?;
            size += n as u64;
        }
        let info = ContentInfo {
            sha256: hex::encode(sha256.finalize()),
            md5: hex::encode(md5.finalize()),
            size,
        };
        let target = self.path_of(&info.sha256)?;
        if target.exists() {
            // Already stored: the temp file is deleted when dropped.
            return Ok(info);
        }
        // The bytes must be on disk before the name that promises them is.
        temp.as_file().sync_all()?;
        fs::create_dir_all(target.parent().expect("a content path has a parent"))?;
        match temp.persist_noclobber(&target) {
            Ok(_) => Ok(info),
            // Another writer stored the same bytes meanwhile.
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(info),
            Err(e) => Err(e.error),
        }
    }

    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<ContentInfo> {
        self.put_reader(bytes)
    }

    /// Where the content with this SHA-256 lives (or would live). Refuses anything but 64
    /// lowercase hex digits, so that no input can name a path outside the store.
    pub fn path_of(&self, sha256: &str) -> io::Result<PathBuf> {
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
        Ok(self
            .root
            .join(SHA256_DIR)
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(sha256))
    }

    /// Opens stored content for reading.
    pub fn open(&self, sha256: &str) -> io::Result<File> {
        File::open(self.path_of(sha256)?)
    }
}
