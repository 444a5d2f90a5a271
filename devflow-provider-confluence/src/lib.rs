#![doc = include_str!("../docs.md")]

devflow_sync_core::provider_catalog!(
    devflow_provider_confluence,
    "confluence",
    "../provider.json"
);

pub mod storage;
