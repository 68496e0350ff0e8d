use std::io::Read;

use ferry_store::ContentStore;

fn stored_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out)
            } else {
                out.push(path)
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

#[test]
fn content_is_hashed_right_and_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::new(&dir.path().join("data")).unwrap();
    let info = store.put_bytes(b"hello world\n").unwrap();
    assert_eq!(info.size, 12);
    assert_eq!(
        info.sha256,
        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
    );
    assert_eq!(info.md5, "6f5902ac237024bdd0c176cb93063dc4");

    let again = store.put_reader(&b"hello world\n"[..]).unwrap();
    assert_eq!(again, info);
    let files = stored_files(store.root());
    let expected = store.root().join("sha256/a9/48").join(&info.sha256);
    assert_eq!(files, vec![expected.clone()], "one file, no temp file left");
    assert_eq!(store.path_of(&info.sha256).unwrap(), expected);

    let mut read_back = String::new();
    store
        .open(&info.sha256)
        .unwrap()
        .read_to_string(&mut read_back)
        .unwrap();
    assert_eq!(read_back, "hello world\n");
}

#[test]
fn large_and_empty_contents_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::new(dir.path()).unwrap();
    let empty = store.put_bytes(b"").unwrap();
    assert_eq!(empty.size, 0);
    assert_eq!(
        empty.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(empty.md5, "d41d8cd98f00b204e9800998ecf8427e");

    // Several read buffers' worth, from a reader that returns short reads.
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let info = store
        .put_reader(std::io::Cursor::new(&bytes).take(u64::MAX))
        .unwrap();
    assert_eq!(info.size, 300_000);
    assert_eq!(
        std::fs::read(store.path_of(&info.sha256).unwrap()).unwrap(),
        bytes
    );
    assert_eq!(stored_files(store.root()).len(), 2);
}

#[test]
fn addresses_that_are_not_sha256_hex_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::new(dir.path()).unwrap();
    for bad in ["", "../../etc/passwd", &"A".repeat(64), &"a".repeat(63)] {
        assert!(store.path_of(bad).is_err(), "{bad}");
        assert!(store.open(bad).is_err(), "{bad}");
    }
}
