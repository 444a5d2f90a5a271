//! [`Provider`] for BQE collections: read-only, as the catalog declares.

use async_trait::async_trait;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey, Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::{Error, Result};

use crate::client::BqeProvider;

fn read_only(object: &ObjectType) -> Error {
    Error::not_supported(format!("writing BQE {object}: the provider is read-only"))
}

#[async_trait]
impl Provider for BqeProvider {
    fn key(&self) -> ProviderKey {
        ProviderKey::new(crate::PROVIDER_KEY)
    }

    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        self.capabilities.get(object).copied().unwrap_or_default()
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        self.list(connection, object, query).await
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        self.get_one(connection, object, id).await
    }

    async fn create(
        &self,
        _connection: &ConnectionId,
        object: &ObjectType,
        _new: &NewRemote,
    ) -> Result<RemoteRecord> {
        Err(read_only(object))
    }

    async fn update(
        &self,
        _connection: &ConnectionId,
        object: &ObjectType,
        _id: &ExternalId,
        _update: &RemoteUpdate,
        _expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        Err(read_only(object))
    }

    async fn delete(
        &self,
        _connection: &ConnectionId,
        object: &ObjectType,
        _id: &ExternalId,
    ) -> Result<()> {
        Err(read_only(object))
    }

    /// BQE records carry no marker: the provider never creates them.
    async fn find_by_marker(
        &self,
        _connection: &ConnectionId,
        _object: &ObjectType,
        _marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        Ok(None)
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
                "the BQE delivery is too large",
            ));
        }
        self.verifier.verify(headers, body)?;
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        _headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        crate::webhook::parse_verified(body)
    }

    fn webhook_headers(&self) -> Vec<String> {
        Vec::new()
    }

    async fn revoke(&self, connection: &ConnectionId) -> Result<()> {
        self.revoke_token(connection).await
    }
}
