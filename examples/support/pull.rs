//! What the pull examples share: arguments, the request count, the engine over a
//! SQLite file or memory, the timed pull and the figures it prints.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use devflow_store_sqlite::SqliteStore;
use devflow_sync::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync::http::{HttpConfig, HttpObserver, HttpRequest};
use devflow_sync::mapping::ObjectMapping;
use devflow_sync::model::{ConnectionId, ObjectType};
use devflow_sync::provider::Provider;

/// Counts the responses the client received.
#[derive(Debug, Default)]
pub(crate) struct Requests(AtomicU64);

impl HttpObserver for Requests {
    fn status(&self, _request: &HttpRequest, _status: u16, _attempt: u32) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The value after `name` on the command line.
pub(crate) fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The process's peak resident memory in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// HTTP settings with the limits of `catalog` (overridable from the environment:
/// `DEVFLOW_SYNC_{KEY}_REQUESTS_PER_MINUTE`, `..._BURST`, ...).
pub(crate) fn catalog_limits(
    catalog: &devflow_sync::registry::ProviderCatalog,
) -> devflow_sync::Result<HttpConfig> {
    catalog.http_config(|k| std::env::var(k).ok())
}

/// Runs `work` on a one-thread runtime; the exit code says how it went.
pub(crate) fn run(work: impl std::future::Future<Output = devflow_sync::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pull failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Pulls every `issue` of connection `key` through `provider` with `mapping` into a
/// SQLite file (`--db PATH`, kept; a temporary one removed at the end) or memory
/// (`--memory`), and prints the peak memory and `records=<n> requests=<r> seconds=<s>`.
pub(crate) async fn pull_and_report(
    args: &[String],
    key: &str,
    provider: Arc<dyn Provider>,
    mapping: ObjectMapping,
    requests: &Requests,
) -> devflow_sync::Result<()> {
    let (mut builder, temporary) = match (args.iter().any(|a| a == "--memory"), arg(args, "--db")) {
        (true, _) => (SyncEngine::builder(), None),
        (false, path) => {
            let temporary = path.is_none().then(|| {
                std::env::temp_dir().join(format!("devflow-pull-{key}-{}.db", std::process::id()))
            });
            let path = path.map(PathBuf::from).or_else(|| temporary.clone());
            let store = Arc::new(SqliteStore::open(path.unwrap_or_default()).await?);
            (SyncEngine::builder().stores(store), temporary)
        }
    };
    builder = builder.provider(provider);
    let engine = builder
        .bind_with(
            key,
            key,
            "issue",
            BindingOptions {
                mapping: Some(mapping),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .build()?;
    let started = Instant::now();
    let report = engine
        .pull(
            &ConnectionId::new(key),
            &ObjectType::new("issue"),
            PullBudget::UNLIMITED,
        )
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    if report.errors > 0 {
        eprintln!("{} records failed: {}", report.errors, report.summary());
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak_rss_kib={kib}");
    }
    println!(
        "records={} requests={} seconds={seconds:.3}",
        report.created + report.updated + report.unchanged,
        requests.0.load(Ordering::Relaxed)
    );
    if let Some(path) = temporary {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    // The process ends next: the operating system takes the stores' memory back at
    // once, so they are not freed record by record first.
    #[expect(clippy::mem_forget, reason = "the process exits next")]
    std::mem::forget(engine);
    Ok(())
}
