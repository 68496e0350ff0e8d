//! `ferry content verify`: corrupt and missing content is reported, and fails the command.

use crate::support::{ferry, stderr, stdout};
use ferry_domain::name::FileName;
use ferry_store::{files, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

backends!(verify_reports_corrupt_and_missing_content);
fn verify_reports_corrupt_and_missing_content(db: TestDb) {
    let store = db.store();
    let user = ferry_testkit::user(store, "verifier");
    let project = ferry_testkit::project(store, &user, "Checked");
    let mut conn = store.conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let mut contents = Vec::new();
    for (name, bytes) in [
        ("a.bin", &b"first"[..]),
        ("b.bin", b"second"),
        ("c.bin", b"third"),
    ] {
        let content = store.content().put_bytes(bytes).unwrap();
        let name = FileName::parse(name).unwrap();
        files::create_closed_file(&mut conn, user.id, project.id, &root, &name, &content).unwrap();
        contents.push(content);
    }
    let verify = || ferry(db.url(), db.data_dir(), &["content", "verify"]);

    let clean = verify();
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert_eq!(
        stdout(&clean).trim(),
        "verified 3 contents (16 bytes): 0 corrupt, 0 missing"
    );

    let path = |i: usize| store.content().path_of(&contents[i].sha256).unwrap();
    std::fs::write(path(0), b"FIRST").unwrap();
    std::fs::remove_file(path(1)).unwrap();
    let bad = verify();
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    let out = stdout(&bad);
    assert!(
        out.contains(&format!("corrupt\t{}\t", contents[0].sha256)),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "missing\t{}\treferenced by 1 object(s)",
            contents[1].sha256
        )),
        "{out}"
    );
    assert!(!out.contains(&contents[2].sha256), "{out}");
    assert!(
        stderr(&bad).contains("1 corrupt, 1 missing"),
        "{}",
        stderr(&bad)
    );
}
