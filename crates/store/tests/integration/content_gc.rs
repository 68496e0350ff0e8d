//! The content collector: unreferenced content goes, referenced content stays, and a reference
//! committed while the collector runs never loses its bytes.

use std::fs::File;
use std::io::Read;
use std::time::{Duration, SystemTime};

use ferry_domain::name::FileName;
use ferry_store::content_gc::{Collected, collect};
use ferry_store::{ContentInfo, Store, files, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

const GRACE: Duration = Duration::from_secs(3600);

/// Makes stored content look last used two hours ago.
fn age(store: &Store, content: &ContentInfo) {
    let path = store.content().path_of(&content.sha256).unwrap();
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - 2 * GRACE)
        .unwrap();
}

fn read(store: &Store, content: &ContentInfo) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    store
        .content()
        .open(&content.sha256)?
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn is_live(store: &Store, content: &ContentInfo) -> bool {
    store.content().path_of(&content.sha256).unwrap().exists()
}

/// A pass that judges quarantined content at once.
fn pass(store: &Store) -> Collected {
    collect(store, GRACE, Duration::ZERO).unwrap()
}

/// A closed file over `content` in a new project of a new user.
fn file_over(store: &Store, content: &ContentInfo, who: &str) -> ferry_domain::model::Placement {
    let user = ferry_testkit::user(store, who);
    let project = ferry_testkit::project(store, &user, "P");
    let mut conn = store.conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let name = FileName::parse("f.bin").unwrap();
    files::create_closed_file(&mut conn, user.id, project.id, &root, &name, content)
        .unwrap()
        .1
}

backends!(unreferenced_content_goes_after_its_grace_and_quarantine);
fn unreferenced_content_goes_after_its_grace_and_quarantine(db: TestDb) {
    let store = db.store();
    let referenced = store.content().put_bytes(b"kept").unwrap();
    file_over(store, &referenced, "keeper");
    let orphan = store.content().put_bytes(b"orphan").unwrap();
    let fresh = store.content().put_bytes(b"fresh").unwrap();
    age(store, &referenced);
    age(store, &orphan);

    let first = pass(store);
    assert_eq!(
        first,
        Collected {
            quarantined: 1,
            ..Collected::default()
        }
    );
    // In quarantine, still readable; the fresh and the referenced content untouched.
    assert!(!is_live(store, &orphan));
    assert_eq!(read(store, &orphan).unwrap(), b"orphan");
    assert!(is_live(store, &fresh) && is_live(store, &referenced));

    let second = pass(store);
    assert_eq!(
        second,
        Collected {
            deleted: 1,
            ..Collected::default()
        }
    );
    assert_eq!(
        read(store, &orphan).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert_eq!(read(store, &referenced).unwrap(), b"kept");
    assert_eq!(pass(store), Collected::default());
}

backends!(a_reference_committed_during_collection_keeps_its_bytes);
/// The race: a file's last object is deleted, the collector finds its content unreferenced
/// and quarantines it, and then a copy of that object that read it before the deletion
/// commits. The copy reads its bytes all along, and the next pass puts them back.
fn a_reference_committed_during_collection_keeps_its_bytes(db: TestDb) {
    let store = db.store();
    let content = store.content().put_bytes(b"raced bytes").unwrap();
    let original = file_over(store, &content, "first");
    files::delete_placements(&mut store.conn().unwrap(), &[original.id]).unwrap();
    age(store, &content);
    assert_eq!(pass(store).quarantined, 1);

    file_over(store, &content, "late");
    assert_eq!(read(store, &content).unwrap(), b"raced bytes");
    assert_eq!(
        pass(store),
        Collected {
            restored: 1,
            ..Collected::default()
        }
    );
    assert!(is_live(store, &content));
    assert_eq!(read(store, &content).unwrap(), b"raced bytes");
}

backends!(bytes_stored_again_are_kept);
/// Storing bytes again marks them used, and bytes stored again while in quarantine are stored
/// anew: an upload that dedups onto old content never loses it.
fn bytes_stored_again_are_kept(db: TestDb) {
    let store = db.store();
    let old = store.content().put_bytes(b"same bytes").unwrap();
    age(store, &old);
    store.content().put_bytes(b"same bytes").unwrap();
    assert_eq!(pass(store), Collected::default(), "used again just now");

    age(store, &old);
    assert_eq!(pass(store).quarantined, 1);
    let again = store.content().put_bytes(b"same bytes").unwrap();
    assert_eq!(again, old);
    assert!(is_live(store, &again));
    file_over(store, &again, "uploader");
    assert_eq!(
        pass(store),
        Collected {
            restored: 1,
            ..Collected::default()
        }
    );
    assert_eq!(read(store, &again).unwrap(), b"same bytes");
}

backends!(upload_files_take_parts_until_sealed_and_become_content);
/// An SBG upload's file: parts written in place, refused once sealed, stored by a rename.
fn upload_files_take_parts_until_sealed_and_become_content(db: TestDb) {
    use ferry_store::content::Sink;
    let store = db.store();
    let content = store.content();
    let id = "0123456789abcdef0123456789abcdef";
    content.create_upload(id, 10).unwrap();
    let write = |offset, bytes: &[u8]| {
        let mut part = content.part_writer(id, offset)?;
        part.write(bytes)?;
        part.finish()
    };
    write(5, b"world").unwrap();
    write(0, b"hello").unwrap();
    let sealed = content.seal_upload(id, || None).unwrap();
    assert_eq!(sealed.info().size, 10);
    assert_eq!(
        write(0, b"HELLO").unwrap_err().kind(),
        std::io::ErrorKind::NotFound,
        "no part once sealed"
    );
    sealed.unseal().unwrap();
    write(0, b"HELLO").unwrap();
    let sealed = content.seal_upload(id, || None).unwrap();
    let info = sealed.info().clone();
    sealed.store().unwrap();
    let mut bytes = Vec::new();
    content
        .open(&info.sha256)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes, b"HELLOworld");
    assert!(
        content
            .upload_files_since(SystemTime::now())
            .unwrap()
            .is_empty()
    );
}

backends!(files_of_gone_uploads_are_collected_or_stored);
/// The files of uploads that are gone: deleted, or, sealed (a crash after a completion
/// committed), stored as content.
fn files_of_gone_uploads_are_collected_or_stored(db: TestDb) {
    let store = db.store();
    let content = store.content();
    let (orphan, crashed) = (
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    );
    content.create_upload(orphan, 3).unwrap();
    content.create_upload(crashed, 0).unwrap();
    let sealed = content.seal_upload(crashed, || None).unwrap();
    let info = sealed.info().clone();
    drop(sealed);
    // Not before the grace period.
    assert_eq!(pass(store).upload_files, 0);
    let collected = collect(store, Duration::ZERO, Duration::ZERO).unwrap();
    assert_eq!(collected.upload_files, 2);
    assert!(
        content
            .upload_files_since(SystemTime::now())
            .unwrap()
            .is_empty()
    );
    assert!(is_live(store, &info));
}

backends!(upload_digests_follow_the_parts_in_any_order);
/// The digests computed as parts arrive, in any order, are those of the whole file; a part
/// whose ETag changed since makes them unusable.
fn upload_digests_follow_the_parts_in_any_order(db: TestDb) {
    use ferry_domain::upload::PartPlan;
    use ferry_store::content::Sink;
    use ferry_store::upload_digest::UploadDigests;
    use sha2::{Digest, Sha256};
    let content = db.store().content();
    let mib = 1024 * 1024;
    let plan = PartPlan::new(11 * mib, Some(5 * mib)).unwrap();
    let data: Vec<u8> = (0..11 * mib).map(|i| (i % 253) as u8).collect();
    let digests = UploadDigests::default();
    let id = "cccccccccccccccccccccccccccccccc";
    content.create_upload(id, plan.size()).unwrap();
    let mut etags = Vec::new();
    for n in [3u32, 1, 2] {
        let offset = u64::from(n - 1) * plan.part_size();
        let end = (offset + plan.part_len(n).unwrap()) as usize;
        let mut part = content.part_writer(id, offset).unwrap();
        part.write(&data[offset as usize..end]).unwrap();
        let written = part.finish().unwrap();
        digests
            .part_arrived(content, id, plan, n, &written.sha256)
            .unwrap();
        etags.push((n, written.sha256));
    }
    etags.sort();
    let etags: Vec<String> = etags.into_iter().map(|(_, etag)| etag).collect();
    let mut changed = etags.clone();
    changed[1] = "0".repeat(64);
    assert_eq!(digests.take(id, &changed), None, "a part sent again");

    let digests = UploadDigests::default();
    for (n, etag) in (1..=3).zip(&etags) {
        digests.part_arrived(content, id, plan, n, etag).unwrap();
    }
    let info = digests.take(id, &etags).unwrap();
    assert_eq!(info.sha256, hex::encode(Sha256::digest(&data)));
    assert_eq!(info.size, plan.size());
    assert_eq!(digests.take(id, &etags), None, "taken once");
}
