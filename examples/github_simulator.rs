//! `cargo run --release --example github_simulator -- --issues N [--repo OWNER/NAME] [--token T]`
//!
//! Serves the in-process GitHub simulator on 127.0.0.1 with `N` seeded issues until
//! stopped, printing its base URL, repository and token: a server for `pull_github`
//! and for trying host code against a GitHub that needs no network.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use devflow_sync_testkit::github_sim::GitHubSimulator;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let issues: usize = match arg(&args, "--issues").map(|n| n.parse()) {
        Some(Ok(n)) => n,
        None => 1000,
        Some(Err(_)) => {
            eprintln!("--issues takes a number");
            return ExitCode::from(2);
        }
    };
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
    runtime.block_on(async move {
        let sim = match GitHubSimulator::start().await {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("the simulator did not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        sim.add_repo(&repo);
        sim.accept_token(&token);
        sim.set_rate_limit(1_000_000);
        sim.seed_issues(&repo, issues);
        println!(
            "url={} repo={repo} token={token} issues={issues}",
            sim.url()
        );
        // Serve until stopped.
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
