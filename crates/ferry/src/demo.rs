//! `ferry serve --demo`: a user with two projects and a few files, created once, and a fresh
//! token printed on every start (only digests are stored, so an old token cannot be shown again;
//! the previous demo tokens are revoked so they do not pile up).

use ferry_domain::ids::Username;
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_store::{
    DbConnection, Store, StoreError, billing, files, folders, projects, tokens, users,
};

const DEMO_USER: &str = "demo";
const DEMO_TOKEN_LABEL: &str = "demo";

/// The demo files: (folder, name, contents).
const DEMO_FILES: &[(&str, &str, &str)] = &[
    (
        "/",
        "README.txt",
        "Files to copy between projects with Ferry.\n",
    ),
    ("/reads", "sample1.fastq", "@r1\nACGTACGT\n+\nIIIIIIII\n"),
    ("/reads", "sample2.fastq", "@r2\nTTGCAACG\n+\nIIIIIIII\n"),
    ("/reference", "chr20.fa", ">chr20\nNNNNACGTTGCA\n"),
];

pub fn ensure(store: &Store, public_url: &str) -> Result<(), String> {
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let secret = seed(store, &mut conn).map_err(|e| format!("cannot create the demo data: {e}"))?;
    println!("Demo user: {DEMO_USER} (projects demo/demo-project and demo/scratch)");
    println!("Demo token: {secret}");
    println!("Try: curl -s -H \"X-SBG-Auth-Token: {secret}\" \"{public_url}/v2/user\"");
    Ok(())
}

fn seed(store: &Store, conn: &mut DbConnection) -> Result<String, StoreError> {
    let username = Username::parse(DEMO_USER).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let user = match users::find_by_username(conn, &username)? {
        Some(user) => user,
        None => {
            let user = users::create(conn, &username, "Demo User", Some("demo@example.org"))?;
            let billing = billing::personal(conn, user.id)?;
            let project = projects::create(conn, &user, "Demo project", "Demo data.", billing.id)?;
            projects::create(conn, &user, "Scratch", "An empty destination.", billing.id)?;
            for (folder, name, contents) in DEMO_FILES {
                let content = store.content().put_bytes(contents.as_bytes())?;
                let path =
                    FolderPath::parse(folder).map_err(|e| StoreError::Invalid(e.to_string()))?;
                let folder = folders::ensure_path(conn, project.id, &path)?;
                let name =
                    FileName::parse(*name).map_err(|e| StoreError::Invalid(e.to_string()))?;
                files::create_closed_file(conn, user.id, project.id, &folder, &name, &content)?;
            }
            user
        }
    };
    for token in tokens::list(conn, user.id)? {
        if token.label.as_deref() == Some(DEMO_TOKEN_LABEL) && token.revoked_at.is_none() {
            tokens::revoke(conn, user.id, token.id)?;
        }
    }
    let (_, secret) = tokens::create(conn, user.id, Some(DEMO_TOKEN_LABEL), None)?;
    Ok(secret)
}
