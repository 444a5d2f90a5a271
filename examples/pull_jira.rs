//! `cargo run --release --example pull_jira -- --base-url URL --project KEY --email EMAIL --token API_TOKEN [--db PATH | --memory]`
//!
//! Pulls every issue of one Jira project (Jira Cloud's site or gateway URL, or the
//! `simulator` example's `--provider jira`) into a SQLite file (`--db PATH`, kept; a
//! temporary file removed at the end when not given) or in-memory stores (`--memory`)
//! through the engine — the Jira provider (`search/jql` pages, ADF read into
//! Markdown), its default mapping, the journal — page by page, and ends with
//! `records=<n> requests=<r> seconds=<s>` after the process's peak memory. Only the
//! stores grow with the project; the pages are streamed. Requests are paced by Jira's
//! limits from its catalog; set `DEVFLOW_SYNC_JIRA_REQUESTS_PER_MINUTE` (and
//! `..._BURST`) to change them, e.g. against the simulator.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use devflow_provider_jira::mapping::default_mapping;
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider, REQUEST_SCOPED_LIMITS};
use devflow_store_sqlite::SqliteStore;
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync::http::{HttpClient, HttpConfig, HttpObserver, HttpRequest};
use devflow_sync::model::{ConnectionId, ObjectType, ProviderKey};

/// Counts the responses the client received.
#[derive(Debug, Default)]
struct Requests(AtomicU64);

impl HttpObserver for Requests {
    fn status(&self, _request: &HttpRequest, _status: u16, _attempt: u32) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(base_url), Some(project), Some(email), Some(token)) = (
        arg(&args, "--base-url"),
        arg(&args, "--project"),
        arg(&args, "--email"),
        arg(&args, "--token"),
    ) else {
        eprintln!(
            "usage: pull_jira --base-url URL --project KEY --email EMAIL --token API_TOKEN [--db PATH | --memory]"
        );
        return ExitCode::from(2);
    };
    let db = arg(&args, "--db");
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
    let result: devflow_sync::Result<()> = runtime.block_on(async {
        let requests = Arc::new(Requests::default());
        // Jira's limits from its catalog, overridable from the environment
        // (DEVFLOW_SYNC_JIRA_REQUESTS_PER_MINUTE, ..._BURST, ...).
        let limits = devflow_provider_jira::catalog()?
            .rate_limits
            .override_from("jira", |k| std::env::var(k).ok())?;
        let mut http_config = HttpConfig::default();
        http_config
            .rate_limits
            .insert(ProviderKey::new("jira"), limits.to_http());
        http_config.request_scoped_limits = REQUEST_SCOPED_LIMITS
            .iter()
            .map(|(h, v)| ((*h).to_owned(), (*v).to_owned()))
            .collect();
        let http = HttpClient::builder()
            .config(http_config)
            .observer(requests.clone())
            .build()?;
        let config = JiraConfig::new(
            base_url,
            project,
            JiraAuth::api_token(email, AccessToken::new(token)),
        );
        let (mut builder, temporary) = match (args.iter().any(|a| a == "--memory"), db.clone()) {
            (true, _) => (SyncEngine::builder(), None),
            (false, path) => {
                let temporary = path.is_none().then(|| {
                    std::env::temp_dir()
                        .join(format!("devflow-pull-jira-{}.db", std::process::id()))
                });
                let path = path.map(PathBuf::from).or_else(|| temporary.clone());
                let store = Arc::new(SqliteStore::open(path.unwrap_or_default()).await?);
                (SyncEngine::builder().stores(store), temporary)
            }
        };
        builder = builder.provider(Arc::new(JiraProvider::new(config, http)?));
        let engine = builder
            .bind_with(
                "jira",
                "jira",
                "issue",
                // Jira's shipped mapping: summary, description, status, priority, labels.
                BindingOptions {
                    mapping: Some(default_mapping()?),
                    ..BindingOptions::default()
                },
            )
            .import_mode(ImportMode::Import)
            .build()?;
        let started = Instant::now();
        let report = engine
            .pull(
                &ConnectionId::new("jira"),
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
        // The process ends here: the operating system takes the stores' memory back
        // at once, so they are not freed record by record first.
        #[expect(clippy::mem_forget, reason = "the process exits next")]
        std::mem::forget(engine);
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pull failed: {e}");
            ExitCode::FAILURE
        }
    }
}
