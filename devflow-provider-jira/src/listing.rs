//! Listing through `GET /rest/api/3/search/jql`: a bounded delta JQL in the user's
//! time zone with an overlapping window, explicit fields, the `devflow` property, and
//! `nextPageToken` wrapped in a token of our own that names the query it belongs to.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use devflow_sync_core::http::{Method, percent_encode};
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::provider::{ChangeQuery, Page};
use devflow_sync_core::{Error, Result};

use crate::client::JiraProvider;
use crate::wire::{LIST_FIELDS, PROPERTY_KEY, search_page};

/// Our page tokens: `jira1 <query hash> <delta bound, `_` for space, `-` for none> <Jira's token>`.
const TOKEN_PREFIX: &str = "jira1";

/// The largest page asked for (Jira returns at most 100 issues with full fields).
pub const MAX_PAGE: usize = 100;

/// When no zone is known, how far a delta reaches back so that any zone is covered.
const UNKNOWN_ZONE_OVERLAP: i64 = 14 * 3600;

fn hash(text: &str) -> u64 {
    // FNV-1a: stable across processes, as stored tokens need.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A JQL string literal.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `since - overlap` in JQL's `yyyy-MM-dd HH:mm`, in `zone` (or far enough back when the
/// zone is unknown).
pub fn jql_since(
    since: DateTime<Utc>,
    zone: Option<FixedOffset>,
    overlap: std::time::Duration,
) -> String {
    let overlap = Duration::from_std(overlap).unwrap_or(Duration::minutes(2));
    let (start, zone) = match zone {
        Some(z) => (since.checked_sub_signed(overlap).unwrap_or(since), z),
        None => (
            since
                .checked_sub_signed(overlap + Duration::seconds(UNKNOWN_ZONE_OVERLAP))
                .unwrap_or(since),
            FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("zero is a valid offset")),
        ),
    };
    start
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl JiraProvider {
    /// The JQL of a listing: the project, the rule's fragment, the delta bound.
    pub fn list_jql(&self, query: &ChangeQuery) -> String {
        let since = query
            .since
            .map(|t| jql_since(t, self.zone(), self.config.overlap));
        self.jql_with(query, since.as_deref())
    }

    fn jql_with(&self, query: &ChangeQuery, since: Option<&str>) -> String {
        let mut jql = format!("project = {}", quote(&self.config.project));
        if let Some(fragment) = query.filter.jql.as_deref().filter(|f| !f.trim().is_empty()) {
            jql.push_str(&format!(" AND ({fragment})"));
        }
        if let Some(since) = since {
            jql.push_str(&format!(" AND updated >= {}", quote(since)));
        }
        jql.push_str(" ORDER BY updated ASC, key ASC");
        jql
    }

    /// One page of issues changed since `query.since`, oldest first.
    pub(crate) async fn list_issues(
        &self,
        connection: &ConnectionId,
        query: &ChangeQuery,
    ) -> Result<Page> {
        // A pass keeps the bound it started with (the zone may be learned meanwhile), so
        // Jira's token stays valid for the query it was issued for.
        let (since, inner) = match query.page_token.as_deref() {
            None => (
                query
                    .since
                    .map(|t| jql_since(t, self.zone(), self.config.overlap)),
                None,
            ),
            Some(token) => {
                let stale = || {
                    Error::StalePageToken(
                        "the Jira page token belongs to another query or version".into(),
                    )
                };
                let mut parts = token.splitn(4, ' ');
                let (Some(TOKEN_PREFIX), Some(tag), Some(since), Some(inner)) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(stale());
                };
                let since = (since != "-").then(|| since.replace('_', " "));
                let jql = self.jql_with(query, since.as_deref());
                if tag != format!("{:016x}", hash(&jql))
                    || inner.is_empty()
                    || since.is_some() != query.since.is_some()
                {
                    return Err(stale());
                }
                (since, Some(inner.to_owned()))
            }
        };
        let jql = self.jql_with(query, since.as_deref());
        let tag = format!("{:016x}", hash(&jql));
        let limit = query.limit.clamp(1, MAX_PAGE);
        let mut path = format!(
            "/rest/api/3/search/jql?jql={}&maxResults={limit}&fields={LIST_FIELDS}&properties={PROPERTY_KEY}",
            percent_encode(&jql)
        );
        if let Some(inner) = &inner {
            path.push_str(&format!("&nextPageToken={}", percent_encode(inner)));
        }
        let reconcile = self.reconcile();
        if !reconcile.is_empty() {
            path.push_str(&format!("&reconcileIssues={reconcile}"));
        }
        let response = self.call(connection, Method::GET, &path, None).await?;
        let (mut records, next) =
            search_page(&response.body, &self.config.issue_types, self.site())?;
        if let Some(v) = records.last().and_then(|r| r.record.version.as_ref()) {
            self.learn_zone(v.as_str());
        }
        // JQL has minute precision and the window overlaps: drop what is older.
        if let Some(since) = query.since {
            records.retain(|r| r.record.updated_at >= since);
        }
        Ok(Page {
            records,
            next_page_token: next.map(|n| {
                let since = since
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |s| s.replace(' ', "_"));
                format!("{TOKEN_PREFIX} {tag} {since} {n}")
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_delta_bound_is_written_in_the_user_zone_and_overlaps() {
        let since = Utc.with_ymd_and_hms(2026, 4, 28, 13, 35, 30).unwrap();
        let warsaw = FixedOffset::east_opt(7200);
        let two_min = std::time::Duration::from_secs(120);
        assert_eq!(jql_since(since, warsaw, two_min), "2026-04-28 15:33");
        assert_eq!(jql_since(since, None, two_min), "2026-04-27 23:33");
        assert_eq!(quote(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }
}
