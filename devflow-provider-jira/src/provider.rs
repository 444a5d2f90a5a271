//! [`Provider`] for Jira issues.

use async_trait::async_trait;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey, Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::{Error, Result};

use crate::client::JiraProvider;

/// The objects this provider writes: issues and worklogs.
enum Object {
    Issue,
    Worklog,
}

fn object_of(object: &ObjectType) -> Result<Object> {
    match object.as_str() {
        "issue" => Ok(Object::Issue),
        crate::worklog::OBJECT => Ok(Object::Worklog),
        _ => Err(Error::not_supported(format!(
            "Jira {object}: the provider syncs issues and worklogs"
        ))),
    }
}

#[async_trait]
impl Provider for JiraProvider {
    fn key(&self) -> ProviderKey {
        ProviderKey::new("jira")
    }

    /// As the catalog (`provider.json`) declares it.
    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        self.capabilities.get(object).copied().unwrap_or_default()
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        match object_of(object)? {
            Object::Issue => self.list_issues(connection, query).await,
            Object::Worklog => self.list_worklogs(connection, query).await,
        }
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        match object_of(object)? {
            Object::Issue => self.get_issue(connection, id.as_str()).await,
            Object::Worklog => self.get_worklog(connection, id).await,
        }
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        match object_of(object)? {
            Object::Issue => self.create_issue(connection, new).await,
            Object::Worklog => self.create_worklog(connection, new).await,
        }
    }

    /// Jira has no conditional update: `expected` is not checked.
    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        _expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        match object_of(object)? {
            Object::Issue => self.update_issue(connection, id, update).await,
            Object::Worklog => self.update_worklog(connection, id, update).await,
        }
    }

    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        match object_of(object)? {
            Object::Issue => self.delete_issue(connection, id).await,
            Object::Worklog => self.delete_worklog(connection, id).await,
        }
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        match object_of(object)? {
            Object::Issue => self.find_marker(connection, marker).await,
            Object::Worklog => self.find_worklog_marker(connection, marker).await,
        }
    }

    /// Admin webhooks by their `X-Hub-Signature`; dynamic webhooks of an OAuth app by
    /// the JWT in `Authorization` (when the app's client secret is configured).
    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        let bearer = headers
            .get("authorization")
            .is_some_and(|a| a.starts_with("Bearer ") || a.starts_with("JWT "));
        match (&self.config.webhook_jwt_secret, bearer) {
            (Some(secret), true) => {
                if body.len() > crate::webhook::MAX_BODY {
                    return Err(Error::invalid_input(
                        "body",
                        "the Jira delivery is too large",
                    ));
                }
                crate::dynamic::verify_jwt(headers, secret)?;
            }
            _ => {
                self.verifier.verify(headers, body)?;
            }
        }
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        crate::webhook::parse_verified(headers, body, Some(&self.config.project))
    }

    fn webhook_headers(&self) -> Vec<String> {
        vec![crate::webhook::DELIVERY_HEADER.to_owned()]
    }

    async fn revoke(&self, _connection: &ConnectionId) -> Result<()> {
        Err(Error::not_supported(
            "Atlassian has no token revocation endpoint for 3LO apps: the person removes the app under Connected apps",
        ))
    }
}
