//! Starting and driving the real binary.

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
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("ferry serve starts");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let log = std::thread::spawn(move || {
            let mut log = String::new();
            // The server may die mid-line (kill -9): keep what arrived.
            let _ = stderr.read_to_string(&mut log);
            log
        });
        let mut server = Server {
            child,
            base: format!("http://{bind}"),
            log: Some(log),
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
