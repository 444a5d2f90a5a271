//! A complete small host of devflow-sync: the product's integration endpoints over
//! the library only (`api`), a scheduler with its workers (`scheduler`), a dashboard
//! served by the same process, and an offline demo against in-process simulators
//! (`demo`). Run it with `cargo run -p host-service`.

pub mod api;
pub mod demo;
pub mod load;
pub mod mcp;
pub mod reads;
pub mod real;
pub mod records;
pub mod resume;
pub mod scheduler;
pub mod state;

use std::sync::Arc;

pub use api::router;
pub use state::AppState;

/// Writes `text` to `path`, readable and writable by its owner only (an admin token, a
/// key file).
pub fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// A running service: its address, the scheduler, and the server task.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// The scheduler.
    pub scheduler: scheduler::Scheduler,
    server: tokio::task::JoinHandle<()>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    mcp_stop: tokio_util::sync::CancellationToken,
}

impl Running {
    /// Stops accepting requests, finishes those in flight, then stops the scheduler.
    pub async fn stop(self) {
        self.mcp_stop.cancel();
        let _ = self.shutdown.send(());
        let _ = self.server.await;
        self.scheduler.stop().await;
    }
}

/// Serves `state` on `addr` (port 0 picks a free one) with the scheduler running.
pub async fn serve(
    state: Arc<AppState>,
    addr: std::net::SocketAddr,
    intervals: scheduler::Intervals,
) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(state.clone());
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the server stopped");
        }
    });
    let scheduler = scheduler::Scheduler::start(&state, intervals);
    Ok(Running {
        mcp_stop: state.mcp_stop.clone(),
        addr,
        scheduler,
        server,
        shutdown,
    })
}
