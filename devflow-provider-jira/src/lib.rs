#![doc = include_str!("../docs.md")]

devflow_sync_core::provider_catalog!(devflow_provider_jira, "jira", "../provider.json");

pub mod adf;
mod builder;
mod client;
mod config;
mod connection;
pub mod dynamic;
mod errors;
pub mod fields;
mod listing;
pub mod mapping;
mod provider;
pub mod refs;
pub mod search;
pub mod timecard;
pub mod webhook;
pub mod wire;
pub mod worklog;
mod write;

pub use builder::{ENV_KEYS, JiraBuilder, REQUEST_SCOPED_LIMITS, catalog_http, oauth_config};
pub use client::{IssueTypeInfo, JiraProvider, ProjectInfo};
pub use config::{IssueTypeNames, JiraAuth, JiraConfig};
pub use connection::{ConnectionCheck, Diagnosis};
pub use errors::JiraErrors;
pub use listing::{MAX_PAGE, jql_since, quote};
