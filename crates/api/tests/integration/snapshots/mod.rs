//! JSON snapshots of every response shape of both dialects: a change of shape, status or
//! message fails here (`cargo insta review` shows it; under `CI=true` a missing snapshot fails
//! too). The same snapshot holds on every backend. What differs from run to run is redacted:
//! ids, timestamps, tokens, signed URLs and ETags.

mod dx;
mod sbg;

use crate::support::{Ctx, Reply};
use ferry_domain::model::{Project, User};
use ferry_testkit::{FileBuilder, ProjectBuilder, TestDb};
use insta::internals::{Content, ContentPath};
use serde_json::json;

/// What both dialects' snapshots start from: alice, her token, and her project `Snap` with
/// `/data/reads.bam` in it, known by its ids in each dialect.
pub struct World {
    pub ctx: Ctx,
    pub alice: User,
    pub token: String,
    pub project: Project,
    pub sbg_file: String,
    pub sbg_folder: String,
    pub dx_file: String,
}

impl From<TestDb> for World {
    fn from(db: TestDb) -> World {
        let ctx = Ctx::new(db);
        let (alice, token) = ctx.user("alice");
        let project = ProjectBuilder::new(&alice, "Snap")
            .description("Snapshots")
            .create(ctx.db.store());
        let (object, placement) = FileBuilder::new(&project, &alice, "reads.bam")
            .in_folder("/data")
            .create(ctx.db.store());
        World {
            sbg_file: placement.sbg_id.to_string(),
            sbg_folder: ctx.folder_id(&project, "/data"),
            dx_file: object.dx_id.to_string(),
            ctx,
            alice,
            token,
            project,
        }
    }
}

/// Asserts the snapshot `name` of a reply: its status and its body, redacted.
#[track_caller]
pub fn assert_reply(name: &str, reply: &Reply) {
    let status = reply.status.as_u16();
    insta::assert_json_snapshot!(name, json!({"status": status, "body": reply.json}), {
        ".body" => insta::dynamic_redaction(redact),
    });
}

/// Keys whose values change from run to run whatever they hold.
const VOLATILE_KEYS: [&str; 10] = [
    "created",
    "modified",
    "created_on",
    "modified_on",
    "started_on",
    "finished_on",
    "expires",
    "etag",
    "reset",
    "token",
];

/// Redacts the body (insta hands over the whole matched value: the walk is ours).
fn redact(value: Content, _: ContentPath<'_>) -> Content {
    redact_value(value, None)
}

/// `value`, found under `key`, with its volatile parts replaced.
fn redact_value(value: Content, key: Option<&str>) -> Content {
    match value {
        Content::Map(entries) => Content::Map(
            entries
                .into_iter()
                .map(|(key, value)| {
                    let value = redact_value(value, key.as_str());
                    // Maps keyed by id (`listProjects`, a batch copy's results).
                    let key = match key.as_str() {
                        Some(text) => Content::from(redact_text(text)),
                        None => key,
                    };
                    (key, value)
                })
                .collect(),
        ),
        Content::Seq(items) => {
            Content::Seq(items.into_iter().map(|v| redact_value(v, None)).collect())
        }
        Content::None | Content::Unit => value,
        _ => match key {
            Some(key) if VOLATILE_KEYS.contains(&key) => Content::from(format!("[{key}]")),
            _ => match value.as_str() {
                Some(text) => Content::from(redact_text(text)),
                None => value,
            },
        },
    }
}

/// A DNAnexus download URL with its expiry and signature (`/download/{id}/{expires}/{signature}/
/// {name}`) written `[signed]`.
fn signed_path(text: &str) -> String {
    let Some((base, rest)) = text.split_once("/download/") else {
        return text.to_owned();
    };
    let parts: Vec<&str> = rest.splitn(4, '/').collect();
    match parts.as_slice() {
        [id, expires, signature, name]
            if expires.bytes().all(|b| b.is_ascii_digit())
                && signature.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            format!("{base}/download/{id}/[signed]/{name}")
        }
        _ => text.to_owned(),
    }
}

/// The text with its volatile parts replaced: timestamps, a signed URL's query, UUIDs,
/// DNAnexus ids (`file-` and 24 letters or digits), and runs of 24 or 32 hexadecimal digits
/// (SBG ids, job and upload ids); a download URL's signed path.
fn redact_text(text: &str) -> String {
    if chrono::DateTime::parse_from_rfc3339(text).is_ok() {
        return "[timestamp]".to_owned();
    }
    let text = match text.split_once('?') {
        Some((url, query))
            if url.contains("://")
                && (query.contains("signature=") || query.contains("token=")) =>
        {
            format!("{url}?[signed]")
        }
        _ => without_uuids(&signed_path(text)),
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        let hex = word.bytes().all(|b| b.is_ascii_hexdigit());
        match word.len() {
            24 if hex => out.push_str("[id]"),
            32 if hex => out.push_str("[hex32]"),
            24 if out.ends_with('-') => out.push_str("[id]"),
            _ => out.push_str(word),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The text with each hyphenated UUID (billing group ids) replaced.
fn without_uuids(text: &str) -> String {
    const LEN: usize = 36;
    let is_uuid = |s: &[u8]| {
        s.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
    };
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at >= LEN && is_uuid(&bytes[at..at + LEN]) {
            out.push_str("[uuid]");
            at += LEN;
        } else {
            let c = text[at..]
                .chars()
                .next()
                .expect("a character at a boundary");
            out.push(c);
            at += c.len_utf8();
        }
    }
    out
}
