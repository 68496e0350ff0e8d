//! Serving stored content: the one download path behind both dialects' signed URLs.
//!
//! Each dialect checks its own signature and finds the file; this module answers with the
//! bytes: one `Range: bytes=a-b` (or `a-`, or `-n`) gets a 206 with that slice and its
//! `Content-Range`, a range past the end a 416, `HEAD` the same headers without the body.
//! Every answer carries the length, `Accept-Ranges`, the content's SHA-256 as a strong
//! `ETag` and the file's name in `Content-Disposition`. The body is streamed in chunks read in
//! the blocking pool, so a download holds one chunk in memory whatever the file's size.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use actix_web::body::SizedStream;
use actix_web::http::header::{self, ContentDisposition, EntityTag, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use ferry_store::{Located, Store, StoreError};
use sha2::{Digest, Sha256};

/// How long the bucket's URL a redirect points to works.
const REDIRECT_SECONDS: i64 = 15 * 60;

/// Bytes read from the content store per chunk of a download.
const CHUNK_BYTES: u64 = 256 * 1024;

/// The stored content a signed URL resolved to.
#[derive(Debug)]
pub(crate) struct Content {
    pub(crate) sha256: String,
    pub(crate) size: u64,
    /// The file's name, offered as the name to save it under.
    pub(crate) name: String,
}

/// With an S3 content store, a presigned URL of the bucket that downloads the bytes of an
/// object with this address or (not hashed yet) this key for `seconds`, so that they never pass
/// through Ferry; `None` with the local store, or for no content (an open file), which the
/// dialect's own signed URL then answers.
pub(crate) async fn store_url(
    store: &Store,
    sha256: Option<String>,
    content_key: Option<String>,
    name: String,
    seconds: i64,
) -> Result<Option<String>, StoreError> {
    if !store.content().is_remote() {
        return Ok(None);
    }
    let store = store.clone();
    let expires_in = std::time::Duration::from_secs(seconds.unsigned_abs());
    web::block(move || {
        let content = match (&sha256, &content_key) {
            (Some(sha256), _) => Located::Address(sha256),
            (None, Some(key)) => Located::Key(key),
            // No content yet: an open file.
            (None, None) => return Ok(None),
        };
        store.content().download_url(content, &name, expires_in)
    })
    .await
    .map_err(|e| StoreError::Unavailable(e.to_string()))?
    .map_err(StoreError::from)
}

/// The answer to `req` (a GET or a HEAD) for `content`: the bytes, or with an S3 content store
/// a redirect to the bucket's presigned URL for them (a URL signed before the store moved).
pub(crate) async fn serve(
    store: &Store,
    req: &HttpRequest,
    content: Content,
) -> Result<HttpResponse, StoreError> {
    let Content { sha256, size, name } = content;
    if let Some(url) = store_url(
        store,
        Some(sha256.clone()),
        None,
        name.clone(),
        REDIRECT_SECONDS,
    )
    .await?
    {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, url))
            .finish());
    }
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_range);
    let (status, start, len) = match range {
        None => (StatusCode::OK, 0, size),
        Some(range) => match range.within(size) {
            Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            None => {
                return Ok(HttpResponse::RangeNotSatisfiable()
                    .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                    .insert_header((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")))
                    .finish());
            }
        },
    };
    let mut response = HttpResponse::build(status);
    response
        .content_type("application/octet-stream")
        .insert_header((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")))
        .insert_header(header::ETag(EntityTag::new_strong(sha256.clone())))
        .insert_header(ContentDisposition::attachment(name));
    if status == StatusCode::PARTIAL_CONTENT {
        response.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + len - 1),
        ));
    }
    if req.method() == Method::HEAD {
        // The length of what a GET would send, and no body.
        return Ok(response.body(SizedStream::new(
            len,
            Box::pin(futures_util::stream::empty::<io::Result<Bytes>>()),
        )));
    }
    let store = store.clone();
    let expected_sha256 = sha256.clone();
    let file = web::block(move || -> io::Result<File> {
        let mut file = store.content().open(&sha256)?;
        file.seek(SeekFrom::Start(start))?;
        Ok(file)
    })
    .await
    .map_err(|_| StoreError::Unavailable("the blocking pool is shut down".into()))??;
    // A whole download is checked against its address as it goes: the last chunk is sent only
    // if the bytes match, so corrupt content is never served silently (the client sees the
    // body cut short).
    let check = (len == size).then(|| Check {
        sha256: Sha256::new(),
        expected: expected_sha256,
    });
    Ok(response.body(SizedStream::new(len, Box::pin(chunks(file, len, check)))))
}

/// The digest of a whole download so far, and what it must come to.
struct Check {
    sha256: Sha256,
    expected: String,
}

/// The next `len` bytes of `file`, a chunk at a time; an error if the file ends first, or if
/// `check` is given and the bytes do not hash to its address.
fn chunks(
    file: File,
    len: u64,
    check: Option<Check>,
) -> impl futures_util::Stream<Item = io::Result<Bytes>> {
    futures_util::stream::try_unfold((file, len, check), |(file, left, mut check)| async move {
        if left == 0 {
            return Ok(None);
        }
        let (file, chunk) = web::block(move || {
            let mut chunk = Vec::new();
            let mut file = file;
            (&mut file)
                .take(left.min(CHUNK_BYTES))
                .read_to_end(&mut chunk)?;
            Ok::<_, io::Error>((file, chunk))
        })
        .await
        .map_err(io::Error::other)??;
        if chunk.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stored content is shorter than its size",
            ));
        }
        let left = left - chunk.len() as u64;
        if let Some(check) = check.as_mut() {
            check.sha256.update(&chunk);
            if left == 0 {
                let actual = hex::encode(check.sha256.clone().finalize());
                if actual != check.expected {
                    tracing::error!(expected = %check.expected, %actual, "stored content does not match its address");
                    return Err(io::Error::other(
                        "stored content does not match its SHA-256",
                    ));
                }
            }
        }
        Ok(Some((Bytes::from(chunk), (file, left, check))))
    })
}

/// One byte range of a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteRange {
    /// `a-b` (`b` inclusive) or `a-`.
    From(u64, Option<u64>),
    /// `-n`: the last `n` bytes.
    Last(u64),
}

impl ByteRange {
    /// The first and last byte of the range in content of `size` bytes, if any byte is in it.
    fn within(self, size: u64) -> Option<(u64, u64)> {
        match self {
            ByteRange::From(start, end) if start < size => {
                Some((start, end.map_or(size - 1, |end| end.min(size - 1))))
            }
            ByteRange::Last(n) if n > 0 && size > 0 => Some((size - n.min(size), size - 1)),
            _ => None,
        }
    }
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else (several ranges included) is ignored,
/// as HTTP allows, and the whole content is served.
fn parse_range(value: &str) -> Option<ByteRange> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        return end.parse().ok().map(ByteRange::Last);
    }
    let start = start.parse().ok()?;
    let end = if end.is_empty() {
        None
    } else {
        Some(end.parse().ok()?)
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    Some(ByteRange::From(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ranges_parse_and_clamp_to_the_content() {
        assert_eq!(parse_range("bytes=0-4"), Some(ByteRange::From(0, Some(4))));
        assert_eq!(parse_range("bytes=5-"), Some(ByteRange::From(5, None)));
        assert_eq!(parse_range("bytes=-3"), Some(ByteRange::Last(3)));
        for ignored in [
            "bytes=4-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
        ] {
            assert_eq!(parse_range(ignored), None, "{ignored}");
        }
        assert_eq!(ByteRange::From(0, Some(4)).within(12), Some((0, 4)));
        assert_eq!(ByteRange::From(10, Some(99)).within(12), Some((10, 11)));
        assert_eq!(ByteRange::From(12, None).within(12), None);
        assert_eq!(ByteRange::Last(3).within(12), Some((9, 11)));
        assert_eq!(ByteRange::Last(30).within(12), Some((0, 11)));
        assert_eq!(ByteRange::Last(0).within(12), None);
        assert_eq!(ByteRange::From(0, None).within(0), None);
    }
}
