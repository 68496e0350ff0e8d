//! The HTTP app the bench measures, served in the bench's own process.

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use ferry_api::{ApiConfig, AppState, RateLimit};
use ferry_store::Store;

use crate::Failure;

/// The HTTP app on a free loopback port, served by its own actix system thread, as
/// `ferry serve` serves it (the async job starts its own job workers).
pub(super) struct BenchServer {
    pub(super) base_url: String,
    handle: ServerHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

impl BenchServer {
    pub(super) fn start(store: &Store) -> Result<BenchServer, Failure> {
        let setup = |e: std::io::Error| Failure::Setup(format!("cannot start the server: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").map_err(setup)?;
        let base_url = format!("http://{}", listener.local_addr().map_err(setup)?);
        let mut config = ApiConfig::new(&base_url);
        // The bench measures copies, not the limiter: requests are still counted, never refused.
        config.sbg_rate_limit = RateLimit::UNLIMITED;
        config.dx_rate_limit = RateLimit::UNLIMITED;
        let state = AppState::new(store.clone(), config);
        let (handle_sender, handle_receiver) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            let server = HttpServer::new(move || ferry_api::app(state.clone()))
                .listen(listener)?
                .run();
            // The receiver outlives this send: `start` waits for it.
            let _ = handle_sender.send(server.handle());
            system.block_on(server)
        });
        match handle_receiver.recv() {
            Ok(handle) => Ok(BenchServer {
                base_url,
                handle,
                thread,
            }),
            Err(_) => Err(match thread.join() {
                Ok(Err(e)) => setup(e),
                _ => Failure::Setup("the server thread stopped".to_owned()),
            }),
        }
    }

    pub(super) fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        if let Ok(Err(e)) = self.thread.join() {
            eprintln!("ferry: the bench server stopped with an error: {e}");
        }
    }
}
