//! Bytes through Ferry: one file uploaded as `sevenbridges-python` uploads it (the server's
//! part size, a part URL, a `PUT`, a report per part, four parts at a time, then complete) and downloaded whole
//! through its signed link, each held against the floor: the same bytes read and written on
//! the same disk by a loop with a 1 MiB buffer, synced at the end as Ferry syncs what it
//! stores. The peak RSS growth of this process (server and client) is taken during each.
//!
//! With an S3 content store the bytes go between the client and the bucket through presigned
//! URLs, so the floor is the bucket's own: the same parts sent four at a time to `UploadPart`
//! URLs the store signs directly, then one GET of the object, with no Ferry call around them.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferry_store::{ContentStore, Located};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::api::Api;
use super::memory::Memory;
use crate::{Failure, work};

const BUFFER: usize = 1024 * 1024;
/// Parts sent at once, as `sevenbridges-python` sends them.
const PARTS_IN_FLIGHT: usize = 4;

/// One direction measured.
pub(super) struct Transfer {
    pub(super) measurement: &'static str,
    pub(super) bytes: u64,
    pub(super) ferry: Duration,
    pub(super) floor: Duration,
    /// What the floor is.
    pub(super) floor_kind: &'static str,
    /// Peak RSS over the RSS at the start, in kB.
    pub(super) rss_growth_kb: Option<u64>,
}

/// Uploads then downloads a file of `bytes` bytes into `project` of a server over `content`,
/// in `dir`.
pub(super) fn measure(
    api: &Api,
    content: &ContentStore,
    project: &str,
    dir: &Path,
    bytes: u64,
    part_size: u64,
) -> Result<Vec<Transfer>, Failure> {
    let source = dir.join("transfer-source.bin");
    let sha256 = write_source(&source, bytes).map_err(work)?;
    // No timeout: a large file may take longer than reqwest's default 30 s.
    let http = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .map_err(work)?;
    let (up_floor, down_floor, floor_kind) = if content.is_remote() {
        let (up, down) = bucket_floor(content, &http, &source, dir, bytes, part_size)?;
        (
            up,
            down,
            "the bucket alone: its presigned URLs, no Ferry call",
        )
    } else {
        let floor = copy_floor(&source, &dir.join("transfer-floor.bin")).map_err(work)?;
        (
            floor,
            floor,
            "the same bytes read and written on the same disk through a 1 MiB buffer, then synced",
        )
    };

    let start = Memory::reset_peak();
    let started = Instant::now();
    let file_id = upload(api, &http, project, &source, bytes, part_size)?;
    let upload_took = started.elapsed();
    let upload_growth = grown(start);

    let target = dir.join("transfer-download.bin");
    let start = Memory::reset_peak();
    let started = Instant::now();
    let info = api.get(&format!("/v2/files/{file_id}/download_info"))?;
    let url = info["url"]
        .as_str()
        .ok_or_else(|| work("no download url"))?;
    let mut response = http.get(url).send().map_err(work)?;
    if !response.status().is_success() {
        return Err(work(format!("the download answered {}", response.status())));
    }
    let mut out = File::create(&target).map_err(work)?;
    let got = io::copy(&mut response, &mut out).map_err(work)?;
    out.sync_all().map_err(work)?;
    let download_took = started.elapsed();
    let download_growth = grown(start);
    if got != bytes || digest(&target).map_err(work)? != sha256 {
        return Err(work("the downloaded bytes differ from the uploaded ones"));
    }
    for path in [&source, &target, &dir.join("transfer-floor.bin")] {
        let _ = std::fs::remove_file(path);
    }
    Ok(vec![
        Transfer {
            measurement: "SBG multipart upload",
            bytes,
            ferry: upload_took,
            floor: up_floor,
            floor_kind,
            rss_growth_kb: upload_growth,
        },
        Transfer {
            measurement: "SBG download",
            bytes,
            ferry: download_took,
            floor: down_floor,
            floor_kind,
            rss_growth_kb: download_growth,
        },
    ])
}

fn grown(start: Option<u64>) -> Option<u64> {
    Some(Memory::peak()?.saturating_sub(start?))
}

/// The upload, as the SDK sends it, one part after the other; returns the new file's id.
fn upload(
    api: &Api,
    http: &reqwest::blocking::Client,
    project: &str,
    source: &Path,
    bytes: u64,
    part_size: u64,
) -> Result<String, Failure> {
    let name = source
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("transfer.bin");
    let started = api.post(
        "/v2/upload/multipart",
        &json!({"project": project, "name": name, "size": bytes, "part_size": part_size}),
    )?;
    let id = started["upload_id"]
        .as_str()
        .ok_or_else(|| work("no upload id"))?;
    let part_size = started["part_size"]
        .as_u64()
        .ok_or_else(|| work("no part size"))?;
    let parts = started["parts"].as_u64().ok_or_else(|| work("no parts"))?;
    // Four parts in flight, as the SDK sends them.
    in_flight(parts, |n| {
        send_part(api, http, id, source, n, part_size, bytes)
    })?;
    let file: Value = api.post(&format!("/v2/upload/multipart/{id}/complete"), &json!({}))?;
    file["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| work("the completed upload has no file id"))
}

/// Part `n`: its URL, the `PUT` of its bytes read from `source`, the report of its ETag.
fn send_part(
    api: &Api,
    http: &reqwest::blocking::Client,
    id: &str,
    source: &Path,
    n: u64,
    part_size: u64,
    bytes: u64,
) -> Result<(), Failure> {
    let part = api.get(&format!("/v2/upload/multipart/{id}/part/{n}"))?;
    let url = part["url"].as_str().ok_or_else(|| work("no part url"))?;
    let etag = put_part(http, url, source, n, part_size, bytes)?;
    let report = json!({"part_number": n, "response": {"headers": {"ETag": etag}}});
    api.post_for_bytes(&format!("/v2/upload/multipart/{id}/part"), &report)?;
    Ok(())
}

/// `PUT`s part `n` of `source` to `url`; returns the ETag answered.
fn put_part(
    http: &reqwest::blocking::Client,
    url: &str,
    source: &Path,
    n: u64,
    part_size: u64,
    bytes: u64,
) -> Result<String, Failure> {
    let offset = (n - 1) * part_size;
    let len = part_size.min(bytes - offset);
    let mut file = File::open(source).map_err(work)?;
    file.seek(SeekFrom::Start(offset)).map_err(work)?;
    let body = reqwest::blocking::Body::sized(file.take(len), len);
    let response = http.put(url).body(body).send().map_err(work)?;
    if !response.status().is_success() {
        return Err(work(format!("part {n} answered {}", response.status())));
    }
    Ok(response
        .headers()
        .get("etag")
        .and_then(|etag| etag.to_str().ok())
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned())
}

/// Runs `send(n)` for parts 1 to `parts`, four at a time; the results in part order.
fn in_flight<T: Send>(
    parts: u64,
    send: impl Fn(u64) -> Result<T, Failure> + Sync,
) -> Result<Vec<T>, Failure> {
    let next = AtomicU64::new(1);
    let mut sent: Vec<(u64, T)> = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..PARTS_IN_FLIGHT)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n > parts {
                            return Ok(mine);
                        }
                        mine.push((n, send(n)?));
                    }
                })
            })
            .collect();
        senders.into_iter().try_fold(Vec::new(), |mut all, sender| {
            all.extend(
                sender
                    .join()
                    .unwrap_or_else(|_| Err(work("a part sender panicked")))?,
            );
            Ok::<_, Failure>(all)
        })
    })?;
    sent.sort_by_key(|(n, _)| *n);
    Ok(sent.into_iter().map(|(_, result)| result).collect())
}

/// The bucket's floor: `source` uploaded straight to it in the same parts, four at a time, then
/// downloaded in one GET into a file in `dir`, synced, as the measured download is; how long
/// each took.
fn bucket_floor(
    content: &ContentStore,
    http: &reqwest::blocking::Client,
    source: &Path,
    dir: &Path,
    bytes: u64,
    part_size: u64,
) -> Result<(Duration, Duration), Failure> {
    // An upload id (32 hex digits) of the bench's own.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(work)?
        .as_nanos();
    let upload_id = format!("{nanos:032x}");
    let parts = bytes.div_ceil(part_size).max(1);
    let started = Instant::now();
    let store_id = content
        .create_upload(&upload_id, bytes)
        .map_err(work)?
        .ok_or_else(|| work("the store is local"))?;
    let expires = Duration::from_secs(3600);
    let etags = in_flight(parts, |n| {
        let number = u32::try_from(n).map_err(work)?;
        let url = content
            .upload_part_url(&upload_id, Some(&store_id), number, expires)
            .map_err(work)?
            .ok_or_else(|| work("no part url"))?;
        put_part(http, &url, source, n, part_size, bytes)
    })?;
    let (key, _) = content
        .complete_remote_upload(&upload_id, &store_id, &etags)
        .map_err(work)?;
    let up = started.elapsed();
    let started = Instant::now();
    let url = content
        .download_url(Located::Key(&key), "floor.bin", expires)
        .map_err(work)?
        .ok_or_else(|| work("no download url"))?;
    let mut response = http.get(url).send().map_err(work)?;
    let target = dir.join("transfer-floor.bin");
    let mut out = File::create(&target).map_err(work)?;
    io::copy(&mut response, &mut out).map_err(work)?;
    out.sync_all().map_err(work)?;
    let down = started.elapsed();
    let _ = std::fs::remove_file(target);
    content.discard_upload(&upload_id, None).map_err(work)?;
    Ok((up, down))
}

/// Writes `bytes` pseudo-random bytes; returns their SHA-256.
fn write_source(path: &Path, bytes: u64) -> io::Result<String> {
    let mut block = vec![0u8; BUFFER];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for chunk in block.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let mut out = File::create(path)?;
    let mut sha256 = Sha256::new();
    let mut left = bytes;
    let mut index = 0u64;
    while left > 0 {
        // Each block differs from the last, so that no two parts are alike.
        block[..8].copy_from_slice(&index.to_le_bytes());
        let n = usize::try_from(left.min(BUFFER as u64)).expect("a block fits");
        out.write_all(&block[..n])?;
        sha256.update(&block[..n]);
        left -= n as u64;
        index += 1;
    }
    out.sync_all()?;
    Ok(hex::encode(sha256.finalize()))
}

/// The floor: `source` read and written to `target` through a 1 MiB buffer, then synced.
fn copy_floor(source: &Path, target: &Path) -> io::Result<Duration> {
    let started = Instant::now();
    let mut input = File::open(source)?;
    let mut output = File::create(target)?;
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        output.write_all(&buf[..n])?;
    }
    output.sync_all()?;
    Ok(started.elapsed())
}

fn digest(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut sha256 = Sha256::new();
    io::copy(&mut file, &mut sha256)?;
    Ok(hex::encode(sha256.finalize()))
}
