#![doc = include_str!("../docs.md")]

devflow_sync_core::provider_catalog!(devflow_provider_github, "github", "../provider.json");

pub mod app;
pub mod client;
pub mod mapping;
pub mod metadata;
mod paging;
pub mod webhook;
pub mod wire;
