//! `ferry serve` and `ferry migrate`.

use crate::Failure;
use crate::cli::{ServeArgs, StoreArgs};
use crate::demo;
use actix_web::HttpServer;
use ferry_api::{ApiConfig, AppState, RateLimit, share_counts_forever};
use ferry_store::{ContentStore, Store};
use ferry_usecases::jobs::worker::{JobSettings, JobWorkers};
use std::net::TcpListener;

/// Opens the configured store; any problem here is a setup failure (exit 2).
pub fn open_store(args: &StoreArgs) -> Result<Store, Failure> {
    let store = Store::open(&args.database_url, &args.data_dir, args.db_pool_size)
        .map_err(|e| Failure::Setup(format!("cannot open the database: {e}")))?;
    with_content_store(store, &args.data_dir, args.content_store.as_deref())
}

/// The store over the S3 content store `url` names, if any (through `data_dir`).
fn with_content_store(
    store: Store,
    data_dir: &std::path::Path,
    url: Option<&str>,
) -> Result<Store, Failure> {
    match url {
        None => Ok(store),
        Some(url) => ContentStore::s3(data_dir, url, &[])
            .map(|content| store.with_content(content))
            .map_err(|e| Failure::Setup(format!("cannot open the content store {url}: {e}"))),
    }
}

fn migrate_store(store: &Store) -> Result<Vec<String>, Failure> {
    store
        .migrate()
        .map_err(|e| Failure::Setup(format!("cannot migrate the database: {e}")))
}

pub fn migrate(args: &StoreArgs) -> Result<(), Failure> {
    let store = open_store(args)?;
    let applied = migrate_store(&store)?;
    if applied.is_empty() {
        println!("no pending migrations");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

pub fn run(store_args: &StoreArgs, args: ServeArgs) -> Result<(), Failure> {
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| Failure::Setup(format!("cannot listen on {}: {e}", args.bind)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Setup(format!("cannot listen on {}: {e}", args.bind)))?;
    let store = open_store(store_args)?;
    for name in migrate_store(&store)? {
        tracing::info!(migration = %name, "applied migration");
    }
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    if args.demo {
        demo::ensure(&store, &public_url).map_err(Failure::Work)?;
    }
    let settings = JobSettings {
        workers: args.job_workers,
        retention: chrono::TimeDelta::days(i64::from(args.job_retention_days)),
        audit_retention: chrono::TimeDelta::days(i64::from(args.audit_retention_days)),
        upload_expiry: chrono::TimeDelta::hours(i64::from(args.upload_expiry_hours)),
        content_grace: std::time::Duration::from_secs(60 * u64::from(args.content_grace_minutes)),
    };
    let workers = JobWorkers::start(&store, settings)
        .map_err(|e| Failure::Setup(format!("cannot start the job workers: {e}")))?;
    let mut config = ApiConfig::new(&public_url);
    config.cors_origins = args.cors_origins.clone();
    config.sbg_rate_limit = RateLimit {
        requests: args.sbg_rate_limit,
        window_seconds: args.sbg_rate_window_seconds,
    };
    config.dx_rate_limit = RateLimit {
        requests: args.dx_rate_limit,
        window_seconds: args.dx_rate_window_seconds,
    };
    let state = AppState::new(store, config);

    tracing::info!(address = %local, public_url = %public_url, backend = ?state.store.backend(), "ferry listening");
    let shared = state.clone();
    let pool_size = usize::try_from(store_args.db_pool_size).unwrap_or(usize::MAX);
    let mut server = HttpServer::new(move || ferry_api::app(state.clone()))
        // In-flight requests get this long to finish after SIGTERM or SIGINT.
        .shutdown_timeout(30)
        // Blocking work is database work, one pooled connection each: more threads than
        // connections would only wait for one, and each idle thread keeps a malloc cache
        // (docs/reliability.md, Load and soak).
        .worker_max_blocking_threads(pool_size);
    if let Some(workers) = args.http_workers {
        server = server.workers(workers);
    }
    let server = server
        .listen(listener)
        .map_err(|e| Failure::Setup(format!("cannot listen on {local}: {e}")))?;
    let served = actix_web::rt::System::new().block_on(async move {
        // The rate-limit counts are exchanged with the other processes until the server stops.
        let sharing = actix_web::rt::spawn(share_counts_forever(shared));
        let served = server.run().await;
        sharing.abort();
        served
    });
    // The chunks being worked commit (or roll back) before the process exits.
    workers.stop();
    served.map_err(|e| Failure::Work(format!("server stopped: {e}")))?;
    tracing::info!("ferry stopped");
    Ok(())
}
