//! What the Jira and Confluence providers share, so neither imports the other: one
//! Atlassian 3LO consent serves both products, and [`accessible_resources`] says which
//! sites (cloud ids) a grant reaches, for a person to pick one.

mod auth;
mod settings;
mod sites;

pub use auth::AtlassianAuth;
pub use settings::{AtlassianSettings, SHARED_KEYS, invalid};

pub use sites::{ATLASSIAN_API, AccessibleResource, accessible_resources};
