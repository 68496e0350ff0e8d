//! Copies under concurrency, against the real server: every copy lands, and no two files in
//! the destination folder share a name.

use crate::support::{CopySetup, Server, client};
use ferry_domain::ids::SbgProjectId;
use ferry_store::{names, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

const CLIENTS: usize = 32;

backends!(thirty_two_clients_copying_one_file_at_once_get_distinct_names);
fn thirty_two_clients_copying_one_file_at_once_get_distinct_names(db: TestDb) {
    let setup = CopySetup::new(&db, "racer", &["reads.bam".to_owned()]);
    let (token, destination) = (setup.token.clone(), setup.destination.clone());
    let source_file = setup.file_ids().remove(0);
    let server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let url = server.url(&format!("/v2/files/{source_file}/actions/copy"));
    let batch_url = server.url("/v2/action/files/copy");
    let project = destination.sbg_id.to_string();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (url, batch_url, token, project, source_file, barrier) = (
                url.clone(),
                batch_url.clone(),
                token.clone(),
                project.clone(),
                source_file.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let http = client();
                barrier.wait();
                // Half the clients use the single copy, half the batch copy.
                let response = if i % 2 == 0 {
                    http.post(&url)
                        .header("X-SBG-Auth-Token", &token)
                        .json(&json!({"project": project}))
                        .send()
                } else {
                    http.post(&batch_url)
                        .header("X-SBG-Auth-Token", &token)
                        .json(&json!({"project": project, "file_ids": [source_file]}))
                        .send()
                }
                .unwrap();
                assert_eq!(response.status(), 200);
                let body: Value = response.json().unwrap();
                if i % 2 == 0 {
                    body["name"].as_str().unwrap().to_owned()
                } else {
                    assert_eq!(body[&source_file]["status"], "OK", "{body}");
                    body[&source_file]["new_file_name"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                }
            })
        })
        .collect();
    let names_returned: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let distinct: HashSet<&String> = names_returned.iter().collect();
    assert_eq!(distinct.len(), CLIENTS, "names: {names_returned:?}");

    let mut conn = db.store().conn().unwrap();
    let project = projects::get_by_sbg_id(&mut conn, &SbgProjectId::parse(&project).unwrap())
        .unwrap()
        .unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let stored = names::taken_in_folder(&mut conn, root.id, &["reads.bam"]).unwrap();
    // reads.bam and 1_reads.bam … 31_reads.bam: the highest number is one less than the copies.
    assert!(stored.contains("reads.bam"), "taken: {stored:?}");
    assert_eq!(stored.highest("reads.bam"), CLIENTS as u64 - 1);
    // And no name is stored twice: the listing has exactly one file per copy.
    let listing = client()
        .get(server.url(&format!("/v2/files?project={}&limit=100", project.sbg_id)))
        .header("X-SBG-Auth-Token", &token)
        .send()
        .unwrap();
    assert_eq!(
        listing.headers()["x-total-matching-query"],
        CLIENTS.to_string().as_str()
    );
    let listing: Value = listing.json().unwrap();
    let listed: HashSet<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), CLIENTS);
}
