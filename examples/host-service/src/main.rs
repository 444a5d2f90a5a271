//! `cargo run -p host-service [-- --db PATH] [--port N] [--real | mcp]`: the host service,
//! offline against in-process simulators seeded with a demo project, or with `--real`
//! against the providers configured in the environment (`DEVFLOW_SYNC_JIRA_*`,
//! `DEVFLOW_SYNC_GITHUB_*`; nothing secret on the command line), or with `mcp` the MCP
//! tools over stdio on the demo. Prints the dashboard's
//! URL; the admin token is `DEVFLOW_ADMIN_TOKEN`, or a new one written to a file
//! readable only by its owner (never printed). Ctrl-C stops it gracefully.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::store::Retention;
use host_service::scheduler::Intervals;
use host_service::{AppState, demo, real, resume, serve, write_private};
use rmcp::ServiceExt;
use secrecy::SecretString;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// A new admin token: 32 random bytes, hex.
fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("host-service stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let kept = arg(&args, "--db").is_some();
    let db = arg(&args, "--db").map_or_else(
        || std::env::temp_dir().join(format!("devflow-host-{}.db", std::process::id())),
        std::path::PathBuf::from,
    );
    let port: u16 = arg(&args, "--port").map_or(Ok(8080), |p| p.parse())?;
    let token = match std::env::var("DEVFLOW_ADMIN_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => {
            let token = new_token()?;
            let file = std::path::PathBuf::from(format!("{}.admin-token", db.display()));
            write_private(&file, &token)?;
            eprintln!("admin token written to {} (owner-only)", file.display());
            token
        }
    };
    let store = Arc::new(SqliteStore::open(&db).await?);
    // Tokens are sealed with DEVFLOW_SYNC_TOKEN_KEYS, else a key kept beside the
    // database (owner-only), so a kept database opens again.
    let ring = resume::key_ring(&std::path::PathBuf::from(format!(
        "{}.token-key",
        db.display()
    )))?;
    // `mcp`: the MCP tools over stdio (stdout is the protocol's: nothing else is
    // printed there), on the demo.
    if args.iter().any(|a| a == "mcp") {
        let (engine, sims, handles) = demo::start_with_keys(store.clone(), ring).await?;
        demo::seed(&engine, &sims).await?;
        let state = Arc::new(AppState::new(engine, SecretString::from(token), handles));
        let running = host_service::mcp::DevflowMcp::new(state)
            .serve(rmcp::transport::stdio())
            .await?;
        running.waiting().await?;
        drop(sims);
        if !kept {
            remove_database(&db);
        }
        return Ok(());
    }
    // `--real`: the providers configured in the environment; else the offline demo.
    let (state, sims) = if args.iter().any(|a| a == "--real") {
        let (engine, handles, apps) =
            real::start(store.clone(), ring, |k| std::env::var(k).ok()).await?;
        let state = AppState::new(engine, SecretString::from(token), handles)
            .with_oauth(apps)
            .with_connection_store(store.clone())
            .with_maintenance(store.clone(), Retention::default())
            .persist_reads(store.pool().clone())
            .await?;
        (Arc::new(state), None)
    } else {
        let (engine, sims, handles) = demo::start_with_keys(store.clone(), ring).await?;
        demo::seed(&engine, &sims).await?;
        let state = AppState::new(engine, SecretString::from(token), handles)
            .with_oauth(demo::oauth_apps(&sims)?)
            .with_connection_store(store.clone())
            .with_maintenance(store.clone(), Retention::default())
            .persist_reads(store.pool().clone())
            .await?;
        (Arc::new(state), Some(sims))
    };
    // Connections made at run time before a restart come back.
    let (resumed, failed) = resume::resume(&state).await?;
    if resumed > 0 {
        eprintln!("{resumed} connection(s) made earlier resumed");
    }
    for (id, e) in failed {
        eprintln!("connection {id} not resumed: {e}");
    }
    let running = serve(
        state,
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Intervals::default(),
    )
    .await?;
    println!("dashboard: http://{}/", running.addr);
    tokio::signal::ctrl_c().await?;
    println!("stopping: finishing requests and the scheduler's round");
    running.stop().await;
    drop(sims);
    if !kept {
        remove_database(&db);
    }
    Ok(())
}

/// Removes a temporary database, its log files, its admin token and key files.
fn remove_database(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", ".admin-token", ".token-key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
