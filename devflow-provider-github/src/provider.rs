//! [`Provider`] for GitHub issues.

use async_trait::async_trait;
use devflow_sync_core::http::{Method, percent_encode};
use devflow_sync_core::model::{
    ConnectionId, ExternalId, FieldValue, Fields, ItemId, ItemKind, ObjectType, ProviderKey,
    Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::{Error, Result};
use serde_json::Value;

use crate::client::{GitHubProvider, json};
use crate::metadata::BodyMetadata;
use crate::wire::{
    issue_from_json, issue_request, issue_to_record, parent_from_url, split_issue_id,
};

#[async_trait]
impl Provider for GitHubProvider {
    fn key(&self) -> ProviderKey {
        ProviderKey::new("github")
    }

    /// As the catalog (`provider.json`) declares it: one source.
    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        self.capabilities.get(object).copied().unwrap_or_default()
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        if object.as_str() != "issue" {
            return Err(Error::not_supported(format!("listing GitHub {object}")));
        }
        self.list_issues(connection, query).await
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        let (repo, number) = split_issue_id(id)?;
        let response = self
            .call(connection, Method::GET, self.issue_url(&repo, number), None)
            .await?;
        issue_from_json(&repo, &response.body)?
            .ok_or_else(|| Error::not_found(format!("{id} is a pull request")))
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let repo = self.repository(0)?.clone();
        self.ensure_labels(connection, &repo).await?;
        let meta = BodyMetadata {
            id: Some(new.marker.clone()),
            kind: new.kind,
            parent: new.parent.as_ref().map(ToString::to_string),
            synced: None,
            links: crate::metadata::links_of(&new.related),
        };
        let url = format!("{}/repos/{repo}/issues", self.api.base_url());
        let mut fields = new.fields.clone();
        if let Some(m) = self
            .milestone_for(
                connection,
                &repo,
                &new.fields,
                new.kind,
                new.parent.as_ref(),
            )
            .await?
        {
            fields.insert(
                "milestone",
                FieldValue::int(i64::try_from(m).unwrap_or(i64::MAX)),
            );
        }
        // Not idempotent: a retried create is recovered by its marker instead.
        let body = issue_request(&fields, &meta, new.kind);
        let created = json(&self.call(connection, Method::POST, url, Some(body)).await?)?;
        if let (Some(parent), Some(rest_id)) =
            (&new.parent, created.get("id").and_then(Value::as_u64))
        {
            self.link_parent(connection, parent, rest_id).await?;
        }
        let created = match &new.parent {
            Some(parent) => self.with_parent_link(created, Some(parent))?,
            None => created,
        };
        let record = issue_to_record(&repo, &created)?
            .ok_or_else(|| Error::transient("GitHub answered a create with a pull request"))?;
        self.remember_milestone(
            &record.id,
            created.pointer("/milestone/number").and_then(Value::as_u64),
        );
        Ok(record)
    }

    async fn update(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        _expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        let (repo, number) = split_issue_id(id)?;
        // The body's metadata is kept: read it first.
        let current = json(
            &self
                .call(connection, Method::GET, self.issue_url(&repo, number), None)
                .await?,
        )?;
        let (mut meta, _) =
            BodyMetadata::split(current.get("body").and_then(Value::as_str).unwrap_or(""));
        if let Some(parent) = &update.parent {
            meta.parent = parent.as_ref().map(ToString::to_string);
        }
        if let Some(related) = &update.related {
            meta.links = crate::metadata::links_of(related);
        }
        let mut fields = Fields::new();
        fields.apply(&update.changes);
        if meta.kind == Some(ItemKind::Prd) {
            if let Some(title) = fields.get("title").as_str() {
                self.rename_prd_milestone(connection, &repo, &current, title)
                    .await?;
            }
        }
        if (update.parent.is_some() || update.related.is_some()) && !fields.contains("body") {
            let (_, text) =
                BodyMetadata::split(current.get("body").and_then(Value::as_str).unwrap_or(""));
            fields.insert("body", FieldValue::long_text(text));
        }
        if let Some(Some(parent)) = &update.parent {
            if let Some(m) = self
                .milestone_for(
                    connection,
                    &repo,
                    &fields,
                    meta.kind.filter(|k| *k != ItemKind::Prd),
                    Some(parent),
                )
                .await?
            {
                fields.insert(
                    "milestone",
                    FieldValue::int(i64::try_from(m).unwrap_or(i64::MAX)),
                );
            }
        }
        let kind = meta.kind.filter(|_| fields.contains("labels"));
        let body = issue_request(&fields, &meta, kind);
        let updated = json(
            &self
                .call(
                    connection,
                    Method::PATCH,
                    self.issue_url(&repo, number),
                    Some(body),
                )
                .await?,
        )?;
        match (&update.parent, updated.get("id").and_then(Value::as_u64)) {
            (Some(Some(parent)), Some(rest_id)) => {
                self.link_parent(connection, parent, rest_id).await?;
            }
            (Some(None), Some(rest_id)) => {
                let linked = current
                    .get("parent_issue_url")
                    .and_then(Value::as_str)
                    .and_then(parent_from_url);
                if let Some(parent) = linked {
                    self.unlink_parent(connection, &parent, rest_id).await?;
                }
            }
            _ => {}
        }
        let updated = match &update.parent {
            Some(parent) => self.with_parent_link(updated, parent.as_ref())?,
            None => updated,
        };
        self.remember_milestone(
            id,
            updated.pointer("/milestone/number").and_then(Value::as_u64),
        );
        issue_to_record(&repo, &updated)?
            .ok_or_else(|| Error::not_found(format!("{id} is a pull request")))
    }

    async fn delete(
        &self,
        _connection: &ConnectionId,
        _object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        Err(Error::not_supported(format!(
            "deleting GitHub issue {id}: the REST API cannot; close it instead"
        )))
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        for repo in &self.config.repositories {
            let url = format!(
                "{}/search/issues?q=repo:{repo}+is:issue+in:body+%22devflow-id:+{}%22",
                self.api.base_url(),
                percent_encode(&crate::metadata::escape_value(marker.as_str()))
            );
            let found = json(&self.call(connection, Method::GET, url, None).await?)?;
            for item in found
                .get("items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if let Some(record) = issue_to_record(repo, item)? {
                    if record.marker.as_ref() == Some(marker) {
                        return Ok(Some(record));
                    }
                }
            }
        }
        Ok(None)
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.verifier.verify(headers, body)?;
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        crate::webhook::parse_verified(headers, body, Some(&self.config.repositories))
    }

    fn webhook_headers(&self) -> Vec<String> {
        vec![
            crate::webhook::EVENT_HEADER.to_owned(),
            crate::webhook::DELIVERY_HEADER.to_owned(),
        ]
    }

    async fn revoke(&self, _connection: &ConnectionId) -> Result<()> {
        Err(Error::not_supported(
            "revoking GitHub grants needs the app's client credentials",
        ))
    }
}
