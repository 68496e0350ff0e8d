//! Writing received bytes: the `Sink` a request body is streamed into, and the content writer that hashes as it writes.

use super::*;

/// Where received bytes go, a buffer at a time.
pub trait Sink: Send + 'static {
    type Stored: Send + 'static;
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn finish(self) -> io::Result<Self::Stored>;
}

/// SHA-256 and MD5 of a whole file, read once, the two digests computed side by side.
pub(super) fn hash_file(file: &File) -> io::Result<ContentInfo> {
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

pub(super) fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

/// Content being written: a temporary file in the store, hashed as it grows.
#[derive(Debug)]
pub struct ContentWriter {
    pub(super) temp: tempfile::NamedTempFile,
    pub(super) sha256: Sha256,
    pub(super) md5: Md5,
    pub(super) size: u64,
    pub(super) root: PathBuf,
    pub(super) remote: Option<Arc<S3Content>>,
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
