//! Flags and environment variables. Every flag has an `FERRY_*` twin; the README lists them.

use crate::job::JobCommand;
use clap::{Args, Parser, Subcommand};
use ferry_bench::{BenchArgs, LoadArgs};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Copies and clones data between projects, speaking the CAVATICA and DNAnexus APIs."
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Database: sqlite://PATH (the embedded default) or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "FERRY_DATABASE_URL",
        default_value = "sqlite://ferry.db",
        global = true
    )]
    pub database_url: String,
    /// Where file contents live, addressed by SHA-256 (with --content-store, only the bytes
    /// Ferry is writing).
    #[arg(
        long,
        env = "FERRY_DATA_DIR",
        default_value = "ferry-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Keep file contents in an S3-compatible object store, s3://BUCKET[/PREFIX], instead of
    /// the data directory; credentials, region and endpoint come from the usual AWS_*
    /// variables (AWS_ENDPOINT_URL, AWS_ALLOW_HTTP=true for a plain-HTTP server).
    #[arg(long, env = "FERRY_CONTENT_STORE", global = true)]
    pub content_store: Option<String>,
    /// Database connections per process.
    #[arg(long, env = "FERRY_DB_POOL_SIZE", default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub db_pool_size: u32,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log lines as JSON objects (`json`) or as text (`text`). Filter with RUST_LOG.
    #[arg(long, env = "FERRY_LOG_FORMAT", default_value = "text", global = true, value_parser = ["text", "json"])]
    pub log_format: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending migrations and print their names.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Start and follow async copy jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Import local files and directories into a project; prints `<file id>\t<path>` per file.
    Import(ImportArgs),
    /// Check the stored bytes.
    #[command(subcommand)]
    Content(ContentCommand),
    /// Measure copy throughput through the HTTP API against the database's floor, on a fresh
    /// database (a temporary SQLite file, whatever the path of a sqlite:// --database-url, or a
    /// new schema on the PostgreSQL server of a postgres:// one), and print one table.
    Bench(BenchArgs),
    /// Load a `ferry serve` child process on loopback with mixed reads and copies for a bounded
    /// time, on a fresh database (as bench); print req/s, p50/p99 and the server's RSS; exit 1
    /// if any request failed.
    Load(LoadArgs),
}

#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Re-hash every stored content against its SHA-256 and look for every content an object
    /// references; print each problem (`corrupt` or `missing`, the address, why) and a summary,
    /// and exit 1 if there is any.
    Verify,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FERRY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Absolute base URL used in every href (default: http://<bind>).
    #[arg(long, env = "FERRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Comma-separated origins allowed to call the API from a browser (`*` for any).
    #[arg(long, env = "FERRY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "FERRY_HTTP_WORKERS")]
    pub http_workers: Option<usize>,
    /// Create a demo user with two projects and a few files (once), and print a token for it.
    #[arg(long)]
    pub demo: bool,
    /// Async job worker threads in this process (0: leave the jobs to other processes).
    #[arg(long, env = "FERRY_JOB_WORKERS", default_value_t = 2)]
    pub job_workers: usize,
    /// Days a finished async job is kept before the workers purge it.
    #[arg(long, env = "FERRY_JOB_RETENTION_DAYS", default_value_t = 90)]
    pub job_retention_days: u32,
    /// Days an audit event is kept before the workers prune it.
    #[arg(long, env = "FERRY_AUDIT_RETENTION_DAYS", default_value_t = 365)]
    pub audit_retention_days: u32,
    /// Hours an SBG multipart upload may sit idle (no part sent or reported) before the workers
    /// drop it; its parts' bytes go to the content collector.
    #[arg(long, env = "FERRY_UPLOAD_EXPIRY_HOURS", default_value_t = 24)]
    pub upload_expiry_hours: u32,
    /// Minutes content must go unused (not written, nor stored again) before the workers may
    /// delete it once nothing references it; it is then held 5 more minutes in quarantine.
    #[arg(long, env = "FERRY_CONTENT_GRACE_MINUTES", default_value_t = 60)]
    pub content_grace_minutes: u32,
    /// Requests a token may make per window in the CAVATICA dialect (`/v2`); more get a 429.
    #[arg(long, env = "FERRY_SBG_RATE_LIMIT", default_value_t = 1000)]
    pub sbg_rate_limit: u32,
    /// The CAVATICA dialect's rate-limit window, in seconds.
    #[arg(long, env = "FERRY_SBG_RATE_WINDOW_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub sbg_rate_window_seconds: u32,
    /// Requests a token may make per window in the DNAnexus dialect; more get a 429 with
    /// Retry-After, which dxpy waits out and retries.
    #[arg(long, env = "FERRY_DX_RATE_LIMIT", default_value_t = 1000)]
    pub dx_rate_limit: u32,
    /// The DNAnexus dialect's rate-limit window, in seconds.
    #[arg(long, env = "FERRY_DX_RATE_WINDOW_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub dx_rate_window_seconds: u32,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a personal billing group; prints a new API token alone on one line.
    Create {
        username: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Make the user an administrator, who may read the audit trail.
        #[arg(long)]
        admin: bool,
    },
    /// Make a user an administrator (or, with --revoke, no longer one).
    Admin {
        username: String,
        #[arg(long)]
        revoke: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create another token for a user; prints it alone on one line.
    Create {
        username: String,
        #[arg(long)]
        label: Option<String>,
        /// Days until the token expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36500))]
        expires_in: Option<u32>,
    },
    /// List a user's tokens (never their secrets).
    List { username: String },
    /// Revoke one of a user's tokens by the id `token list` shows.
    Revoke { username: String, token_id: i64 },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The user the files are imported as: a member of the project with write permission.
    #[arg(long)]
    pub user: String,
    /// The destination project, OWNER/SHORT-NAME.
    #[arg(long)]
    pub project: String,
    /// The destination folder, created if missing.
    #[arg(long, default_value = "/")]
    pub folder: String,
    /// Give a file whose name is taken the first free `N_name` instead of failing.
    #[arg(long)]
    pub rename: bool,
    /// Files and directories; a directory becomes a folder of that name with its whole tree.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Help and version go to stdout with exit 0; a usage error is one line on stderr, exit 2.
pub fn exit_on_parse_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("ferry: {first} (see ferry --help)");
            ExitCode::from(2)
        }
    }
}
