//! `cargo run --release --example simulator -- --provider github --records N [--latency-ms L] [--repo OWNER/NAME] [--token T] [--state FILE]`
//! `cargo run --release --example simulator -- --provider jira --records N [--latency-ms L] [--project KEY] [--email E] [--token T]`
//! `cargo run --release --example simulator -- --provider confluence --records N [--latency-ms L] [--space KEY] [--email E] [--token T] [--state FILE]`
//! `cargo run --release --example simulator -- --provider bqe --records N [--subs M] [--latency-ms L] [--token T] [--state FILE]`
//!
//! Serves a provider simulator on 127.0.0.1 with `N` seeded records until stopped
//! (Ctrl-C); with `--state FILE` it starts from the repositories saved there (seeding
//! only when the file does not exist yet) and saves them back when stopped,
//! printing what a client needs (`url=... repo=... token=...`): a server for
//! `pull_github`, for tools outside Rust, and for trying host code against a provider
//! that needs no network. `--latency-ms` makes every request wait, to model a real
//! network. Providers: `github`, `jira` (the Jira simulator prints `url=...
//! project=... email=... token=...` for basic auth on the site URL, and `gateway=...`)
//! and `confluence` (`url=... space=... email=... token=...`, and `gateway=...`; its
//! `N` pages are DevFlow pages with the `devflow` property) and `bqe` (`api=...
//! identity=... token=... client_id=...`: `N` parent projects and `--subs M` sub-projects
//! under them, default `N / 4`; the public app `client_id` signs in with PKCE on the
//! identity server). `--state` is GitHub's, Confluence's and BQE's.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use devflow_sync_testkit::bqe_sim::BqeSimulator;
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;
use devflow_sync_testkit::github_sim::GitHubSimulator;
use devflow_sync_testkit::jira_sim::JiraSimulator;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn number(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match arg(args, name).map(|n| n.parse::<u64>()) {
        Some(Ok(n)) => Ok(n),
        None => Ok(default),
        Some(Err(_)) => Err(format!("{name} takes a number")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let provider = arg(&args, "--provider").unwrap_or_else(|| "github".into());
    if !["github", "jira", "confluence", "bqe"].contains(&provider.as_str()) {
        eprintln!("--provider {provider}: this build simulates github, jira, confluence and bqe");
        return ExitCode::from(2);
    }
    let (records, latency) = match (
        number(&args, "--records", 1000).or_else(|_| number(&args, "--issues", 1000)),
        number(&args, "--latency-ms", 0),
    ) {
        (Ok(r), Ok(l)) => (r, l),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let records = usize::try_from(records).unwrap_or(usize::MAX);
    let repo = arg(&args, "--repo").unwrap_or_else(|| "acme/app".into());
    let token = arg(&args, "--token").unwrap_or_else(|| "ghp_simulator".into());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if provider == "jira" {
        return runtime.block_on(serve_jira(&args, records, latency));
    }
    if provider == "confluence" {
        return runtime.block_on(serve_confluence(&args, records, latency));
    }
    if provider == "bqe" {
        let subs = match number(&args, "--subs", (records / 4) as u64) {
            Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        return runtime.block_on(serve_bqe(&args, (records, subs), latency));
    }
    runtime.block_on(async move {
        let sim = match GitHubSimulator::start().await {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("the simulator did not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let state = arg(&args, "--state");
        let restored = match &state {
            Some(file) => match sim.load(file) {
                Ok(found) => found,
                Err(e) => {
                    eprintln!("--state {file}: {e}");
                    return ExitCode::FAILURE;
                }
            },
            None => false,
        };
        if !restored {
            sim.add_repo(&repo);
            sim.seed_issues(&repo, records);
        }
        sim.accept_token(&token);
        sim.set_rate_limit(1_000_000);
        sim.set_latency(Duration::from_millis(latency));
        println!(
            "provider=github url={} repo={repo} token={token} records={records} latency_ms={latency} restored={restored}",
            sim.url()
        );
        // Serve until stopped.
        let _ = tokio::signal::ctrl_c().await;
        if let Some(file) = &state {
            if let Err(e) = sim.save(file) {
                eprintln!("--state {file}: {e}");
                return ExitCode::FAILURE;
            }
        }
        ExitCode::SUCCESS
    })
}

/// Serves a Jira simulator with one company-managed project of `records` issues.
async fn serve_jira(args: &[String], records: usize, latency: u64) -> ExitCode {
    let project = arg(args, "--project").unwrap_or_else(|| "DEV".into());
    let email = arg(args, "--email").unwrap_or_else(|| "dev@devflow.test".into());
    let token = arg(args, "--token").unwrap_or_else(|| "ATATT-simulator".into());
    let sim = match JiraSimulator::start().await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("the simulator did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    sim.add_project(&project, "DevFlow", false);
    sim.add_api_token(&email, &token, true, None);
    sim.seed_issues(&project, records);
    sim.set_latency(Duration::from_millis(latency));
    println!(
        "provider=jira url={} gateway={} project={project} email={email} token={token} records={records} latency_ms={latency}",
        sim.url(),
        sim.gateway_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// Serves a Confluence simulator with one space of `records` DevFlow pages.
async fn serve_confluence(args: &[String], records: usize, latency: u64) -> ExitCode {
    let space = arg(args, "--space").unwrap_or_else(|| "DEV".into());
    let email = arg(args, "--email").unwrap_or_else(|| "dev@devflow.test".into());
    let token = arg(args, "--token").unwrap_or_else(|| "ATATT-simulator".into());
    let sim = match ConfluenceSimulator::start().await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("the simulator did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = arg(args, "--state");
    let restored = match &state {
        Some(file) => match sim.load(file) {
            Ok(found) => found,
            Err(e) => {
                eprintln!("--state {file}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => false,
    };
    if !restored {
        sim.add_space(&space, "DevFlow");
        sim.seed_pages(&space, records);
    }
    sim.add_api_token(&email, &token);
    sim.set_latency(Duration::from_millis(latency));
    println!(
        "provider=confluence url={} gateway={} space={space} email={email} token={token} records={records} latency_ms={latency} restored={restored}",
        sim.url(),
        sim.gateway_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    if let Some(file) = &state {
        if let Err(e) = sim.save(file) {
            eprintln!("--state {file}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Serves a BQE simulator with `parents` projects and `subs` sub-projects under them.
async fn serve_bqe(args: &[String], (parents, subs): (usize, usize), latency: u64) -> ExitCode {
    let token = arg(args, "--token").unwrap_or_else(|| "bqe-simulator".into());
    let sim = match BqeSimulator::start().await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("the simulator did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = arg(args, "--state");
    let restored = match &state {
        Some(file) => match sim.load(file) {
            Ok(found) => found,
            Err(e) => {
                eprintln!("--state {file}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => false,
    };
    if !restored {
        sim.seed_projects(parents, subs);
    }
    sim.accept_token(&token, &["read:core"]);
    sim.register_app("devflow-simulator", None);
    sim.set_latency(Duration::from_millis(latency));
    println!(
        "provider=bqe api={} identity={} token={token} client_id=devflow-simulator records={parents} subs={subs} latency_ms={latency} restored={restored}",
        sim.api_url(),
        sim.identity_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    if let Some(file) = &state {
        if let Err(e) = sim.save(file) {
            eprintln!("--state {file}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
