//! One page: read as a record, created from the template with the `devflow` property,
//! updated on the version read (the host's section replaced, the rest kept), moved,
//! trashed; the property written with its own version.

use chrono::{DateTime, Utc};
use devflow_sync_core::http::Method;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, ExternalRef, ItemId, ItemKind, Record, Version,
};
use devflow_sync_core::provider::{NewRemote, RemoteRecord, RemoteUpdate};
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use crate::client::ConfluenceProvider;
use crate::config::PageRoot;
use crate::storage::{markdown_of, replace_section, section, storage_of};
use crate::wire::{DevflowProperty, PROPERTY, PageWire, PropertyWire};

/// What a page body field is called.
pub const BODY: &str = "body";
/// What a page title field is called.
pub const TITLE: &str = "title";

/// The statuses a listed or read page may have; other than `current`, it is gone for
/// the engine.
const GONE: [&str; 3] = ["trashed", "archived", "deleted"];

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The page's `devflow` property, when it has one that reads.
pub(crate) fn property_of(page: &PageWire) -> Option<(PropertyWire, DevflowProperty)> {
    let found = page
        .properties
        .as_ref()?
        .results
        .iter()
        .find(|p| p.key == PROPERTY)?
        .clone();
    let value = serde_json::from_value::<DevflowProperty>(found.value.clone()).ok()?;
    Some((found, value))
}

/// The suffix a title takes when the space already has a page with the plain title.
fn suffix(marker: &ItemId) -> String {
    format!(" [{marker}]")
}

/// The property value for an item and its records elsewhere.
fn property_value(kind: Option<ItemKind>, marker: &ItemId, related: &[ExternalRef]) -> Value {
    let of = |provider: &str| related.iter().find(|r| r.provider.as_str() == provider);
    let jira_key = of("jira").map(|r| {
        r.url
            .as_deref()
            .and_then(|u| u.rsplit('/').next())
            .filter(|k| k.contains('-'))
            .map_or_else(|| r.id.to_string(), str::to_owned)
    });
    let milestone = related
        .iter()
        .find(|r| r.provider.as_str() == "github" && r.object.as_str() == "milestone")
        .map(|r| r.id.to_string());
    let value = DevflowProperty {
        kind: kind.map_or("item", ItemKind::as_str).to_owned(),
        id: marker.to_string(),
        jira_epic_key: jira_key,
        github_milestone: milestone,
        links: related
            .iter()
            .map(|r| json!({"provider": r.provider, "connection": r.connection, "object": r.object, "id": r.id, "url": r.url}))
            .collect(),
        synced_at: Utc::now().to_rfc3339(),
    };
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl ConfluenceProvider {
    /// A page as a record: its title and the host's section (as Markdown), its level and
    /// host item from the `devflow` property, its parent unless that is the root the
    /// tree hangs under, its version number.
    pub(crate) fn to_record(&self, page: &PageWire, root: Option<&str>) -> RemoteRecord {
        let property = property_of(page);
        let marker = property.as_ref().map(|(_, p)| ItemId::new(p.id.clone()));
        let kind = property
            .as_ref()
            .and_then(|(_, p)| p.kind.parse::<ItemKind>().ok());
        let title = match &marker {
            Some(m) => page
                .title
                .strip_suffix(&suffix(m))
                .unwrap_or(&page.title)
                .to_owned(),
            None => page.title.clone(),
        };
        let body = page
            .body
            .storage
            .as_ref()
            .map(|s| markdown_of(section(&s.value)))
            .unwrap_or_default();
        let updated = parse_time(page.version.created_at.as_deref())
            .or_else(|| parse_time(page.created_at.as_deref()))
            .unwrap_or_else(Utc::now);
        let mut record = Record::new("page", updated)
            .with_field(TITLE, title)
            .with_version(Version::new(page.version.number.to_string()));
        // An empty section is no text (as an item without a description has none).
        if !body.trim().is_empty() {
            record = record.with_field(BODY, body);
        }
        if let Some(kind) = kind {
            record = record.with_kind(kind);
        }
        if let Some(parent) = page.parent_id.as_deref().filter(|p| Some(*p) != root) {
            record = record.with_parent(ExternalId::new(parent));
        }
        let base = page
            .links
            .base
            .clone()
            .unwrap_or_else(|| format!("{}/wiki", self.site()));
        RemoteRecord {
            id: ExternalId::new(page.id.clone()),
            url: page.links.webui.as_ref().map(|w| format!("{base}{w}")),
            record,
            marker,
            deleted: GONE.contains(&page.status.as_str()),
        }
    }

    /// A page with its storage body and properties (trashed and archived ones too).
    pub(crate) async fn fetch_page(&self, connection: &ConnectionId, id: &str) -> Result<PageWire> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_input(
                "id",
                format!("{id:?} is not a Confluence page id"),
            ));
        }
        self.read(
            connection,
            &format!("/api/v2/pages/{id}?body-format=storage&include-properties=true&status=current,archived,trashed"),
            "Confluence page",
        )
        .await
    }

    /// A page as a record; a trashed or archived page is [`Error::NotFound`] (the
    /// change feed reports it as a deletion).
    pub(crate) async fn get_page(
        &self,
        connection: &ConnectionId,
        id: &str,
    ) -> Result<RemoteRecord> {
        let page = self.fetch_page(connection, id).await?;
        if GONE.contains(&page.status.as_str()) {
            return Err(Error::not_found(format!(
                "Confluence page {id} ({})",
                page.status
            )));
        }
        let root = self.root_page(connection).await?;
        Ok(self.to_record(&page, root.as_deref()))
    }

    /// Writes the `devflow` property of `page` (created, or updated on its version; a
    /// version another writer moved is read again once).
    pub(crate) async fn write_property(
        &self,
        connection: &ConnectionId,
        page: &mut PageWire,
        value: Value,
    ) -> Result<()> {
        for _ in 0..2 {
            let existing = page
                .properties
                .as_ref()
                .and_then(|l| l.results.iter().find(|p| p.key == PROPERTY).cloned());
            let result = match &existing {
                Some(p) => {
                    let body = json!({"key": PROPERTY, "value": value, "version": {"number": p.version.number + 1, "message": "DevFlow sync"}});
                    self.call(
                        connection,
                        Method::PUT,
                        &format!("/api/v2/pages/{}/properties/{}", page.id, p.id),
                        Some(&body),
                    )
                    .await
                }
                None => {
                    let body = json!({"key": PROPERTY, "value": value});
                    self.call(
                        connection,
                        Method::POST,
                        &format!("/api/v2/pages/{}/properties", page.id),
                        Some(&body),
                    )
                    .await
                }
            };
            match result {
                Ok(response) => {
                    let written: PropertyWire =
                        devflow_sync_core::api::parse_json("Confluence property", &response.body)?;
                    let list = page
                        .properties
                        .get_or_insert_with(|| crate::wire::ListWire {
                            results: Vec::new(),
                            links: crate::wire::LinksWire::default(),
                        });
                    list.results.retain(|p| p.key != PROPERTY);
                    list.results.push(written);
                    return Ok(());
                }
                Err(Error::Precondition(_) | Error::AlreadyExists(_)) => {
                    let fresh = self.fetch_page(connection, &page.id).await?;
                    page.properties = fresh.properties;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::precondition(format!(
            "the devflow property of Confluence page {} kept changing",
            page.id
        )))
    }

    /// The page of the space titled `title` that carries `marker`, if any.
    async fn page_titled(
        &self,
        connection: &ConnectionId,
        space: &str,
        title: &str,
        marker: &ItemId,
    ) -> Result<Option<PageWire>> {
        let t = devflow_sync_core::http::percent_encode(title);
        let list: crate::wire::ListWire<PageWire> = self
            .read(
                connection,
                &format!("/api/v2/pages?space-id={space}&title={t}"),
                "Confluence pages",
            )
            .await?;
        for found in list.results {
            let page = self.fetch_page(connection, &found.id).await?;
            if property_of(&page).is_some_and(|(_, p)| p.id == marker.as_str()) {
                return Ok(Some(page));
            }
        }
        Ok(None)
    }

    /// Creates a page from the template of its kind, under its parent (or the root),
    /// with the `devflow` property. A title the space already has is taken again by this
    /// item's page from an earlier try, or else gets the item's id as a suffix (which
    /// reads back without it).
    pub(crate) async fn create_page(
        &self,
        connection: &ConnectionId,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let space = self.space_info(connection).await?;
        let root = self.root_page(connection).await?;
        let title = new
            .fields
            .get(TITLE)
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::invalid_input("/fields/title", "a Confluence page needs a title")
            })?
            .to_owned();
        let markdown = new.fields.get(BODY).as_str().unwrap_or_default();
        let storage = self
            .config
            .templates
            .render(new.kind, &storage_of(markdown));
        let parent = new
            .parent
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| root.clone());
        let root_level = parent.is_none() && self.config.root == PageRoot::RootLevel;
        let path = if root_level {
            "/api/v2/pages?root-level=true"
        } else {
            "/api/v2/pages"
        };
        let mut page = None;
        for candidate in [title.clone(), format!("{title}{}", suffix(&new.marker))] {
            let mut body = json!({"spaceId": space.id, "status": "current", "title": candidate, "body": {"representation": "storage", "value": storage}});
            if let Some(p) = &parent {
                body["parentId"] = json!(p);
            }
            match self.call(connection, Method::POST, path, Some(&body)).await {
                Ok(response) => {
                    page = Some(devflow_sync_core::api::parse_json::<PageWire>(
                        "Confluence page",
                        &response.body,
                    )?);
                    break;
                }
                Err(Error::AlreadyExists(why)) => {
                    if let Some(earlier) = self
                        .page_titled(connection, &space.id, &candidate, &new.marker)
                        .await?
                    {
                        return Ok(self.to_record(&earlier, root.as_deref()));
                    }
                    tracing::debug!(title = %candidate, reason = %why, "Confluence title taken; trying with the item's id");
                }
                Err(e) => return Err(e),
            }
        }
        let mut page = page.ok_or_else(|| {
            Error::already_exists(format!(
                "a Confluence page titled {title:?} in space {}",
                space.key
            ))
        })?;
        self.write_property(
            connection,
            &mut page,
            property_value(new.kind, &new.marker, &new.related),
        )
        .await?;
        Ok(self.to_record(&page, root.as_deref()))
    }

    /// Applies an update on the version read (`expected`, when given, must still be the
    /// page's): title, the host's section, a move; cross-references into the property.
    pub(crate) async fn update_page(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        let mut page = self.fetch_page(connection, id.as_str()).await?;
        let root = self.root_page(connection).await?;
        if GONE.contains(&page.status.as_str()) {
            return Err(Error::not_found(format!(
                "Confluence page {id} is {}",
                page.status
            )));
        }
        if let Some(expected) = expected {
            if expected.as_str() != page.version.number.to_string() {
                return Err(Error::precondition(format!(
                    "Confluence page {id} is at version {}, not {expected}",
                    page.version.number
                )));
            }
        }
        let property = property_of(&page);
        let kind = property
            .as_ref()
            .and_then(|(_, p)| p.kind.parse::<ItemKind>().ok());
        let mut title = page.title.clone();
        let mut storage = page
            .body
            .storage
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_default();
        let mut changed = false;
        for change in &update.changes {
            match change.field.as_str() {
                TITLE => {
                    if let Some(t) = change.new.as_str().map(str::trim).filter(|t| !t.is_empty()) {
                        title = t.to_owned();
                        changed = true;
                    }
                }
                BODY => {
                    let md = change.new.as_str().unwrap_or_default();
                    storage =
                        replace_section(&storage, &storage_of(md), kind, &self.config.templates);
                    changed = true;
                }
                other => {
                    return Err(Error::invalid_input(
                        format!("/fields/{other}"),
                        "a Confluence page has a title and a body only",
                    ));
                }
            }
        }
        let parent = match &update.parent {
            Some(Some(p)) => Some(p.to_string()),
            Some(None) => root.clone(),
            None => None,
        };
        if changed || parent.is_some() {
            let marker = property.as_ref().map(|(_, p)| ItemId::new(p.id.clone()));
            let mut candidates = vec![title.clone()];
            if let Some(m) = &marker {
                if !title.ends_with(&suffix(m)) {
                    candidates.push(format!("{title}{}", suffix(m)));
                }
            }
            let mut written = None;
            for candidate in candidates {
                let mut body = json!({"id": page.id, "status": "current", "title": candidate, "body": {"representation": "storage", "value": storage}, "version": {"number": page.version.number + 1, "message": "DevFlow sync"}});
                if let Some(p) = &parent {
                    body["parentId"] = json!(p);
                }
                match self
                    .call(
                        connection,
                        Method::PUT,
                        &format!("/api/v2/pages/{}", page.id),
                        Some(&body),
                    )
                    .await
                {
                    Ok(response) => {
                        written = Some(devflow_sync_core::api::parse_json::<PageWire>(
                            "Confluence page",
                            &response.body,
                        )?);
                        break;
                    }
                    Err(Error::AlreadyExists(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            let mut fresh = written.ok_or_else(|| {
                Error::already_exists(format!("another Confluence page titled {title:?}"))
            })?;
            fresh.properties = page.properties.take();
            page = fresh;
        }
        if let Some(related) = &update.related {
            let marker = property
                .as_ref()
                .map(|(_, p)| ItemId::new(p.id.clone()))
                .ok_or_else(|| {
                    Error::precondition(format!("Confluence page {id} has no devflow property"))
                })?;
            self.write_property(
                connection,
                &mut page,
                property_value(kind, &marker, related),
            )
            .await?;
        }
        Ok(self.to_record(&page, root.as_deref()))
    }

    /// Purges a trashed page for good (what a person asks for; the sync itself only
    /// trashes). [`Error::InvalidInput`] when the page is not in the trash.
    pub async fn purge_page(&self, connection: &ConnectionId, id: &ExternalId) -> Result<()> {
        let page = self.fetch_page(connection, id.as_str()).await?;
        if page.status != "trashed" {
            return Err(Error::invalid_input(
                "id",
                format!("Confluence page {id} is {}, not in the trash", page.status),
            ));
        }
        self.call(
            connection,
            Method::DELETE,
            &format!("/api/v2/pages/{}?purge=true", id.as_str()),
            None,
        )
        .await?;
        Ok(())
    }

    /// Moves a page to the trash (already gone is done).
    pub(crate) async fn trash_page(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
    ) -> Result<()> {
        match self
            .call(
                connection,
                Method::DELETE,
                &format!("/api/v2/pages/{}", id.as_str()),
                None,
            )
            .await
        {
            Ok(_) | Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
