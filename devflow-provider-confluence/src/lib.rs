#![doc = include_str!("../docs.md")]

devflow_sync_core::provider_catalog!(
    devflow_provider_confluence,
    "confluence",
    "../provider.json"
);

mod builder;
mod client;
mod config;
mod errors;
mod listing;
pub mod mapping;
mod pages;
mod provider;
mod spaces;
pub mod storage;
pub mod webhook;
pub mod wire;

pub use builder::{ConfluenceBuilder, ENV_KEYS, catalog_http};
pub use client::{ConfluenceProvider, SpaceInfo};
pub use config::{ConfluenceAuth, ConfluenceConfig, PageRoot, oauth_config};
pub use errors::ConfluenceErrors;
pub use listing::MAX_PAGE;
pub use pages::{BODY, TITLE};
