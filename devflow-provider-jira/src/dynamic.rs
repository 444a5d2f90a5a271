//! Dynamic webhooks of an OAuth 2.0 (3LO) app: registered with a JQL filter through
//! `POST /rest/api/3/webhook`, expiring after 30 days unless refreshed
//! (`PUT /rest/api/3/webhook/refresh`, a call the host's scheduler makes when
//! [`WebhookRegistrationRecord::refresh_due`] says so; [`JiraProvider::refresh_due_webhooks`]
//! does it from the [`ConnectionStore`]), and delivered with
//! `Authorization: Bearer <JWT>` signed HS256 with the app's client secret.

use chrono::{DateTime, Duration, Utc};
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::http::Method;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::{ConnectionStore, WebhookRegistrationRecord};
use devflow_sync_core::{Error, Result};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::JiraProvider;
use crate::listing::quote;

/// The events DevFlow registers for.
pub const EVENTS: [&str; 3] = [
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
];

/// How long before its expiry a registration is due for a refresh.
pub const REFRESH_MARGIN_DAYS: i64 = 7;

fn expiry(ms: Option<i64>) -> DateTime<Utc> {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_else(|| Utc::now() + Duration::days(30))
}

fn margin() -> Duration {
    Duration::days(REFRESH_MARGIN_DAYS)
}

impl JiraProvider {
    /// Registers a dynamic webhook to `url` for the issue events of the project (a JQL
    /// filter `project = KEY`, plus `jql` when given, in the JQL subset dynamic webhooks
    /// take). Returns the registrations with their expiry and refresh date (a week
    /// before), ready for [`ConnectionStore::put_registration`].
    pub async fn register_webhooks(
        &self,
        connection: &ConnectionId,
        url: &str,
        jql: Option<&str>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        let mut filter = format!("project = {}", quote(&self.config.project));
        if let Some(extra) = jql.filter(|j| !j.trim().is_empty()) {
            filter.push_str(&format!(" AND {extra}"));
        }
        let body = json!({"url": url, "webhooks": [{"events": EVENTS, "jqlFilter": filter}]});
        let response = self
            .call(connection, Method::POST, "/rest/api/3/webhook", Some(&body))
            .await?;
        let answer: Value =
            devflow_sync_core::api::parse_json("Jira webhook registration", &response.body)?;
        let mut ids = Vec::new();
        for (i, result) in answer
            .get("webhookRegistrationResult")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            match result.get("createdWebhookId").and_then(Value::as_u64) {
                Some(id) => ids.push(id),
                None => {
                    return Err(Error::invalid_input(
                        format!("/webhookRegistrationResult/{i}"),
                        format!(
                            "Jira refused the webhook: {}",
                            result.get("errors").unwrap_or(&Value::Null)
                        ),
                    ));
                }
            }
        }
        let listed = self
            .call(connection, Method::GET, "/rest/api/3/webhook", None)
            .await?;
        let listed: Value = devflow_sync_core::api::parse_json("Jira webhooks", &listed.body)?;
        let expiries: Vec<(u64, Option<i64>)> = listed
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|w| {
                Some((
                    w.get("id")?.as_u64()?,
                    w.get("expirationDate").and_then(Value::as_i64),
                ))
            })
            .collect();
        Ok(ids
            .into_iter()
            .map(|id| {
                let expires_at = expiry(
                    expiries
                        .iter()
                        .find(|(i, _)| *i == id)
                        .and_then(|(_, e)| *e),
                );
                WebhookRegistrationRecord::new(
                    connection.clone(),
                    crate::PROVIDER_KEY,
                    id.to_string(),
                    url,
                )
                .with_events(EVENTS)
                .with_filter(filter.clone())
                .expiring(expires_at, margin())
            })
            .collect())
    }

    /// Extends registrations by Jira's ids for another 30 days; returns each id with its
    /// new expiry.
    pub async fn refresh_webhooks(
        &self,
        connection: &ConnectionId,
        ids: &[u64],
    ) -> Result<Vec<(u64, DateTime<Utc>)>> {
        let body = json!({"webhookIds": ids});
        let response = self
            .call(
                connection,
                Method::PUT,
                "/rest/api/3/webhook/refresh",
                Some(&body),
            )
            .await?;
        let answer: Value =
            devflow_sync_core::api::parse_json("Jira webhook refresh", &response.body)?;
        let expires_at = expiry(answer.get("expirationDate").and_then(Value::as_i64));
        Ok(ids.iter().map(|id| (*id, expires_at)).collect())
    }

    /// The scheduler's call: refreshes the registrations of `connection` kept in `store`
    /// that are due at `now`, and stores their new expiry. Returns the refreshed records
    /// (none when nothing is due; no call is made then).
    pub async fn refresh_due_webhooks(
        &self,
        store: &dyn ConnectionStore,
        connection: &ConnectionId,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        let due: Vec<WebhookRegistrationRecord> = store
            .registrations_due(now)
            .await?
            .into_iter()
            .filter(|r| &r.connection == connection && r.provider.as_str() == crate::PROVIDER_KEY)
            .collect();
        let mut ids = Vec::with_capacity(due.len());
        for record in &due {
            ids.push(record.remote_id.parse::<u64>().map_err(|_| {
                Error::invalid_input(
                    "remoteId",
                    format!(
                        "stored Jira webhook registration {:?} is not a Jira webhook id",
                        record.remote_id
                    ),
                )
            })?);
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let refreshed = self.refresh_webhooks(connection, &ids).await?;
        let mut out = Vec::with_capacity(due.len());
        for (record, (_, expires_at)) in due.into_iter().zip(refreshed) {
            let mut record = record.expiring(expires_at, margin());
            record.updated_at = now;
            store.put_registration(&record).await?;
            out.push(record);
        }
        Ok(out)
    }
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    #[allow(dead_code)]
    exp: Option<i64>,
}

/// Verifies the `Authorization: Bearer <JWT>` of a dynamic webhook delivery: HS256 with
/// the app's client secret, not expired (a minute of leeway).
/// [`Error::Unauthenticated`] for anything else.
pub fn verify_jwt(headers: &Headers, secret: &WebhookSecret) -> Result<()> {
    let token = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("JWT ")))
        .ok_or_else(|| Error::Unauthenticated("the Jira delivery carries no JWT".into()))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = 60;
    validation.required_spec_claims.clear();
    validation.validate_exp = true;
    validation.required_spec_claims.insert("exp".into());
    let key = jsonwebtoken::DecodingKey::from_secret(secret.secret().as_bytes());
    jsonwebtoken::decode::<Claims>(token.trim(), &key, &validation)
        .map(|_| ())
        .map_err(|e| {
            Error::Unauthenticated(format!("the Jira delivery's JWT does not verify: {e}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str, exp: i64) -> Headers {
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"iss": "jira", "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        Headers::new().with("Authorization", format!("Bearer {token}"))
    }

    #[test]
    fn only_a_live_jwt_of_the_secret_verifies() {
        let secret = WebhookSecret::new("s");
        let now = Utc::now().timestamp();
        assert!(verify_jwt(&jwt("s", now + 60), &secret).is_ok());
        assert!(
            verify_jwt(&jwt("s", now - 3600), &secret).is_err(),
            "expired"
        );
        assert!(
            verify_jwt(&jwt("t", now + 60), &secret).is_err(),
            "another secret"
        );
        assert!(verify_jwt(&Headers::new(), &secret).is_err(), "none");
        let none_alg = Headers::new().with(
            "Authorization",
            "Bearer eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.",
        );
        assert!(verify_jwt(&none_alg, &secret).is_err(), "alg none");
    }
}
