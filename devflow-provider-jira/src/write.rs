//! Writing issues: create (type per level, parent through `fields.parent` where Jira's
//! hierarchy holds it, the `devflow` property in the same request), update (fields,
//! the parent, status through a transition looked up by its target), delete, and the
//! marker lookup.

use chrono::{SecondsFormat, Utc};
use devflow_sync_core::http::{Method, percent_encode};
use devflow_sync_core::model::{ConnectionId, ExternalId, FieldValue, Fields, ItemId, ItemKind};
use devflow_sync_core::provider::{NewRemote, RemoteRecord, RemoteUpdate};
use devflow_sync_core::{Error, Result};
use serde_json::{Map, Value, json};

use crate::client::{JiraProvider, ProjectInfo};
use crate::fields::{LAST_SYNC, SYNC_STATUS, id_field_name};
use crate::listing::{jql_since, quote};
use crate::wire::{DevflowProperty, LIST_FIELDS, PROPERTY_KEY, issue_from_json, search_page};

/// Jira's request value of a record field.
fn value_of(name: &str, value: &FieldValue) -> Option<Value> {
    Some(match (name, value) {
        (_, FieldValue::Null) => Value::Null,
        ("description", v) => crate::adf::from_markdown(v.as_str().unwrap_or("")),
        ("priority", v) => json!({"name": v.as_str()?}),
        ("assignee", FieldValue::User(u)) => json!({"accountId": u.id}),
        ("assignee", v) => json!({"accountId": v.as_str()?}),
        (_, FieldValue::Set(s)) => json!(s),
        (_, FieldValue::Date(d)) => json!(d.format("%Y-%m-%d").to_string()),
        (_, FieldValue::DateTime(t)) => json!(t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()),
        (_, FieldValue::Number(n)) => json!(n),
        (_, FieldValue::Bool(b)) => json!(b),
        (_, FieldValue::Json(j)) => j.clone(),
        (_, FieldValue::User(u)) => json!({"accountId": u.id}),
        (_, other) => json!(other.as_str()?),
    })
}

/// The `fields` of a request: every writable field of `fields` (not `status`, which
/// moves by transition, nor the read-only `issuetype`). A `null` priority is left out.
pub(crate) fn fields_body(fields: &Fields) -> Map<String, Value> {
    fields
        .iter()
        .filter(|(name, value)| {
            let read_only = matches!(*name, "status" | "issuetype" | "key" | "id" | "updated");
            !(read_only || *name == "priority" && value.is_null())
        })
        .filter_map(|(name, value)| value_of(name, value).map(|v| (name.to_owned(), v)))
        .collect()
}

/// The level above `kind`.
fn parent_kind(kind: ItemKind) -> Option<ItemKind> {
    let level = kind.level();
    level
        .checked_sub(1)
        .and_then(|l| ItemKind::ALL.get(l).copied())
}

impl JiraProvider {
    /// Whether Jira's own `parent` can hold the link of a `kind` to its parent (a story
    /// under an epic, a sub-task under a task), or DevFlow's property must.
    pub(crate) fn direct_parent(&self, info: &ProjectInfo, kind: ItemKind) -> Result<bool> {
        let Some(parent) = parent_kind(kind) else {
            return Ok(false);
        };
        let child = self.type_for(info, kind)?.hierarchy_level;
        Ok(self.type_for(info, parent)?.hierarchy_level == child + 1)
    }

    /// Sets the DevFlow ID, Sync Status and Last Sync fields, where they are set up.
    fn devflow_fields(
        &self,
        body: &mut Map<String, Value>,
        kind: Option<ItemKind>,
        marker: Option<&ItemId>,
    ) {
        let fields = self
            .fields
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let (Some(kind), Some(marker)) = (kind, marker) {
            if let Some(id) = fields.get(&id_field_name(kind)) {
                body.insert(id.clone(), json!(marker.as_str()));
            }
        }
        if let Some(id) = fields.get(SYNC_STATUS) {
            body.insert(id.clone(), json!({"value": "synced"}));
        }
        if let Some(id) = fields.get(LAST_SYNC) {
            body.insert(
                id.clone(),
                json!(Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()),
            );
        }
    }

    /// The Confluence Page ID and GitHub Issue Number fields, where they are set up.
    fn ref_fields(
        &self,
        body: &mut Map<String, Value>,
        related: &[devflow_sync_core::model::ExternalRef],
    ) {
        let fields = self
            .fields
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let meta = crate::refs::metadata(related);
        if let (Some(id), Some(page)) = (
            fields.get("Confluence Page ID"),
            meta.get("confluencePageId"),
        ) {
            body.insert(id.clone(), page.clone());
        }
        if let (Some(id), Some(n)) = (
            fields.get("GitHub Issue Number"),
            meta.get("githubIssueNumber"),
        ) {
            body.insert(id.clone(), n.clone());
        }
    }

    /// `GET issue` with the synced fields and the property.
    pub(crate) async fn get_issue(
        &self,
        connection: &ConnectionId,
        id: &str,
    ) -> Result<RemoteRecord> {
        let path = format!(
            "/rest/api/3/issue/{}?fields={LIST_FIELDS}&properties={PROPERTY_KEY}",
            percent_encode(id)
        );
        let response = self.call(connection, Method::GET, &path, None).await?;
        let record = issue_from_json(&response.body, &self.config.issue_types, self.site())?;
        if let Some(marker) = &record.marker {
            self.markers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(record.id.as_str().to_owned(), marker.as_str().to_owned());
        }
        Ok(record)
    }

    /// The host id of issue `id` (its property's `id`), from what was seen or read now.
    async fn host_id_of(&self, connection: &ConnectionId, id: &str) -> Result<Option<String>> {
        let known = self
            .markers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        match known {
            Some(m) => Ok(Some(m)),
            None => Ok(self.property(connection, id).await?.id),
        }
    }

    pub(crate) async fn create_issue(
        &self,
        connection: &ConnectionId,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let info = self.project_info(connection).await?;
        let kind = new.kind.unwrap_or(ItemKind::Task);
        let ty = self.type_for(&info, kind)?;
        let mut fields = fields_body(&new.fields);
        fields.insert("project".into(), json!({"key": info.key}));
        fields.insert("issuetype".into(), json!({"id": ty.id}));
        let mut property = DevflowProperty {
            kind: Some(kind),
            id: Some(new.marker.as_str().to_owned()),
            synced_at: Some(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
            conflict_status: Some("synced".into()),
            metadata: (!new.related.is_empty()).then(|| crate::refs::metadata(&new.related)),
            ..DevflowProperty::default()
        };
        self.ref_fields(&mut fields, &new.related);
        if let Some(parent) = &new.parent {
            property.parent_id = self.host_id_of(connection, parent.as_str()).await?;
            if self.direct_parent(&info, kind)? {
                fields.insert("parent".into(), json!({"id": parent.as_str()}));
            } else {
                property.parent_issue_id = Some(parent.as_str().to_owned());
            }
        }
        self.devflow_fields(&mut fields, Some(kind), Some(&new.marker));
        let body =
            json!({"fields": fields, "properties": [{"key": PROPERTY_KEY, "value": property}]});
        // Not idempotent: a retried create is recovered by its marker instead.
        let response = self
            .call(connection, Method::POST, "/rest/api/3/issue", Some(&body))
            .await?;
        let created: Value = devflow_sync_core::api::parse_json("Jira", &response.body)?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::invalid_input("/id", "Jira answered a create without an issue id")
            })?
            .to_owned();
        self.wrote(&id);
        if let Some(status) = new.fields.get("status").as_str() {
            self.transition_to(connection, &id, status).await?;
        }
        self.get_issue(connection, &id).await
    }

    pub(crate) async fn update_issue(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
        update: &RemoteUpdate,
    ) -> Result<RemoteRecord> {
        let mut changed = Fields::new();
        changed.apply(&update.changes);
        let mut body = fields_body(&changed);
        if let (Some(related), None) = (&update.related, &update.parent) {
            let mut property = self.property(connection, id.as_str()).await?;
            property.metadata = Some(crate::refs::metadata(related));
            self.put_property(connection, id.as_str(), &property)
                .await?;
            self.ref_fields(&mut body, related);
        }
        if let Some(parent) = &update.parent {
            let current = self.get_issue(connection, id.as_str()).await?;
            let info = self.project_info(connection).await?;
            let mut property = self.property(connection, id.as_str()).await?;
            let kind = current.record.kind.unwrap_or(ItemKind::Task);
            let was_direct = current.record.parent.is_some()
                && current.record.parent.as_ref().map(ExternalId::as_str)
                    != property.parent_issue_id.as_deref();
            property.parent_id = match parent {
                Some(p) => self.host_id_of(connection, p.as_str()).await?,
                None => None,
            };
            match parent {
                Some(p) if self.direct_parent(&info, kind)? => {
                    body.insert("parent".into(), json!({"id": p.as_str()}));
                    property.parent_issue_id = None;
                }
                Some(p) => {
                    if was_direct {
                        body.insert("parent".into(), Value::Null);
                    }
                    property.parent_issue_id = Some(p.as_str().to_owned());
                }
                None => {
                    if was_direct {
                        body.insert("parent".into(), Value::Null);
                    }
                    property.parent_issue_id = None;
                }
            }
            property.synced_at = Some(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
            self.put_property(connection, id.as_str(), &property)
                .await?;
        }
        if !body.is_empty() {
            self.devflow_fields(&mut body, None, None);
            let path = format!("/rest/api/3/issue/{}", percent_encode(id.as_str()));
            self.call(
                connection,
                Method::PUT,
                &path,
                Some(&json!({"fields": body})),
            )
            .await?;
        }
        self.wrote(id.as_str());
        if changed.contains("status") {
            if let Some(status) = changed.get("status").as_str() {
                self.transition_to(connection, id.as_str(), status).await?;
            }
        }
        self.get_issue(connection, id.as_str()).await
    }

    /// The `devflow` property of an issue (empty when it has none).
    pub async fn property(&self, connection: &ConnectionId, id: &str) -> Result<DevflowProperty> {
        let path = format!(
            "/rest/api/3/issue/{}/properties/{PROPERTY_KEY}",
            percent_encode(id)
        );
        match self.call(connection, Method::GET, &path, None).await {
            Ok(r) => {
                let v: Value = devflow_sync_core::api::parse_json("Jira property", &r.body)?;
                Ok(
                    serde_json::from_value(v.get("value").cloned().unwrap_or(Value::Null))
                        .unwrap_or_default(),
                )
            }
            Err(Error::NotFound(_)) => Ok(DevflowProperty::default()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn put_property(
        &self,
        connection: &ConnectionId,
        id: &str,
        property: &DevflowProperty,
    ) -> Result<()> {
        let path = format!(
            "/rest/api/3/issue/{}/properties/{PROPERTY_KEY}",
            percent_encode(id)
        );
        let body = serde_json::to_value(property)
            .map_err(|e| Error::invalid_input("devflow", e.to_string()))?;
        self.call(connection, Method::PUT, &path, Some(&body))
            .await?;
        Ok(())
    }

    /// Moves an issue to `target` through the transition of its workflow that leads
    /// there. [`Error::InvalidInput`] (pointer `/fields/status`) names the statuses
    /// reachable when none does.
    pub async fn transition_to(
        &self,
        connection: &ConnectionId,
        id: &str,
        target: &str,
    ) -> Result<()> {
        let path = format!("/rest/api/3/issue/{}/transitions", percent_encode(id));
        let response = self.call(connection, Method::GET, &path, None).await?;
        let listed: Value = devflow_sync_core::api::parse_json("Jira transitions", &response.body)?;
        let transitions = listed
            .get("transitions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let to_name = |t: &Value| {
            t.pointer("/to/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let Some(chosen) = transitions
            .iter()
            .find(|t| to_name(t).eq_ignore_ascii_case(target))
        else {
            let reachable: Vec<String> = transitions.iter().map(to_name).collect();
            return Err(Error::InvalidInput {
                pointer: Some("/fields/status".into()),
                message: format!(
                    "no transition of Jira issue {id} leads to status {target:?}; reachable from its status: {}",
                    if reachable.is_empty() {
                        "none".to_owned()
                    } else {
                        reachable.join(", ")
                    }
                ),
            });
        };
        let body = json!({"transition": {"id": chosen.get("id").cloned().unwrap_or(Value::Null)}});
        self.call(connection, Method::POST, &path, Some(&body))
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_issue(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
    ) -> Result<()> {
        let path = format!(
            "/rest/api/3/issue/{}?deleteSubtasks=true",
            percent_encode(id.as_str())
        );
        match self.call(connection, Method::DELETE, &path, None).await {
            Ok(_) | Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The issue carrying `marker`: by the DevFlow ID fields when they are set up
    /// (properties cannot be searched by a 3LO or API-token client), else among the
    /// issues created in the last `marker_scan_window`.
    pub(crate) async fn find_marker(
        &self,
        connection: &ConnectionId,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        let fields = self
            .fields
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let ids: Vec<String> = ItemKind::ALL
            .iter()
            .filter_map(|k| fields.get(&id_field_name(*k)))
            .map(|id| {
                format!(
                    "cf[{}] ~ {}",
                    id.trim_start_matches("customfield_"),
                    quote(marker.as_str())
                )
            })
            .collect();
        let project = format!("project = {}", quote(&self.config.project));
        let jql = if ids.is_empty() {
            let since = Utc::now()
                .checked_sub_signed(
                    chrono::Duration::from_std(self.config.marker_scan_window)
                        .unwrap_or(chrono::Duration::hours(24)),
                )
                .unwrap_or_else(Utc::now);
            format!(
                "{project} AND created >= {} ORDER BY created DESC",
                quote(&jql_since(since, self.zone(), self.config.overlap))
            )
        } else {
            format!("{project} AND ({}) ORDER BY created DESC", ids.join(" OR "))
        };
        let mut token: Option<String> = None;
        for _ in 0..50 {
            let mut path = format!(
                "/rest/api/3/search/jql?jql={}&maxResults=100&fields={LIST_FIELDS}&properties={PROPERTY_KEY}",
                percent_encode(&jql)
            );
            if let Some(t) = &token {
                path.push_str(&format!("&nextPageToken={}", percent_encode(t)));
            }
            let response = self.call(connection, Method::GET, &path, None).await?;
            let (records, next) =
                search_page(&response.body, &self.config.issue_types, self.site())?;
            if let Some(found) = records
                .into_iter()
                .find(|r| r.marker.as_ref() == Some(marker))
            {
                return Ok(Some(found));
            }
            match next {
                Some(n) => token = Some(n),
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}
