//! DevFlow's custom fields: created once per site, found by name afterwards, with a
//! context for the projects synced. Without admin rights the sync works on issue
//! properties alone.

use std::collections::BTreeMap;

use devflow_sync_core::http::Method;
use devflow_sync_core::model::{ConnectionId, ItemKind};
use devflow_sync_core::{Error, Result};
use serde::Serialize;
use serde_json::{Value, json};

use crate::client::JiraProvider;

/// The Sync Status field.
pub const SYNC_STATUS: &str = "DevFlow Sync Status";
/// The Last Sync field.
pub const LAST_SYNC: &str = "DevFlow Last Sync";

const TEXT: (&str, &str) = (
    "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
    "com.atlassian.jira.plugin.system.customfieldtypes:textsearcher",
);
const NUMBER: (&str, &str) = (
    "com.atlassian.jira.plugin.system.customfieldtypes:float",
    "com.atlassian.jira.plugin.system.customfieldtypes:exactnumber",
);
const SELECT: (&str, &str) = (
    "com.atlassian.jira.plugin.system.customfieldtypes:select",
    "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher",
);
const DATETIME: (&str, &str) = (
    "com.atlassian.jira.plugin.system.customfieldtypes:datetime",
    "com.atlassian.jira.plugin.system.customfieldtypes:datetimerange",
);

/// The options of the Sync Status field.
pub const SYNC_STATUSES: [&str; 4] = ["synced", "conflict", "pending", "error"];

/// The name of the DevFlow ID field of a level (`DevFlow Story ID`).
pub fn id_field_name(kind: ItemKind) -> String {
    format!("DevFlow {} ID", kind.label())
}

/// Every DevFlow field: name, type, searcher.
pub fn definitions() -> Vec<(String, &'static str, &'static str)> {
    let mut out: Vec<(String, &str, &str)> = ItemKind::ALL
        .iter()
        .map(|k| (id_field_name(*k), TEXT.0, TEXT.1))
        .collect();
    out.push((SYNC_STATUS.into(), SELECT.0, SELECT.1));
    out.push((LAST_SYNC.into(), DATETIME.0, DATETIME.1));
    out.push(("Confluence Page ID".into(), TEXT.0, TEXT.1));
    out.push(("GitHub Issue Number".into(), NUMBER.0, NUMBER.1));
    out.push(("GitHub PR Number".into(), NUMBER.0, NUMBER.1));
    out
}

/// What `setup_custom_fields` found and made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FieldSetup {
    /// Fields created now: name -> id.
    pub created: BTreeMap<String, String>,
    /// Fields that already existed: name -> id.
    pub existing: BTreeMap<String, String>,
    /// Why fields could not be created (no admin rights), if so: the sync then works
    /// on issue properties alone.
    pub refused: Option<String>,
}

impl FieldSetup {
    /// Every field known, created or existing: name -> id.
    pub fn all(&self) -> BTreeMap<String, String> {
        let mut all = self.existing.clone();
        all.extend(self.created.clone());
        all
    }
}

impl JiraProvider {
    /// The DevFlow fields in use (name -> `customfield_NNNNN`).
    pub fn custom_fields(&self) -> BTreeMap<String, String> {
        self.fields
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Creates the DevFlow custom fields that do not exist yet (found by name), each with
    /// a context for `project_ids` (numeric ids; the configured project's when empty), and
    /// the Sync Status options. Idempotent. Without admin rights (a 403, or a 401 for a
    /// missing `manage:jira-configuration` scope) it reports the refusal in
    /// [`FieldSetup::refused`] and changes nothing; the sync keeps working on properties.
    /// The fields found are used from then on (Sync Status and Last Sync kept current,
    /// the DevFlow ID fields for marker lookups).
    pub async fn setup_custom_fields(
        &self,
        connection: &ConnectionId,
        project_ids: &[String],
    ) -> Result<FieldSetup> {
        let response = self
            .call(connection, Method::GET, "/rest/api/3/field", None)
            .await?;
        let listed: Vec<Value> = devflow_sync_core::api::parse_json("Jira fields", &response.body)?;
        let by_name: BTreeMap<String, String> = listed
            .iter()
            .filter(|f| f.get("custom").and_then(Value::as_bool) == Some(true))
            .filter_map(|f| {
                Some((
                    f.get("name")?.as_str()?.to_owned(),
                    f.get("id")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        let projects = if project_ids.is_empty() {
            vec![self.project_info(connection).await?.id]
        } else {
            project_ids.to_vec()
        };
        let mut setup = FieldSetup::default();
        for (name, kind, searcher) in definitions() {
            if let Some(id) = by_name.get(&name) {
                setup.existing.insert(name, id.clone());
                continue;
            }
            let body = json!({"name": name, "description": "Kept by DevFlow sync.", "type": kind, "searcherKey": searcher});
            let created = match self
                .call(connection, Method::POST, "/rest/api/3/field", Some(&body))
                .await
            {
                Ok(r) => r,
                Err(e @ (Error::PermissionDenied(_) | Error::Unauthenticated(_))) => {
                    setup.refused = Some(format!(
                        "creating Jira custom fields needs Jira admin rights (and the manage:jira-configuration scope for OAuth): {e}"
                    ));
                    break;
                }
                Err(e) => return Err(e),
            };
            let field: Value = devflow_sync_core::api::parse_json("Jira field", &created.body)?;
            let id = field
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let context =
                json!({"name": "DevFlow projects", "projectIds": projects, "issueTypeIds": []});
            let made = self
                .call(
                    connection,
                    Method::POST,
                    &format!("/rest/api/3/field/{id}/context"),
                    Some(&context),
                )
                .await?;
            if kind == SELECT.0 {
                let ctx: Value = devflow_sync_core::api::parse_json("Jira context", &made.body)?;
                let ctx_id = ctx.get("id").and_then(Value::as_str).unwrap_or_default();
                let options: Vec<Value> = SYNC_STATUSES
                    .iter()
                    .map(|v| json!({"value": v, "disabled": false}))
                    .collect();
                self.call(
                    connection,
                    Method::POST,
                    &format!("/rest/api/3/field/{id}/context/{ctx_id}/option"),
                    Some(&json!({"options": options})),
                )
                .await?;
            }
            setup.created.insert(name, id);
        }
        self.fields
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(setup.all());
        Ok(setup)
    }
}
