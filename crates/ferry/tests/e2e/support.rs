//! Starting and driving the real binary.

use ferry_domain::ids::Username;
use ferry_domain::model::{Object, Placement, Project};
use ferry_domain::name::FileName;
use ferry_store::{files, projects, users};
use ferry_testkit::TestDb;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

/// `ferry ARGS` against a database, waiting for it to finish.
pub fn ferry(database_url: &str, data_dir: &Path, args: &[&str]) -> Output {
    ferry_in(&std::env::temp_dir(), database_url, data_dir, args)
}

/// `ferry ARGS` run from `cwd` (relative database paths resolve against it).
pub fn ferry_in(cwd: &Path, database_url: &str, data_dir: &Path, args: &[&str]) -> Output {
    Command::new(FERRY)
        .current_dir(cwd)
        .args(args)
        .env("FERRY_DATABASE_URL", database_url)
        .env("FERRY_DATA_DIR", data_dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("ferry runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

/// What the command itself wrote to stderr: its lines but the log records (a slow statement's
/// warning, say, on a loaded machine), which begin with their RFC 3339 timestamp.
pub fn said(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|line| {
            let first = line.split_whitespace().next().unwrap_or_default();
            chrono::DateTime::parse_from_rfc3339(first).is_err()
        })
        .map(str::to_owned)
        .collect()
}

/// A token for a new user, as a script would capture it.
pub fn create_user(database_url: &str, data_dir: &Path, username: &str) -> String {
    let output = ferry(database_url, data_dir, &["user", "create", username]);
    assert!(
        output.status.success(),
        "user create failed: {}",
        stderr(&output)
    );
    stdout(&output).trim().to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running `ferry serve`, killed on drop. Its log (stderr) is drained by a thread as it is
/// written, so a chatty server never blocks on a full pipe.
pub struct Server {
    pub child: Child,
    pub base: String,
    log: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    pub fn start(
        database_url: &str,
        data_dir: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Server {
        Server::spawn(database_url, data_dir, extra, envs, None)
    }

    /// [`Server::start`] with the log (stderr) written to `log` instead of read by the test.
    pub fn start_logging_to(
        database_url: &str,
        data_dir: &Path,
        envs: &[(&str, &str)],
        log: std::fs::File,
    ) -> Server {
        Server::spawn(database_url, data_dir, &[], envs, Some(log))
    }

    fn spawn(
        database_url: &str,
        data_dir: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
        log_file: Option<std::fs::File>,
    ) -> Server {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let mut command = Command::new(FERRY);
        command
            .args(["serve", "--bind", &bind])
            .args(extra)
            .env("FERRY_DATABASE_URL", database_url)
            .env("FERRY_DATA_DIR", data_dir)
            .env("FERRY_HTTP_WORKERS", "2")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped());
        let to_file = log_file.is_some();
        command.stderr(log_file.map_or_else(Stdio::piped, Stdio::from));
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("ferry serve starts");
        let log = (!to_file).then(|| {
            let mut stderr = child.stderr.take().expect("piped stderr");
            std::thread::spawn(move || {
                let mut log = String::new();
                // The server may die mid-line (kill -9): keep what arrived.
                let _ = stderr.read_to_string(&mut log);
                log
            })
        });
        let mut server = Server {
            child,
            base: format!("http://{bind}"),
            log,
        };
        server.wait_until_healthy();
        server
    }

    fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = client();
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "ferry serve exited early with {status}: {}",
                    self.take_stderr()
                );
            }
            if client
                .get(format!("{}/healthz", self.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("ferry serve did not become healthy in 30 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits (with a deadline) for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "ferry did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server wrote to stderr (its log); call after it has exited.
    pub fn take_stderr(&mut self) -> String {
        self.log
            .take()
            .map(|log| log.join().expect("the log reader thread"))
            .unwrap_or_default()
    }

    /// Everything the server wrote to stdout; call after it has exited.
    pub fn take_stdout(&mut self) -> String {
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            o.read_to_string(&mut out).expect("read stdout");
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// A TCP proxy on loopback in front of a database server, which a test can cut (every open
/// connection dropped, new ones closed at once) and restore: a database outage that touches
/// no one else's connections to the shared server.
pub struct Proxy {
    pub port: u16,
    state: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<Vec<std::net::TcpStream>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards each connection to `target` (host:port).
    pub fn start(target: String) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let port = listener.local_addr().expect("proxy address").port();
        let state = std::sync::Arc::new(ProxyState::default());
        let shared = state.clone();
        // The thread lives as long as the test process; it only ever accepts on loopback.
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if shared.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                let mut open = shared.open.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy { port, state }
    }

    /// The database goes away: open connections are shut down, new ones closed on accept.
    pub fn cut(&self) {
        self.state
            .cut
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.state
            .cut
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// A proxy in front of the server a postgres:// URL names, and the URL through the proxy.
    pub fn in_front_of(url: &str) -> (Proxy, String) {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (user, host) = match authority.rsplit_once('@') {
            Some((user, host)) => (format!("{user}@"), host),
            None => (String::new(), authority),
        };
        let target = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        let proxy = Proxy::start(target);
        let url = format!("{scheme}://{user}127.0.0.1:{}{tail}", proxy.port);
        (proxy, url)
    }
}

/// Copies bytes from `from` to `to` until either side closes, on a thread of its own.
fn pipe(mut from: std::net::TcpStream, mut to: std::net::TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// Polls `condition` every 100 ms until it holds or `within` has passed; returns whether it held.
pub fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    condition()
}

/// What the copy tests start from: a user made through the CLI, a `Source` project whose root
/// holds one file per name (all with the same bytes), and an empty `Destination`.
pub struct CopySetup {
    pub token: String,
    pub source: Project,
    pub destination: Project,
    /// The source files, in the order of the names.
    pub files: Vec<(Object, Placement)>,
}

impl CopySetup {
    pub fn new(db: &TestDb, username: &str, names: &[String]) -> CopySetup {
        let token = create_user(db.url(), db.data_dir(), username);
        let store = db.store();
        let mut conn = store.conn().unwrap();
        let user = users::find_by_username(&mut conn, &Username::parse(username).unwrap())
            .unwrap()
            .unwrap();
        let source = ferry_testkit::project(store, &user, "Source");
        let destination = ferry_testkit::project(store, &user, "Destination");
        let root = projects::root_folder(&mut conn, source.id).unwrap();
        let content = store.content().put_bytes(b"copied bytes\n").unwrap();
        let names: Vec<_> = names
            .iter()
            .map(|name| (FileName::parse(name.as_str()).unwrap(), content.clone()))
            .collect();
        let files =
            files::create_closed_files(&mut conn, user.id, source.id, &root, &names).unwrap();
        CopySetup {
            token,
            source,
            destination,
            files,
        }
    }

    /// The source files' SBG ids, in order.
    pub fn file_ids(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|(_, placement)| placement.sbg_id.to_string())
            .collect()
    }
}
