use ferry_domain::ids::{DxClass, SbgId};
use ferry_domain::model::ObjectState;
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_store::{files, folders};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

backends!(a_closed_file_is_created_and_found_by_its_sbg_id);
fn a_closed_file_is_created_and_found_by_its_sbg_id(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let content = db.store().content().put_bytes(b"ACGT\n").unwrap();
    let mut conn = db.store().conn().unwrap();
    let folder =
        folders::ensure_path(&mut conn, project.id, &FolderPath::parse("/reads").unwrap()).unwrap();
    let name = FileName::parse("sample.fastq").unwrap();

    let (object, placement) =
        files::create_closed_file(&mut conn, alice.id, project.id, &folder, &name, &content)
            .unwrap();
    assert_eq!(object.dx_id.class(), DxClass::File);
    assert_eq!(
        (object.class, object.state, object.hidden),
        (DxClass::File, ObjectState::Closed, false)
    );
    assert_eq!(object.size, 5);
    assert_eq!(
        object.content_sha256.as_deref(),
        Some(content.sha256.as_str())
    );
    assert_eq!(object.md5.as_deref(), Some(content.md5.as_str()));
    assert_eq!(object.details, serde_json::json!({}));
    assert!(object.types.is_empty());
    assert_eq!(object.created_by_user_id, alice.id);

    assert_eq!(placement.object_id, object.id);
    assert_eq!(
        (placement.project_id, placement.folder_id),
        (project.id, folder.id)
    );
    assert_eq!(placement.name, "sample.fastq");
    assert!(placement.tags.is_empty() && placement.properties.is_empty());
    assert!(placement.metadata.is_empty());
    assert_ne!(placement.sbg_id, folder.sbg_id);

    let found = files::get_placement_by_sbg_id(&mut conn, &placement.sbg_id).unwrap();
    assert_eq!(found, Some((placement.clone(), object.clone())));
    let unknown = SbgId::generate();
    assert_eq!(
        files::get_placement_by_sbg_id(&mut conn, &unknown).unwrap(),
        None
    );

    // Names are not checked here: a second file of the same name is a new object.
    let (second, second_placement) =
        files::create_closed_file(&mut conn, alice.id, project.id, &folder, &name, &content)
            .unwrap();
    assert_ne!(second.dx_id, object.dx_id);
    assert_ne!(second_placement.sbg_id, placement.sbg_id);
    assert_eq!(second.content_sha256, object.content_sha256);
}
