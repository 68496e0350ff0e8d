//! The `ferry` binary: the server and the admin commands around it.

mod cli;
mod content;
mod demo;
mod import;
mod job;
mod measure;
mod progress;
mod serve;
mod telemetry;
mod users;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// How a command failed: a setup problem (bad flag, bad URL, unreachable database: exit 2) or a
/// failure of the work itself (exit 1). Either way the message is one line.
#[derive(Debug)]
enum Failure {
    Setup(String),
    Work(String),
}

/// A store failure met while working, for [`ferry_store::Store::write`]'s error bound.
impl From<ferry_store::StoreError> for Failure {
    fn from(e: ferry_store::StoreError) -> Self {
        Failure::Work(e.to_string())
    }
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Setup(_) => ExitCode::from(2),
            Failure::Work(_) => ExitCode::from(1),
        }
    }

    fn message(&self) -> &str {
        match self {
            Failure::Setup(m) | Failure::Work(m) => m,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::exit_on_parse_error(e),
    };
    telemetry::init(&cli.log);
    let result = match cli.command {
        Command::Serve(args) => serve::run(&cli.store, args),
        Command::Migrate => serve::migrate(&cli.store),
        Command::User(command) => users::user(&cli.store, command),
        Command::Token(command) => users::token(&cli.store, command),
        Command::Job(command) => job::run(&cli.store, command),
        Command::Import(args) => import::run(&cli.store, args),
        Command::Content(command) => content::run(&cli.store, command),
        Command::Bench(args) => measure::bench(&cli.store, args),
        Command::Load(args) => measure::load(&cli.store, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // One line, so scripts and humans both see exactly what went wrong.
            eprintln!("ferry: {}", failure.message().replace('\n', " "));
            failure.exit_code()
        }
    }
}
