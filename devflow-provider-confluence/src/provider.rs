//! [`Provider`] for Confluence pages.

use async_trait::async_trait;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey, Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::{Error, Result};

use crate::client::ConfluenceProvider;

fn pages_only(object: &ObjectType) -> Result<()> {
    if object.as_str() == "page" {
        Ok(())
    } else {
        Err(Error::not_supported(format!(
            "Confluence {object} through the page provider"
        )))
    }
}

#[async_trait]
impl Provider for ConfluenceProvider {
    fn key(&self) -> ProviderKey {
        ProviderKey::new(crate::PROVIDER_KEY)
    }

    /// As the catalog declares it, with updates conditional on the page version.
    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        let mut caps = self.capabilities.get(object).copied().unwrap_or_default();
        if object.as_str() == "page" {
            caps.conditional_update = true;
            caps.markers = true;
            caps.hierarchy = true;
        }
        caps
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        pages_only(object)?;
        self.list_pages(connection, query).await
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        pages_only(object)?;
        self.get_page(connection, id.as_str()).await
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        pages_only(object)?;
        self.create_page(connection, new).await
    }

    /// Conditional on `expected` (the page's version number) when given; a stale version
    /// is [`Error::Precondition`].
    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        pages_only(object)?;
        self.update_page(connection, id, update, expected).await
    }

    /// Moves the page to the trash; purging is a person's choice in Confluence.
    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        pages_only(object)?;
        self.trash_page(connection, id).await
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        pages_only(object)?;
        self.find_marker(connection, marker).await
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        if body.len() > crate::webhook::MAX_BODY {
            return Err(Error::invalid_input(
                "body",
                "the Confluence delivery is too large",
            ));
        }
        self.verifier.verify(headers, body)?;
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        crate::webhook::parse_verified(headers, body, &self.config.space)
    }

    fn webhook_headers(&self) -> Vec<String> {
        vec!["X-Confluence-Event".to_owned()]
    }

    async fn revoke(&self, _connection: &ConnectionId) -> Result<()> {
        Err(Error::not_supported(
            "Atlassian has no token revocation endpoint for 3LO apps: the person removes the app under Connected apps",
        ))
    }
}
