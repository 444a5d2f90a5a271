//! `cargo run --release --example pull_github -- --base-url URL --repo OWNER/NAME --token TOKEN [--db PATH | --memory]`
//!
//! Pulls every issue of one repository from GitHub or any compatible server (the
//! `simulator` example serves one) into a SQLite file (`--db PATH`, kept; a temporary
//! file removed at the end when not given) or in-memory stores (`--memory`) through the
//! engine —
//! the GitHub provider, its default mapping, the three-way merge, the journal — page
//! by page, and ends with `records=<n> requests=<r> seconds=<s>` after the process's
//! peak memory. Only the stores grow with the repository (about 1 KB per issue); the
//! pages are streamed. Requests are
//! paced by GitHub's limits from its catalog; set `DEVFLOW_SYNC_GITHUB_REQUESTS_PER_MINUTE`
//! (and `..._BURST`) to change them, e.g. against the simulator.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/pull.rs"]
mod pull;

use std::process::ExitCode;
use std::sync::Arc;

use devflow_provider_github::mapping::default_mapping;
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync::auth::AccessToken;
use devflow_sync::http::HttpClient;
use pull::{Requests, arg};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(base_url), Some(repo), Some(token)) = (
        arg(&args, "--base-url"),
        arg(&args, "--repo"),
        arg(&args, "--token"),
    ) else {
        eprintln!(
            "usage: pull_github --base-url URL --repo OWNER/NAME --token TOKEN [--db PATH | --memory]"
        );
        return ExitCode::from(2);
    };
    pull::run(async {
        let requests = Arc::new(Requests::default());
        // GitHub's limits from its catalog, overridable from the environment
        // (DEVFLOW_SYNC_GITHUB_REQUESTS_PER_MINUTE, ..._BURST, ...).
        let http = HttpClient::builder()
            .config(pull::catalog_limits(&devflow_provider_github::catalog()?)?)
            .observer(requests.clone())
            .build()?;
        let config = GitHubConfig::new(
            base_url,
            vec![repo],
            TokenSource::Static(AccessToken::new(token)),
        );
        let provider = Arc::new(GitHubProvider::new(config, http)?);
        // GitHub's shipped mapping: state and labels -> status, priority, tags.
        pull::pull_and_report(&args, "github", provider, default_mapping()?, &requests).await
    })
}
