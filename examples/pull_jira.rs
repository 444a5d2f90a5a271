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

#[path = "support/pull.rs"]
mod pull;

use std::process::ExitCode;
use std::sync::Arc;

use devflow_provider_jira::mapping::default_mapping;
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider, REQUEST_SCOPED_LIMITS};
use devflow_sync::auth::AccessToken;
use devflow_sync::http::HttpClient;
use pull::{Requests, arg};

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
    pull::run(async {
        let requests = Arc::new(Requests::default());
        // Jira's limits from its catalog, overridable from the environment
        // (DEVFLOW_SYNC_JIRA_REQUESTS_PER_MINUTE, ..._BURST, ...), and the 429s that
        // hold one endpoint or one issue only.
        let mut http_config = pull::catalog_limits(&devflow_provider_jira::catalog()?)?;
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
        let provider = Arc::new(JiraProvider::new(config, http)?);
        // Jira's shipped mapping: summary, description, status, priority, labels.
        pull::pull_and_report(&args, "jira", provider, default_mapping()?, &requests).await
    })
}
