//! `ferry load`: a bounded load generator against a `ferry serve` child process on loopback
//! (issue 7). It makes a fresh database (as `ferry bench` does), seeds a user and files, starts
//! the server, then runs `--connections` clients for `--duration` of mixed requests: SBG file
//! reads and listings, DX describes, single copies and small batch copies (with `--steady`,
//! each followed by the deletion of its copies, so the data does not grow). It prints the
//! counts, req/s, p50/p99 and the server's RSS, and fails (exit 1) if any request failed or,
//! with `--steady`, if the destination is not empty at the end.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use ferry_store::{Store, projects};
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

use crate::fresh::FreshDatabase;
use crate::seed::{seed_sources, seed_user};
use crate::{Failure, work};

/// Source files; copies spread over their names so no one name's k_ chain dominates.
const SOURCE_FILES: usize = 50;
/// Files per batch copy.
const BATCH: usize = 5;

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Concurrent client connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// How long to send requests, in seconds.
    #[arg(long, default_value_t = 60)]
    pub duration_secs: u64,
    /// Print the server's RSS every this many seconds while loading (0: only start and end).
    #[arg(long, default_value_t = 0)]
    pub rss_every_secs: u64,
    /// HTTP workers of the server under load.
    #[arg(long, default_value_t = 2)]
    pub http_workers: u32,
    /// Delete every copy right after making it, so the data does not grow with the run (for
    /// soaks); without it the destination folder keeps every copy.
    #[arg(long)]
    pub steady: bool,
}

/// Loads `ferry serve` of the binary `ferry` on a fresh database on the server `database_url`
/// names (a temporary file for `sqlite://`); prints the figures.
pub fn run(database_url: &str, ferry: &Path, args: LoadArgs) -> Result<(), Failure> {
    let database = FreshDatabase::create(database_url)?;
    let data_dir = database.dir.path().join("data");
    let seed = seed(&database.url, &data_dir)?;
    let mut server = ServerProcess::start(ferry, &database.url, &data_dir, args.http_workers)?;
    let rss_start = server.rss_kib();
    println!(
        "ferry load: {} connections for {} s against pid {} ({}, {}), server RSS at start {} KiB",
        args.connections,
        args.duration_secs,
        server.child.id(),
        database.backend_name(),
        if args.steady {
            "steady data"
        } else {
            "growing data"
        },
        rss_start
    );
    let outcome = drive(&server.base_url, &seed, &args, || {
        server_rss(server.child.id())
    });
    let rss_end = server.rss_kib();
    let left = destination_files(&server.base_url, &seed);
    server.stop();
    let outcome = outcome?;
    let left = left?;
    let mut latencies = outcome.latencies;
    latencies.sort_unstable();
    let seconds = outcome.elapsed.as_secs_f64();
    println!(
        "requests {}  errors {}  req/s {:.0}  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        latencies.len() + outcome.errors.len(),
        outcome.errors.len(),
        latencies.len() as f64 / seconds,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    println!("server RSS: start {rss_start} KiB, end {rss_end} KiB");
    println!("destination project: {left} files at the end");
    if let Some(first) = outcome.errors.first() {
        return Err(Failure::Work(format!(
            "{} requests failed; first: {first}",
            outcome.errors.len()
        )));
    }
    if args.steady && left != 0 {
        return Err(Failure::Work(format!(
            "steady data, yet the destination holds {left} files at the end"
        )));
    }
    Ok(())
}

/// How many files the destination project holds (`X-Total-Matching-Query` of its listing).
fn destination_files(base_url: &str, seed: &Seed) -> Result<u64, Failure> {
    let failed = |e: &dyn std::fmt::Display| {
        Failure::Work(format!("cannot count the destination's files: {e}"))
    };
    let response = reqwest::blocking::Client::new()
        .get(format!(
            "{base_url}/v2/files?project={}&limit=1",
            seed.destination_sbg
        ))
        .header("Authorization", format!("Bearer {}", seed.token))
        .send()
        .and_then(reqwest::blocking::Response::error_for_status)
        .map_err(|e| failed(&e))?;
    response
        .headers()
        .get("x-total-matching-query")
        .and_then(|total| total.to_str().ok()?.parse().ok())
        .ok_or_else(|| failed(&"no X-Total-Matching-Query"))
}

/// What the clients need: a token, the source files (SBG id, DX id), and the projects.
#[derive(Clone)]
struct Seed {
    token: String,
    files: Vec<(String, String)>,
    source_sbg: String,
    source_dx: String,
    destination_sbg: String,
}

fn seed(url: &str, data_dir: &Path) -> Result<Seed, Failure> {
    let store = Store::open(url, data_dir, 1)
        .map_err(|e| Failure::Setup(format!("cannot open the load database: {e}")))?;
    store
        .migrate()
        .map_err(|e| Failure::Setup(format!("cannot migrate the load database: {e}")))?;
    let mut conn = store.conn().map_err(work)?;
    let (user, billing_group_id, token) = seed_user(&mut conn, "load")?;
    let source =
        projects::create(&mut conn, &user, "source", "", billing_group_id).map_err(work)?;
    let destination =
        projects::create(&mut conn, &user, "destination", "", billing_group_id).map_err(work)?;
    let content = store.content().put_bytes(b"load\n").map_err(work)?;
    let files = seed_sources(&mut conn, &user, &source, &content, SOURCE_FILES)?;
    Ok(Seed {
        token,
        files,
        source_sbg: source.sbg_id.to_string(),
        source_dx: source.dx_id.to_string(),
        destination_sbg: destination.sbg_id.to_string(),
    })
}

/// `ferry serve` on a free loopback port; killed on drop.
struct ServerProcess {
    child: Child,
    base_url: String,
}

impl ServerProcess {
    fn start(
        ferry: &Path,
        url: &str,
        data_dir: &Path,
        http_workers: u32,
    ) -> Result<ServerProcess, Failure> {
        let setup =
            |e: &dyn std::fmt::Display| Failure::Setup(format!("cannot start ferry serve: {e}"));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| setup(&e))?
            .port();
        let bind = format!("127.0.0.1:{port}");
        let child = Command::new(ferry)
            .args(["serve", "--bind", &bind])
            .env("FERRY_DATABASE_URL", url)
            .env("FERRY_DATA_DIR", data_dir)
            .env("FERRY_HTTP_WORKERS", http_workers.to_string())
            .env("RUST_LOG", "error")
            // One token makes every request: the load measures the server, not the limiter.
            .env("FERRY_SBG_RATE_LIMIT", u32::MAX.to_string())
            .env("FERRY_DX_RATE_LIMIT", u32::MAX.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| setup(&e))?;
        let mut server = ServerProcess {
            child,
            base_url: format!("http://{bind}"),
        };
        let http = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(setup(&format!("it exited with {status}")));
            }
            let healthy = http
                .get(format!("{}/healthz", server.base_url))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if healthy {
                return Ok(server);
            }
            if Instant::now() > deadline {
                server.stop();
                return Err(setup(&"not healthy after 30 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn rss_kib(&self) -> u64 {
        server_rss(self.child.id())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmRSS of a process in KiB (0 where /proc is not there).
fn server_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: Vec<String>,
    elapsed: Duration,
}

/// Runs the clients until the duration is over, sampling the server's RSS every
/// `--rss-every` seconds meanwhile (printed as it goes).
fn drive(
    base_url: &str,
    seed: &Seed,
    args: &LoadArgs,
    rss: impl Fn() -> u64,
) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration_secs);
    let stop = Arc::new(AtomicBool::new(false));
    let seed = Arc::new(seed.clone());
    let clients: Vec<_> = (0..args.connections)
        .map(|i| {
            let (seed, stop, base_url) = (seed.clone(), stop.clone(), base_url.to_owned());
            let steady = args.steady;
            std::thread::spawn(move || client_loop(i, &base_url, &seed, steady, &stop))
        })
        .collect();
    let mut next_sample = started + Duration::from_secs(args.rss_every_secs.max(1));
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        if args.rss_every_secs > 0 && Instant::now() >= next_sample {
            println!(
                "t={:>4} s  server RSS {} KiB",
                started.elapsed().as_secs(),
                rss()
            );
            next_sample += Duration::from_secs(args.rss_every_secs);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut outcome = Outcome {
        latencies: Vec::new(),
        errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for client in clients {
        let (latencies, errors) = client
            .join()
            .map_err(|_| Failure::Work("a load client panicked".to_owned()))?;
        outcome.latencies.extend(latencies);
        outcome.errors.extend(errors);
    }
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// One connection's loop: a fixed rotation of request kinds, so every kind is exercised by
/// every client in proportion: 2 file reads, 1 listing, 1 DX describe, 1 single copy, 1 batch.
/// With `steady`, each copy is followed by the deletion of what it made (`DELETE /v2/files/{id}`
/// after a single copy, `POST /v2/bulk/files/delete` after a batch), so the database keeps its
/// size however long the run: a soak then tells a leak from a working set growing with the data.
fn client_loop(
    client: usize,
    base_url: &str,
    seed: &Seed,
    steady: bool,
    stop: &AtomicBool,
) -> (Vec<Duration>, Vec<String>) {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1)
        .build()
        .expect("an HTTP client");
    let mut tally = Tally {
        authorization: format!("Bearer {}", seed.token),
        latencies: Vec::new(),
        errors: Vec::new(),
    };
    let any = |_: &Value| true;
    let mut n = client;
    while !stop.load(Ordering::Relaxed) {
        let (sbg_id, dx_id) = &seed.files[n % seed.files.len()];
        match n % 6 {
            0 | 1 => {
                tally.send(http.get(format!("{base_url}/v2/files/{sbg_id}")), any);
            }
            2 => {
                let listing = format!("{base_url}/v2/files?project={}&limit=20", seed.source_sbg);
                tally.send(http.get(listing), any);
            }
            3 => {
                let describe = http
                    .post(format!("{base_url}/{dx_id}/describe"))
                    .json(&json!({"project": seed.source_dx}));
                tally.send(describe, any);
            }
            4 => {
                let copy = http
                    .post(format!("{base_url}/v2/files/{sbg_id}/actions/copy"))
                    .json(&json!({"project": seed.destination_sbg}));
                let copied = tally.send(copy, |file| file["id"].is_string());
                if let Some(file) = copied.filter(|_| steady) {
                    let id = file["id"].as_str().unwrap_or_default();
                    tally.send(http.delete(format!("{base_url}/v2/files/{id}")), any);
                }
            }
            _ => {
                let ids: Vec<&String> = (0..BATCH)
                    .map(|k| &seed.files[(n + k) % seed.files.len()].0)
                    .collect();
                let batch = http
                    .post(format!("{base_url}/v2/action/files/copy"))
                    .json(&json!({"project": seed.destination_sbg, "file_ids": ids}));
                let all_copied = |body: &Value| {
                    body.as_object().is_some_and(|o| {
                        o.len() == ids.len() && o.values().all(|v| v["status"] == "OK")
                    })
                };
                if let Some(copied) = tally.send(batch, all_copied).filter(|_| steady) {
                    let new_ids: Vec<&Value> = copied
                        .as_object()
                        .into_iter()
                        .flat_map(|o| o.values())
                        .map(|entry| &entry["new_file_id"])
                        .collect();
                    let all_deleted = |body: &Value| {
                        body["items"].as_array().is_some_and(|items| {
                            items.len() == new_ids.len()
                                && items.iter().all(|item| item.get("error").is_none())
                        })
                    };
                    let delete = http
                        .post(format!("{base_url}/v2/bulk/files/delete"))
                        .json(&json!({"file_ids": new_ids}));
                    tally.send(delete, all_deleted);
                }
            }
        }
        n += 1;
    }
    (tally.latencies, tally.errors)
}

/// One client's latencies of the requests that succeeded, and why the others failed.
struct Tally {
    authorization: String,
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

impl Tally {
    /// Sends the request with the token; it succeeds if the answer is 2xx and its JSON body
    /// (`null` when empty, as a 204's) passes `check`. Returns that body on success.
    fn send(&mut self, request: RequestBuilder, check: impl Fn(&Value) -> bool) -> Option<Value> {
        let started = Instant::now();
        let result = request
            .header("Authorization", &self.authorization)
            .send()
            .map_err(|e| e.to_string())
            .and_then(|response| {
                let status = response.status();
                let bytes = response.bytes().map_err(|e| e.to_string())?;
                let body: Value = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).map_err(|e| format!("{status}: {e}"))?
                };
                if status.is_success() && check(&body) {
                    Ok(body)
                } else {
                    Err(format!("{status}: {body}"))
                }
            });
        match result {
            Ok(body) => {
                self.latencies.push(started.elapsed());
                Some(body)
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }
}

/// The `q` quantile in milliseconds of sorted durations (nearest rank).
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}
