//! The content store on S3 (the test server checks every signature): content round-trips
//! through the bucket and never lands on the local disk, presigned URLs work and tampered ones
//! do not, an SBG upload's parts go straight to the bucket, and the collector quarantines and
//! deletes there as it does on disk.

use std::time::{Duration, Instant, SystemTime};

use ferry_domain::model::ObjectState;
use ferry_domain::name::FileName;
use ferry_store::content_gc::collect;
use ferry_store::content_hashing::{next_key, settle};
use ferry_store::{ContentInfo, Located, Store, files, objects, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

const MIB: usize = 1024 * 1024;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn read(store: &Store, content: &ContentInfo) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    store.content().read(&content.sha256, |chunk| {
        bytes.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok(bytes)
}

/// The URL with the last character of its signature changed.
fn tampered(url: &str) -> String {
    let mut url = url.to_owned();
    let at = url.find("X-Amz-Signature=").expect("a presigned URL") + "X-Amz-Signature=".len();
    let flipped = if &url[at..=at] == "0" { "1" } else { "0" };
    url.replace_range(at..=at, flipped);
    url
}

backends!(content_round_trips_through_the_bucket_and_presigned_urls_are_checked);
fn content_round_trips_through_the_bucket_and_presigned_urls_are_checked(db: TestDb) {
    let db = db.on_s3();
    let content = db.store().content();
    let small = content.put_bytes(b"small bytes").unwrap();
    // Over the part size Ferry writes the bucket with: a multipart upload of its own.
    let large_bytes = pattern(20 * MIB + 5);
    let large = content.put_reader(&large_bytes[..]).unwrap();
    assert_eq!(read(db.store(), &small).unwrap(), b"small bytes");
    assert!(read(db.store(), &large).unwrap() == large_bytes);
    let mut stored = content.stored().unwrap();
    stored.sort();
    let mut expected = vec![
        (small.sha256.clone(), small.size),
        (large.sha256.clone(), large.size),
    ];
    expected.sort();
    assert_eq!(stored, expected);
    assert!(content.matches_address(&large.sha256, |_| {}).unwrap());
    // Nothing stayed on the local disk.
    assert!(!content.path_of(&small.sha256).unwrap().exists());
    assert!(content.open(&small.sha256).is_err());

    let url = content
        .download_url(
            Located::Address(&large.sha256),
            "big file.bin",
            Duration::from_secs(60),
        )
        .unwrap()
        .expect("an S3 store presigns downloads");
    let client = reqwest::blocking::Client::new();
    let ranged = client
        .get(&url)
        .header("Range", "bytes=10-19")
        .send()
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert!(
        ranged.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("big%20file.bin")
    );
    assert_eq!(ranged.bytes().unwrap().as_ref(), &large_bytes[10..20]);
    assert_eq!(client.get(tampered(&url)).send().unwrap().status(), 403);
}

backends!(an_upload_goes_straight_to_the_bucket_and_its_etags_are_checked);
fn an_upload_goes_straight_to_the_bucket_and_its_etags_are_checked(db: TestDb) {
    let db = db.on_s3();
    let content = db.store().content();
    let upload_id = "0123456789abcdef0123456789abcdef";
    let data = pattern(5 * MIB + 3);
    let store_id = content
        .create_upload(upload_id, data.len() as u64)
        .unwrap()
        .expect("a multipart upload at the bucket");
    let client = reqwest::blocking::Client::new();
    let url = |n| {
        content
            .upload_part_url(upload_id, Some(&store_id), n, Duration::from_secs(60))
            .unwrap()
            .expect("a presigned part URL")
    };
    // A short body: the server answers a bad signature before reading one.
    let forged = client
        .put(tampered(&url(1)))
        .body(b"forged".to_vec())
        .send()
        .unwrap();
    assert_eq!(forged.status(), 403);
    let mut etags = Vec::new();
    for (n, part) in [(1, &data[..5 * MIB]), (2, &data[5 * MIB..])] {
        let sent = client.put(url(n)).body(part.to_vec()).send().unwrap();
        assert!(sent.status().is_success(), "{}", sent.status());
        etags.push(sent.headers()["etag"].to_str().unwrap().to_owned());
    }
    let wrong = vec![etags[0].clone(), etags[0].clone()];
    assert!(
        content
            .complete_remote_upload(upload_id, &store_id, &wrong)
            .is_err()
    );
    // Completed, not hashed: that is left to a job worker.
    let (key, size) = content
        .complete_remote_upload(upload_id, &store_id, &etags)
        .unwrap();
    assert_eq!(size, data.len() as u64);
    let expected = local_digest(&db, &data);
    assert!(!content.contains(&expected.sha256).unwrap());
    // Settling hashes the object and stores it at its address.
    assert_eq!(content.settle(&key).unwrap(), expected);
    assert!(read(db.store(), &expected).unwrap() == data);
}

/// What the local store makes of `data`: the digests to expect.
fn local_digest(db: &TestDb, data: &[u8]) -> ContentInfo {
    ferry_store::ContentStore::new(&db.data_dir().join("check"))
        .unwrap()
        .put_bytes(data)
        .unwrap()
}

/// A new upload's object in the bucket, completed, holding `data`; its key.
fn uploaded(db: &TestDb, upload_id: &str, data: &[u8]) -> String {
    let content = db.store().content();
    let store_id = content
        .create_upload(upload_id, data.len() as u64)
        .unwrap()
        .unwrap();
    let url = content
        .upload_part_url(upload_id, Some(&store_id), 1, Duration::from_secs(60))
        .unwrap()
        .unwrap();
    let sent = reqwest::blocking::Client::new()
        .put(url)
        .body(data.to_vec())
        .send()
        .unwrap();
    let etag = sent.headers()["etag"].to_str().unwrap().to_owned();
    content
        .complete_remote_upload(upload_id, &store_id, &[etag])
        .unwrap()
        .0
}

backends!(closing_files_are_settled_copies_included_and_the_upload_object_goes_after);
fn closing_files_are_settled_copies_included_and_the_upload_object_goes_after(db: TestDb) {
    let db = db.on_s3();
    let store = db.store();
    let data = b"uploaded straight to the bucket".to_vec();
    let key = uploaded(&db, "00000000000000000000000000000001", &data);
    let user = ferry_testkit::user(store, "alice");
    let project = ferry_testkit::project(store, &user, "P");
    let mut conn = store.conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let closing = |conn: &mut _, name: &str| {
        let name = FileName::parse(name).unwrap();
        files::create_closing_file(conn, user.id, project.id, &root, &name, 31, &key)
            .unwrap()
            .0
    };
    let first = closing(&mut conn, "a.bin");
    assert_eq!(first.state, ObjectState::Closing);
    drop(conn);
    // The collector keeps the object a file waits on, once it is old enough to collect
    // (the bucket's clock counts whole seconds).
    let later = SystemTime::now() + Duration::from_secs(60);
    let grace = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(10);
    while store
        .content()
        .upload_files_since(SystemTime::now())
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the upload's object never aged");
        std::thread::sleep(Duration::from_millis(50));
    }
    collect(store, grace, Duration::ZERO).unwrap();
    assert_eq!(store.content().upload_files_since(later).unwrap().len(), 1);
    assert_eq!(next_key(store, &[]).unwrap().as_deref(), Some(key.as_str()));
    assert_eq!(next_key(store, std::slice::from_ref(&key)).unwrap(), None);

    let settled = settle(store, key.clone()).unwrap();
    let expected = local_digest(&db, &data);
    assert_eq!(
        (settled.sha256.as_str(), settled.objects),
        (expected.sha256.as_str(), 1)
    );
    let mut conn = store.conn().unwrap();
    let object = objects::get(&mut conn, &first.dx_id).unwrap().unwrap();
    assert_eq!(object.state, ObjectState::Closed);
    assert_eq!(
        object.content_sha256.as_deref(),
        Some(expected.sha256.as_str())
    );
    assert_eq!(object.md5.as_deref(), Some(expected.md5.as_str()));
    // A copy that committed after the settling still waits on the key.
    let copy = closing(&mut conn, "copy.bin");
    drop(conn);
    collect(store, grace, Duration::ZERO).unwrap();
    assert_eq!(store.content().upload_files_since(later).unwrap().len(), 1);
    // A second file now waits on the object.
    let second = files::create_closing_file(
        &mut store.conn().unwrap(),
        user.id,
        project.id,
        &root,
        &FileName::parse("b.bin").unwrap(),
        31,
        &uploaded(&db, "00000000000000000000000000000002", &data),
    )
    .unwrap()
    .0;
    // Settled from its sibling: the bytes are not read again, so even with the upload's
    // object gone it closes.
    let upload_one = ferry_store::ContentStore::upload_of_key(&key).unwrap();
    store.content().discard_upload(upload_one, None).unwrap();
    let again = settle(store, key.clone()).unwrap();
    assert_eq!((again.sha256, again.objects), (expected.sha256.clone(), 1));
    let mut conn = store.conn().unwrap();
    let copy = objects::get(&mut conn, &copy.dx_id).unwrap().unwrap();
    assert_eq!(copy.state, ObjectState::Closed);
    drop(conn);
    // The second upload's object goes once its file is settled: nothing waits on it any
    // more; the stored content stays.
    let second_key = next_key(store, &[]).unwrap().unwrap();
    collect(store, grace, Duration::ZERO).unwrap();
    assert_eq!(store.content().upload_files_since(later).unwrap().len(), 1);
    settle(store, second_key).unwrap();
    let mut conn = store.conn().unwrap();
    assert_eq!(
        objects::get(&mut conn, &second.dx_id)
            .unwrap()
            .unwrap()
            .state,
        ObjectState::Closed
    );
    drop(conn);
    collect(store, grace, Duration::ZERO).unwrap();
    assert!(
        store
            .content()
            .upload_files_since(later)
            .unwrap()
            .is_empty()
    );
    assert!(read(store, &expected).unwrap() == data);
}

backends!(the_collector_quarantines_then_deletes_unreferenced_content_in_the_bucket);
fn the_collector_quarantines_then_deletes_unreferenced_content_in_the_bucket(db: TestDb) {
    let db = db.on_s3();
    let store = db.store();
    let kept = store.content().put_bytes(b"kept").unwrap();
    let dropped = store.content().put_bytes(b"dropped").unwrap();
    let user = ferry_testkit::user(store, "alice");
    let project = ferry_testkit::project(store, &user, "P");
    let mut conn = store.conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let name = FileName::parse("kept.bin").unwrap();
    files::create_closed_file(&mut conn, user.id, project.id, &root, &name, &kept).unwrap();
    drop(conn);
    // No grace: everything written before now is old enough.
    let first = collect(store, Duration::ZERO, Duration::from_secs(3600)).unwrap();
    assert_eq!(first.quarantined, 1);
    // In quarantine, still readable.
    assert_eq!(read(store, &dropped).unwrap(), b"dropped");
    let second = collect(store, Duration::ZERO, Duration::ZERO).unwrap();
    assert_eq!((second.deleted, second.restored), (1, 0));
    assert!(!store.content().contains(&dropped.sha256).unwrap());
    assert_eq!(read(store, &kept).unwrap(), b"kept");
}

#[test]
fn an_unreachable_bucket_is_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = ferry_testkit::s3_settings();
    settings.retain(|(key, _)| key != "aws_endpoint_url");
    settings.push((
        "aws_endpoint_url".to_owned(),
        format!("http://127.0.0.1:{port}"),
    ));
    let content = ferry_store::ContentStore::s3(dir.path(), "s3://nowhere", &settings).unwrap();
    let e = content.put_bytes(b"x").unwrap_err();
    assert!(
        matches!(
            ferry_store::StoreError::from(e),
            ferry_store::StoreError::Unavailable(_)
        ),
        "an unreachable store is a 503, not a 500"
    );
}
