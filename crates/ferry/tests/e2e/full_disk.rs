//! A full volume under the content store and the log, on a real 16 MiB tmpfs (the tests run as
//! root): uploads in both dialects are a 503 in the dialect's shape with `Retry-After`, leave
//! nothing half-written, and work again once space is freed, without a restart; reads keep
//! being answered while the log cannot be written.

use crate::support::{Server, client, create_user};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on a new directory, unmounted on drop.
struct Volume {
    dir: tempfile::TempDir,
}

impl Volume {
    fn mount(size: &str) -> Volume {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(mounted.success(), "mounting a tmpfs needs root");
        Volume { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the volume is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut filler = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = filler.write_all(&block).and_then(|()| filler.flush()) {
                assert_eq!(e.raw_os_error(), Some(28), "{e}");
                break path;
            }
        }
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn json(response: Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().unwrap_or(Value::Null);
    (status, retry_after, body)
}

struct Api<'a> {
    http: Client,
    server: &'a Server,
    token: String,
}

impl Api<'_> {
    fn sbg(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Option<String>, Value) {
        json(
            self.http
                .request(method, self.server.url(&format!("/v2{path}")))
                .header("X-SBG-Auth-Token", &self.token)
                .json(&body)
                .send()
                .unwrap(),
        )
    }

    fn dx(&self, path: &str, body: Value) -> (u16, Option<String>, Value) {
        json(
            self.http
                .post(self.server.url(path))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .unwrap(),
        )
    }

    fn put(&self, url: &str, bytes: Vec<u8>) -> (u16, Option<String>, Value) {
        json(self.http.put(url).body(bytes).send().unwrap())
    }
}

/// Entries of `dir`, but for the files SBG uploads write their parts into.
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter(|entry| {
                !entry
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("upload-")
            })
            .count()
    })
}

backends!(a_full_content_store_is_a_503_until_space_is_freed);
fn a_full_content_store_is_a_503_until_space_is_freed(db: TestDb) {
    let volume = Volume::mount("16m");
    let data_dir = volume.path().join("data");
    let log = std::fs::File::create(volume.path().join("ferry.log")).unwrap();
    let token = create_user(db.url(), &data_dir, "filler");
    let server = Server::start_logging_to(db.url(), &data_dir, &[], log);
    let api = Api {
        http: client(),
        server: &server,
        token,
    };
    let (status, _, _) = api.sbg(reqwest::Method::POST, "/projects", json!({"name": "full"}));
    assert_eq!(status, 201);
    let (_, _, dx_project) = api.dx("/project/new", json!({"name": "full dx"}));
    let dx_project = dx_project["id"].as_str().unwrap().to_owned();
    let (_, _, upload) = api.sbg(
        reqwest::Method::POST,
        "/upload/multipart",
        json!({"project": "filler/full", "name": "big.bin", "size": 1 << 20}),
    );
    let upload_id = upload["upload_id"].as_str().unwrap().to_owned();
    let (_, _, part) = api.sbg(
        reqwest::Method::GET,
        &format!("/upload/multipart/{upload_id}/part/1"),
        json!(null),
    );
    let sbg_url = part["url"].as_str().unwrap().to_owned();
    let (_, _, file) = api.dx("/file/new", json!({"project": dx_project, "name": "f"}));
    let dx_file = file["id"].as_str().unwrap().to_owned();
    let (_, _, dx_part) = api.dx(&format!("/{dx_file}/upload"), json!({"index": 1}));
    let dx_url = dx_part["url"].as_str().unwrap().to_owned();
    let bytes = vec![7u8; 1 << 20];

    let filler = volume.fill();
    let (status, retry_after, body) = api.put(&sbg_url, bytes.clone());
    assert_eq!((status, &body["code"]), (503, &json!(90011)), "{body}");
    assert!(retry_after.is_some());
    let (status, retry_after, body) = api.put(&dx_url, bytes.clone());
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["type"], "ServiceUnavailable");
    assert!(retry_after.is_some());
    // Reads are answered, though their log lines cannot be written (enough of them to
    // overflow the log file's last page, which tmpfs had already allocated).
    for _ in 0..100 {
        let (status, _, body) = api.sbg(reqwest::Method::GET, "/user", json!(null));
        assert_eq!((status, &body["username"]), (200, &json!("filler")));
    }
    // Nothing half-written: no temporary file left, no content stored.
    assert_eq!(entries(&data_dir.join("tmp")), 0);
    assert_eq!(entries(&data_dir.join("sha256")), 0);

    // Space back: the same URLs work, with no restart.
    std::fs::remove_file(filler).unwrap();
    let (status, _, body) = api.put(&sbg_url, bytes.clone());
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = api.put(&dx_url, bytes.clone());
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = api.dx(&format!("/{dx_file}/close"), json!({}));
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = api.dx(&format!("/{dx_file}/describe"), json!({}));
    assert_eq!((status, &body["size"]), (200, &json!(1 << 20)), "{body}");
    drop(server);
}
