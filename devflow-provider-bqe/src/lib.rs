#![doc = include_str!("../docs.md")]

devflow_sync_core::provider_catalog!(devflow_provider_bqe, "bqe", "../provider.json");

mod builder;
mod client;
mod config;
mod errors;
mod listing;
pub mod mapping;
pub mod matching;
mod objects;
mod provider;
pub mod webhook;

pub use builder::{BqeBuilder, ENV_KEYS, catalog_http};
pub use client::BqeProvider;
pub use config::{
    BqeConfig, IDENTITY_PRODUCTION, IDENTITY_SANDBOX, Revocation, endpoint_of, oauth_config,
};
pub use errors::BqeErrors;
