//! Retries with `Idempotency-Key` against the real server, with connections dropped at random:
//! every copy is sent three times with one key, and each file ends up copied exactly once.
//!
//! The seed is printed; `FERRY_TEST_SEED=<seed>` replays a run.

use crate::support::{CopySetup, Server, client};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// Files copied one by one, then in batches of [`BATCH`].
const SINGLE: usize = 12;
const BATCHED: usize = 18;
const BATCH: usize = 6;
/// Client threads sending copies at once.
const THREADS: usize = 4;

/// One copy request, sent three times with its key.
#[derive(Debug, Clone)]
struct Copy {
    path: String,
    key: String,
    body: String,
}

/// An answer read: status, whether it was a replay, body.
type Answer = (u16, bool, Value);

/// How one send goes wrong, or not.
#[derive(Debug, Clone, Copy)]
enum Send {
    /// Writes the whole request and hangs up without reading the answer.
    HangUpAfterRequest,
    /// Writes half of the body and hangs up.
    HangUpMidBody,
    /// Gives up waiting for the answer after a few milliseconds.
    TinyTimeout(u64),
    /// Waits for the answer.
    Complete,
}

fn raw_request(base: &str, token: &str, copy: &Copy) -> (String, Vec<u8>) {
    let host = base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nX-SBG-Auth-Token: {token}\r\n\
         Idempotency-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        copy.path,
        copy.key,
        copy.body.len()
    );
    (host, [head.as_bytes(), copy.body.as_bytes()].concat())
}

/// Sends `copy` as `how` says; the answer when one was read.
fn send(base: &str, token: &str, copy: &Copy, how: Send) -> Option<Answer> {
    match how {
        Send::HangUpAfterRequest | Send::HangUpMidBody => {
            let (host, bytes) = raw_request(base, token, copy);
            let cut = match how {
                Send::HangUpMidBody => bytes.len() - copy.body.len() / 2,
                _ => bytes.len(),
            };
            let mut stream = TcpStream::connect(host).unwrap();
            stream.write_all(&bytes[..cut]).unwrap();
            stream.shutdown(Shutdown::Both).unwrap();
            None
        }
        Send::TinyTimeout(ms) => {
            let response = reqwest::blocking::Client::builder()
                .timeout(Duration::from_millis(ms))
                .build()
                .unwrap()
                .post(format!("{base}{}", copy.path))
                .header("X-SBG-Auth-Token", token)
                .header("Idempotency-Key", &copy.key)
                .header("Content-Type", "application/json")
                .body(copy.body.clone())
                .send()
                .ok()?;
            read(response).ok()
        }
        Send::Complete => {
            let response = client()
                .post(format!("{base}{}", copy.path))
                .header("X-SBG-Auth-Token", token)
                .header("Idempotency-Key", &copy.key)
                .header("Content-Type", "application/json")
                .body(copy.body.clone())
                .send()
                .unwrap();
            Some(read(response).unwrap())
        }
    }
}

fn read(response: reqwest::blocking::Response) -> reqwest::Result<Answer> {
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true");
    Ok((status, replayed, response.json()?))
}

backends!(copies_sent_three_times_with_dropped_connections_land_exactly_once);
fn copies_sent_three_times_with_dropped_connections_land_exactly_once(db: TestDb) {
    let seed: u64 = std::env::var("FERRY_TEST_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("idempotent retries: FERRY_TEST_SEED={seed}");
    let names: Vec<String> = (0..SINGLE + BATCHED)
        .map(|i| format!("sample{i:02}.bam"))
        .collect();
    let setup = CopySetup::new(&db, "retrier", &names);
    let token = setup.token.clone();
    let sources: Vec<(String, String)> = setup.file_ids().into_iter().zip(names).collect();
    let destination = setup.destination.sbg_id.to_string();
    let server = Server::start(db.url(), db.data_dir(), &[], &[]);

    let mut copies: Vec<Copy> = sources[..SINGLE]
        .iter()
        .map(|(id, _)| Copy {
            path: format!("/v2/files/{id}/actions/copy"),
            key: format!("single-{id}"),
            body: json!({"project": destination}).to_string(),
        })
        .collect();
    copies.extend(
        sources[SINGLE..]
            .chunks(BATCH)
            .enumerate()
            .map(|(n, batch)| {
                let ids: Vec<&str> = batch.iter().map(|(id, _)| id.as_str()).collect();
                Copy {
                    path: "/v2/action/files/copy".to_owned(),
                    key: format!("batch-{n}"),
                    body: json!({"project": destination, "file_ids": ids}).to_string(),
                }
            }),
    );
    // The first two sends of each copy fail at random; the third always waits for the
    // answer, as a client retrying until it gets one would.
    let mut rng = StdRng::seed_from_u64(seed);
    let plans: Vec<(Copy, [Send; 3])> = copies
        .into_iter()
        .map(|copy| {
            let mut pick = || match rng.random_range(0..4) {
                0 => Send::HangUpAfterRequest,
                1 => Send::HangUpMidBody,
                2 => Send::TinyTimeout(rng.random_range(1..20)),
                _ => Send::Complete,
            };
            let plan = [pick(), pick(), Send::Complete];
            (copy, plan)
        })
        .collect();
    let base = server.base.clone();
    let answers: Vec<(Copy, [Send; 3], Vec<Option<Answer>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (base, token, plans) = (&base, &token, &plans);
                scope.spawn(move || {
                    plans
                        .iter()
                        .skip(t)
                        .step_by(THREADS)
                        .map(|(copy, plan)| {
                            let answers = plan
                                .iter()
                                .map(|how| send(base, token, copy, *how))
                                .collect();
                            (copy.clone(), *plan, answers)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });

    let mut new_ids = BTreeSet::new();
    for (copy, plan, answers) in &answers {
        let complete: Vec<&Answer> = answers.iter().flatten().collect();
        let (status, _, last) = complete.last().expect("the third send is answered");
        assert_eq!(*status, 200, "{copy:?} {plan:?}: {last}");
        for (status, _, body) in &complete {
            assert_eq!((status, body), (&200, last), "{copy:?} {plan:?}");
        }
        // Of the answers read, at most one ran the copy; the others are replays.
        let ran = complete.iter().filter(|(_, replayed, _)| !replayed).count();
        assert!(ran <= 1, "{copy:?} {plan:?}: {answers:?}");
        if let Some(id) = last["id"].as_str() {
            new_ids.insert(id.to_owned());
        } else {
            for outcome in last.as_object().unwrap().values() {
                assert_eq!(outcome["status"], "OK", "{last}");
                new_ids.insert(outcome["new_file_id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(new_ids.len(), SINGLE + BATCHED);

    let listing = client()
        .get(server.url(&format!("/v2/files?project={destination}&limit=100")))
        .header("X-SBG-Auth-Token", &token)
        .send()
        .unwrap();
    assert_eq!(
        listing.headers()["x-total-matching-query"],
        (SINGLE + BATCHED).to_string().as_str(),
        "seed {seed}, {:?}",
        db.backend()
    );
    let listing: Value = listing.json().unwrap();
    let listed: BTreeSet<(String, String)> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let names: BTreeSet<String> = listed.iter().map(|(_, name)| name.clone()).collect();
    let expected: BTreeSet<String> = sources.iter().map(|(_, name)| name.clone()).collect();
    assert_eq!(
        names, expected,
        "seed {seed}: no file copied twice, none renamed"
    );
    let ids: BTreeSet<String> = listed.into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids, new_ids,
        "seed {seed}: the answers name the copies made"
    );
}
