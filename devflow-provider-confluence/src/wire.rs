//! Confluence's answers as typed structs: v2 pages, spaces and content properties,
//! v1 search results, and the `devflow` content property.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A page's version.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionWire {
    /// The number, 1 for a new page.
    pub number: u64,
    /// When it was made.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A storage body.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StorageWire {
    /// The storage format.
    #[serde(default)]
    pub value: String,
}

/// A page's body, as asked for.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BodyWire {
    /// The storage format, with `body-format=storage`.
    #[serde(default)]
    pub storage: Option<StorageWire>,
}

/// A page's links.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LinksWire {
    /// The page for a person, under `base`.
    #[serde(default)]
    pub webui: Option<String>,
    /// The site's wiki URL.
    #[serde(default)]
    pub base: Option<String>,
    /// The next page of a list.
    #[serde(default)]
    pub next: Option<String>,
}

/// A content property.
#[derive(Clone, Debug, Deserialize)]
pub struct PropertyWire {
    /// Its id.
    pub id: String,
    /// Its key.
    pub key: String,
    /// Its value.
    #[serde(default)]
    pub value: Value,
    /// Its version.
    #[serde(default)]
    pub version: VersionWire,
}

/// A list of results with the link to the next page.
#[derive(Clone, Debug, Deserialize)]
pub struct ListWire<T> {
    /// The results.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// `next` when there is another page.
    #[serde(default, rename = "_links")]
    pub links: LinksWire,
}

/// A v2 page.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageWire {
    /// The id (a numeric string).
    pub id: String,
    /// `current`, `draft`, `archived`, `trashed`.
    #[serde(default)]
    pub status: String,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The space's id.
    #[serde(default)]
    pub space_id: String,
    /// The parent page.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The current version.
    #[serde(default)]
    pub version: VersionWire,
    /// The body, as asked for.
    #[serde(default)]
    pub body: BodyWire,
    /// Its content properties, with `include-properties=true`.
    #[serde(default)]
    pub properties: Option<ListWire<PropertyWire>>,
    /// Links for a person.
    #[serde(default, rename = "_links")]
    pub links: LinksWire,
}

/// A v2 space.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceWire {
    /// The numeric id.
    pub id: String,
    /// The key.
    pub key: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The homepage's id.
    #[serde(default)]
    pub homepage_id: Option<String>,
    /// Links for a person.
    #[serde(default, rename = "_links")]
    pub links: LinksWire,
}

/// What a v1 search result holds of the content.
#[derive(Clone, Debug, Deserialize)]
pub struct ContentWire {
    /// The id.
    pub id: String,
    /// `page`, `blogpost`...
    #[serde(default, rename = "type")]
    pub kind: String,
}

/// One v1 search result.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResultWire {
    /// The content found (absent for spaces and people).
    #[serde(default)]
    pub content: Option<ContentWire>,
    /// When it was last modified.
    #[serde(default)]
    pub last_modified: Option<String>,
}

/// The `devflow` content property: the page's host item, its level and the item's
/// records in the other systems.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevflowProperty {
    /// The level: `prd`, `epic`, `story`, `task` or `subtask`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The host item's id.
    pub id: String,
    /// The Jira epic key of the item, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira_epic_key: Option<String>,
    /// The GitHub milestone of the item, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_milestone: Option<String>,
    /// Every other system's record of the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Value>,
    /// When DevFlow last wrote it.
    #[serde(default)]
    pub synced_at: String,
}

/// The property key.
pub const PROPERTY: &str = "devflow";
