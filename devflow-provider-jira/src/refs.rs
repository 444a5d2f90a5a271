//! Cross-references: the item's records in the other systems, kept in the `devflow`
//! property's `metadata` (and in the Confluence Page ID and GitHub Issue Number fields
//! when they are set up).

use devflow_sync_core::model::ExternalRef;
use serde_json::{Map, Value, json};

/// The `metadata` of the `devflow` property for `related`: every link, plus the keys
/// people and tools look for (`githubIssueNumber`, `githubIssueUrl`,
/// `confluencePageId`, `confluencePageUrl`).
///
/// ```
/// use devflow_provider_jira::refs::metadata;
/// use devflow_sync_core::model::ExternalRef;
/// let gh = ExternalRef {
///     provider: "github".into(), connection: "gh".into(), object: "issue".into(),
///     id: "acme/app#7".into(), url: Some("https://github.com/acme/app/issues/7".into()),
/// };
/// let m = metadata(&[gh]);
/// assert_eq!(m["githubIssueNumber"], 7);
/// assert_eq!(m["links"][0]["connection"], "gh");
/// ```
pub fn metadata(related: &[ExternalRef]) -> Value {
    let mut out = Map::new();
    let links: Vec<Value> = related
        .iter()
        .map(|r| {
            json!({"provider": r.provider.as_str(), "connection": r.connection.as_str(),
                   "object": r.object.as_str(), "id": r.id.as_str(), "url": r.url})
        })
        .collect();
    out.insert("links".into(), Value::Array(links));
    for r in related {
        match r.provider.as_str() {
            "github" => {
                if let Some(n) =
                    r.id.as_str()
                        .rsplit('#')
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                {
                    out.insert("githubIssueNumber".into(), json!(n));
                }
                out.insert("githubIssueUrl".into(), json!(r.url));
            }
            "confluence" => {
                out.insert("confluencePageId".into(), json!(r.id.as_str()));
                out.insert("confluencePageUrl".into(), json!(r.url));
            }
            _ => {}
        }
    }
    Value::Object(out)
}
