//! Two `ferry serve` processes on one database, clients alternating between them while they
//! copy the same files into the same folder: no two copies share a name and no copy is lost.

use crate::support::{CopySetup, Server, client};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use ferry_store::schema::placements;
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

const CLIENTS: usize = 8;
const ROUNDS: usize = 10;
const SOURCES: usize = 3;

backends!(clients_alternating_between_two_servers_lose_no_copy_and_share_no_name);
fn clients_alternating_between_two_servers_lose_no_copy_and_share_no_name(db: TestDb) {
    let names: Vec<String> = (0..SOURCES).map(|i| format!("s{i}.bam")).collect();
    let setup = CopySetup::new(&db, "twin", &names);
    let (token, ids, destination) = (setup.token.clone(), setup.file_ids(), setup.destination);
    let servers = [
        Server::start(db.url(), db.data_dir(), &[], &[]),
        Server::start(db.url(), db.data_dir(), &[], &[]),
    ];
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let project = destination.sbg_id.to_string();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (bases, ids, token, project, barrier) = (
                bases.clone(),
                ids.clone(),
                token.clone(),
                project.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let http = client();
                barrier.wait();
                let mut copied = Vec::new();
                for round in 0..ROUNDS {
                    let base = &bases[(c + round) % 2];
                    // Single copies and batches of every source, interleaved.
                    if round % 2 == 0 {
                        let id = &ids[(c + round) % ids.len()];
                        let response = http
                            .post(format!("{base}/v2/files/{id}/actions/copy"))
                            .header("X-SBG-Auth-Token", &token)
                            .json(&json!({"project": project}))
                            .send()
                            .unwrap();
                        assert_eq!(response.status(), 200);
                        let body: Value = response.json().unwrap();
                        copied.push(body["name"].as_str().unwrap().to_owned());
                    } else {
                        let response = http
                            .post(format!("{base}/v2/action/files/copy"))
                            .header("X-SBG-Auth-Token", &token)
                            .json(&json!({"project": project, "file_ids": ids}))
                            .send()
                            .unwrap();
                        assert_eq!(response.status(), 200);
                        let body: Value = response.json().unwrap();
                        for id in &ids {
                            assert_eq!(body[id]["status"], "OK", "{body}");
                            copied.push(body[id]["new_file_name"].as_str().unwrap().to_owned());
                        }
                    }
                }
                copied
            })
        })
        .collect();
    let answered: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();

    let mut conn = db.store().conn().unwrap();
    let stored: Vec<String> = placements::table
        .filter(placements::project_id.eq(destination.id.get()))
        .select(placements::name)
        .load(&mut *conn)
        .unwrap();
    let expected = CLIENTS * (ROUNDS / 2) * (1 + SOURCES);
    assert_eq!(answered.len(), expected);
    assert_eq!(stored.len(), answered.len(), "copies lost or made twice");
    let distinct: HashSet<&String> = stored.iter().collect();
    assert_eq!(
        distinct.len(),
        stored.len(),
        "duplicate names in the folder"
    );
    let answered: HashSet<&String> = answered.iter().collect();
    assert_eq!(
        answered, distinct,
        "the names answered are the names stored"
    );
}
