//! Clients: `/client`, deletions as `Client`. Everything else comes from the catalog.

use super::BqeObject;

/// BQE clients.
pub(crate) struct Client;

impl BqeObject for Client {
    fn key(&self) -> &'static str {
        "client"
    }

    fn path(&self) -> &'static str {
        "/client"
    }

    fn entity(&self) -> &'static str {
        "Client"
    }
}
