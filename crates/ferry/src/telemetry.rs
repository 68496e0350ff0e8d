//! Tracing, set up once: RUST_LOG filters (default `info`), FERRY_LOG_FORMAT=json switches to
//! JSON lines with the request span's fields. Logs go to stderr; stdout is for command output
//! (tokens, applied migrations) that scripts capture. A log that cannot be written never stops the
//! server from answering.

use crate::cli::LogArgs;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(args: &LogArgs) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log line that cannot be written (a full disk) is dropped. Reporting it would be an
        // `eprintln!` to the same stderr, which panics when it fails: the request being
        // answered would die with it.
        .log_internal_errors(false)
        // Colours only for a person at a terminal, never in a log file.
        .with_ansi(std::io::stderr().is_terminal());
    let installed = if args.log_format == "json" {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
    // A second init (never in the binary) is harmless; say so rather than panic.
    if let Err(e) = installed {
        eprintln!("ferry: tracing was already initialised: {e}");
    }
}
