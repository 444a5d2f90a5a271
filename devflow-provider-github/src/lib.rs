#![doc = include_str!("../docs.md")]

devflow_sync_core::provider_catalog!(devflow_provider_github, "github", "../provider.json");

pub mod app;
mod builder;
mod client;
mod config;
mod errors;
mod labels;
mod listing;
pub mod mapping;
pub mod metadata;
mod milestones;
mod paging;
mod provider;
mod repositories;
mod sub_issues;
pub mod webhook;
pub mod wire;

pub use builder::{DEFAULT_BASE_URL, ENV_KEYS, GitHubBuilder, catalog_http, oauth_config};
pub use client::{API_VERSION, GitHubConfig, GitHubProvider, Repository, TokenSource};
pub use errors::GitHubErrors;
