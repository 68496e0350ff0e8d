//! The content store on S3 (the test server checks every signature): content round-trips
//! through the bucket and never lands on the local disk, presigned URLs work and tampered ones
//! do not, an SBG upload's parts go straight to the bucket, and the collector quarantines and
//! deletes there as it does on disk.

use std::time::{Duration, SystemTime};

use ferry_domain::name::FileName;
use ferry_store::content_gc::collect;
use ferry_store::{ContentInfo, Store, files, projects};
use ferry_testkit::TestDb;

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

#[test]
fn content_round_trips_through_the_bucket_and_presigned_urls_are_checked() {
    for db in TestDb::all() {
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
            .download_url(&large.sha256, "big file.bin", Duration::from_secs(60))
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
}

#[test]
fn an_upload_goes_straight_to_the_bucket_and_its_etags_are_checked() {
    for db in TestDb::all() {
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
        let uploaded = content
            .complete_remote_upload(upload_id, &store_id, &etags)
            .unwrap();
        let expected = ferry_store::ContentStore::new(&db.data_dir().join("check"))
            .unwrap()
            .put_bytes(&data)
            .unwrap();
        assert_eq!(uploaded.info(), &expected);
        // A completion whose file failed to commit is completed again from the same object.
        let again = content
            .complete_remote_upload(upload_id, &store_id, &etags)
            .unwrap();
        assert_eq!(again.info(), &expected);
        drop(uploaded);
        again.store().unwrap();
        assert!(content.contains(&expected.sha256).unwrap());
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(content.upload_files_since(later).unwrap().is_empty());
        assert!(read(db.store(), &expected).unwrap() == data);
    }
}

#[test]
fn the_collector_quarantines_then_deletes_unreferenced_content_in_the_bucket() {
    for db in TestDb::all() {
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
}
