//! The content store's S3 side: stored content as objects of an S3-compatible bucket, through
//! the `object_store` crate (its SigV4 signer, presigned URLs included), for several `ferry
//! serve` processes on several machines.
//!
//! Keys under the configured prefix mirror the local layout: `sha256/<hex>` for stored content,
//! `trash/<hex>` for content in quarantine, `uploads/<upload id>` for SBG multipart uploads,
//! whose parts clients send to presigned URLs of the bucket itself. The calls block: the store
//! keeps a small runtime of its own, so that they can be made from `web::block` closures and
//! from the command line alike.

use std::fs::File;
use std::io::{self, Read};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};

/// Bytes per part when Ferry itself writes content to the bucket.
const WRITE_PART_BYTES: usize = 16 * 1024 * 1024;

pub struct S3Content {
    bucket: AmazonS3,
    /// Empty, or ends with `/`.
    prefix: String,
    /// Always there until dropped (see the `Drop` impl).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for S3Content {
    /// Without waiting: the store may be dropped on an async worker, where blocking panics.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for S3Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Content")
            .field("bucket", &self.bucket.to_string())
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// An `object_store` error as the I/O error the rest of the store speaks: a missing object is
/// `NotFound`; a failure to reach the store keeps the kind of the I/O error under it
/// (`ConnectionRefused`, `TimedOut`...: a 503 to clients); anything else, the store refusing a
/// request above all, is `Other`.
fn io_error(e: object_store::Error) -> io::Error {
    let kind = match &e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
        other => {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(other);
            let mut kind = io::ErrorKind::Other;
            while let Some(error) = cause {
                if let Some(io) = error.downcast_ref::<io::Error>() {
                    kind = io.kind();
                    break;
                }
                cause = error.source();
            }
            kind
        }
    };
    io::Error::new(kind, e.to_string())
}

impl S3Content {
    /// The store at `url` (`s3://bucket` or `s3://bucket/prefix`), with the credentials,
    /// region and endpoint of the usual `AWS_*` variables (`AWS_ENDPOINT_URL` for a server
    /// other than AWS, `AWS_ALLOW_HTTP=true` for one without TLS), which `settings` (pairs
    /// named as those variables are, lowercase: `aws_endpoint_url`) override. Path-style
    /// requests, which every S3-compatible server takes.
    pub fn open(url: &str, settings: &[(String, String)]) -> io::Result<S3Content> {
        let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, why.to_owned());
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("a content store URL is s3://bucket[/prefix]"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the content store URL names no bucket"));
        }
        let prefix = prefix.trim_matches('/');
        let mut builder = AmazonS3Builder::from_env();
        for (key, value) in settings {
            let key = key
                .parse()
                .map_err(|_| invalid(&format!("{key} is no S3 setting")))?;
            builder = builder.with_config(key, value);
        }
        // A store out of reach is a 503 within seconds, for the client to retry, rather than
        // a request held for the default three minutes of retries.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(10),
            ..RetryConfig::default()
        };
        let bucket = builder
            .with_bucket_name(bucket)
            .with_retry(retry)
            .build()
            .map_err(io_error)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ferry-s3")
            .enable_all()
            .build()?;
        Ok(S3Content {
            bucket,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            runtime: Some(runtime),
        })
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the store")
    }

    fn path(&self, key: &str) -> Path {
        Path::from(format!("{}{key}", self.prefix))
    }

    /// Whether the object `key` exists.
    pub fn exists(&self, key: &str) -> io::Result<bool> {
        match self.runtime().block_on(self.bucket.head(&self.path(key))) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Writes `size` bytes of `file` (from its start) to `key`: one request for a small
    /// file, a multipart upload, a few parts in flight, for a large one.
    pub fn put_file(&self, key: &str, file: &File, size: u64) -> io::Result<()> {
        let path = self.path(key);
        let mut reader = file.take(size);
        if size <= WRITE_PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
            reader.read_to_end(&mut bytes)?;
            return self
                .runtime()
                .block_on(self.bucket.put(&path, PutPayload::from(bytes)))
                .map(|_| ())
                .map_err(io_error);
        }
        self.runtime().block_on(async {
            let upload = self.bucket.put_multipart(&path).await.map_err(io_error)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, WRITE_PART_BYTES);
            let mut buf = vec![0u8; WRITE_PART_BYTES];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(e);
                    }
                };
                if let Err(e) = writer.wait_for_capacity(4).await {
                    return Err(io_error(e));
                }
                writer.write(&buf[..n]);
            }
            writer.finish().await.map(|_| ()).map_err(io_error)
        })
    }

    /// The object's length and ETag (unquoted).
    pub fn head(&self, key: &str) -> io::Result<(u64, Option<String>)> {
        let meta = self
            .runtime()
            .block_on(self.bucket.head(&self.path(key)))
            .map_err(io_error)?;
        Ok((
            meta.size,
            meta.e_tag.map(|etag| etag.trim_matches('"').to_owned()),
        ))
    }

    /// Reads the object `key` from its start, a chunk at a time, into `each`.
    pub fn read(&self, key: &str, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        self.runtime().block_on(async {
            let got = self.bucket.get(&self.path(key)).await.map_err(io_error)?;
            let mut chunks = got.into_stream();
            while let Some(chunk) = chunks.next().await {
                each(&chunk.map_err(io_error)?)?;
            }
            Ok(())
        })
    }

    /// The objects under `dir/` (a key prefix): their names below it, lengths and times of
    /// last writing.
    pub fn list(&self, dir: &str) -> io::Result<Vec<(String, u64, SystemTime)>> {
        let under = format!("{}{dir}/", self.prefix);
        self.runtime().block_on(async {
            let mut listing = self.bucket.list(Some(&Path::from(under.as_str())));
            let mut found = Vec::new();
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(io_error)?;
                let name = meta
                    .location
                    .as_ref()
                    .strip_prefix(&under)
                    .map(str::to_owned);
                if let Some(name) = name {
                    found.push((name, meta.size, SystemTime::from(meta.last_modified)));
                }
            }
            Ok(found)
        })
    }

    /// Moves `from` to `to` (a copy in the store, then a delete); false if `from` was gone.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<bool> {
        match self
            .runtime()
            .block_on(self.bucket.rename(&self.path(from), &self.path(to)))
        {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Copies `from` to `to`, within the store.
    pub fn copy(&self, from: &str, to: &str) -> io::Result<()> {
        self.runtime()
            .block_on(self.bucket.copy(&self.path(from), &self.path(to)))
            .map_err(io_error)
    }

    /// Deletes the object `key`, if it is there.
    pub fn delete(&self, key: &str) -> io::Result<()> {
        match self.runtime().block_on(self.bucket.delete(&self.path(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// A URL of the store itself that lets its holder `method` the object `key` (with these
    /// query parameters, signed too) for `expires_in`, with no other credential.
    pub fn presign(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        expires_in: Duration,
    ) -> io::Result<String> {
        let method = http::Method::from_bytes(method.as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let options = SignedUrlOptions::default().with_query(query.iter().copied());
        self.runtime()
            .block_on(
                self.bucket
                    .signed_url_opts(method, &self.path(key), expires_in, &options),
            )
            .map(String::from)
            .map_err(io_error)
    }

    /// Starts a multipart upload to `key`; its id at the store.
    pub fn create_multipart(&self, key: &str) -> io::Result<String> {
        self.runtime()
            .block_on(self.bucket.create_multipart(&self.path(key)))
            .map_err(io_error)
    }

    /// Completes the multipart upload `id` to `key` with the parts' ETags, in part order; the
    /// store refuses ETags that are not those of the parts it holds.
    pub fn complete_multipart(&self, key: &str, id: &str, etags: &[String]) -> io::Result<()> {
        let parts = etags
            .iter()
            .map(|etag| PartId {
                content_id: etag.clone(),
            })
            .collect();
        self.runtime()
            .block_on(
                self.bucket
                    .complete_multipart(&self.path(key), &id.to_owned(), parts),
            )
            .map(|_| ())
            .map_err(io_error)
    }

    /// Drops the multipart upload `id` to `key` and the parts it holds.
    pub fn abort_multipart(&self, key: &str, id: &str) -> io::Result<()> {
        match self
            .runtime()
            .block_on(self.bucket.abort_multipart(&self.path(key), &id.to_owned()))
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }
}
