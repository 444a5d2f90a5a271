//! The BQE provider: its state and requests, on the core's provider kit
//! ([`ApiClient`]).

use std::collections::HashMap;
use std::sync::Arc;

use devflow_sync_core::api::{ApiClient, ApiRequest};
use devflow_sync_core::http::{HttpClient, HttpRequest, Method};
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::provider::Capabilities;
use devflow_sync_core::registry::ObjectCatalog;
use devflow_sync_core::webhook::WebhookVerifier;
use devflow_sync_core::{Error, Result};
use serde_json::Value;

use crate::config::BqeConfig;
use crate::errors::BqeErrors;

/// BQE CORE collections (projects, clients) as a read-only
/// [`Provider`](devflow_sync_core::provider::Provider).
#[derive(Debug)]
pub struct BqeProvider {
    pub(crate) config: BqeConfig,
    pub(crate) api: ApiClient,
    pub(crate) http: HttpClient,
    pub(crate) verifier: WebhookVerifier,
    pub(crate) objects: HashMap<ObjectType, ObjectCatalog>,
    pub(crate) capabilities: HashMap<ObjectType, Capabilities>,
}

impl BqeProvider {
    /// A provider; [`Error::InvalidConfig`] for a wrong API base or page size.
    pub fn new(config: BqeConfig, http: HttpClient) -> Result<Self> {
        config.check()?;
        let api = ApiClient::new(
            http.clone(),
            "bqe",
            &config.api_base,
            "bqe.api_base",
            config.tokens.clone(),
        )?
        .with_header("Accept", "application/json")
        .with_errors(Arc::new(BqeErrors));
        let mut verifier = WebhookVerifier::new(config.webhook_scheme.clone());
        for secret in &config.webhook_secrets {
            verifier = verifier.secret(secret.clone());
        }
        let catalog = crate::catalog().map_err(|e| Error::InvalidConfig {
            pointer: "provider.json".into(),
            message: e.to_string(),
        })?;
        let capabilities = catalog
            .objects
            .iter()
            .map(|o| (o.key.clone(), o.capabilities()))
            .collect();
        let objects = catalog
            .objects
            .into_iter()
            .map(|o| (o.key.clone(), o))
            .collect();
        Ok(Self {
            config,
            api,
            http,
            verifier,
            objects,
            capabilities,
        })
    }

    /// The settings.
    pub fn config(&self) -> &BqeConfig {
        &self.config
    }

    /// The catalog entry and the module of `object`; [`Error::NotSupported`] for a
    /// collection the provider does not sync.
    pub(crate) fn object(
        &self,
        object: &ObjectType,
    ) -> Result<(&ObjectCatalog, &'static dyn crate::objects::BqeObject)> {
        match (
            self.objects.get(object),
            crate::objects::object(object.as_str()),
        ) {
            (Some(catalog), Some(module)) => Ok((catalog, module)),
            _ => Err(Error::not_supported(format!("BQE {object}"))),
        }
    }

    /// Reads `path` (under the API base) as JSON.
    pub(crate) async fn read(&self, connection: &ConnectionId, path: &str) -> Result<Value> {
        let response = self
            .api
            .send(
                connection,
                &ApiRequest::new(Method::GET, self.api.url(path)),
            )
            .await?;
        devflow_sync_core::api::parse_json("BQE", &response.body)
    }

    /// The company the connection's grant is bound to (`GET /company`): a check that
    /// the credentials and the endpoint work.
    pub async fn company(&self, connection: &ConnectionId) -> Result<String> {
        let company = self.read(connection, "/company").await?;
        Ok(company
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// Revokes the connection's access token at BQE's revocation endpoint (configured
    /// in [`BqeConfig::revocation`]).
    pub(crate) async fn revoke_token(&self, connection: &ConnectionId) -> Result<()> {
        let Some(revocation) = &self.config.revocation else {
            return Err(Error::not_supported(
                "BQE token revocation without BqeConfig::revocation",
            ));
        };
        let token = self.config.tokens.token(connection).await?;
        let mut form = format!(
            "token={}&token_type_hint=access_token&client_id={}",
            devflow_sync_core::http::percent_encode(token.secret()),
            devflow_sync_core::http::percent_encode(&revocation.client_id)
        );
        if let Some(secret) = &revocation.client_secret {
            form.push_str(&format!(
                "&client_secret={}",
                devflow_sync_core::http::percent_encode(secret.secret())
            ));
        }
        let request = HttpRequest::new(
            Method::POST,
            revocation.url.clone(),
            "bqe",
            connection.clone(),
        )
        .idempotent(false)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.into_bytes());
        self.http.send(request).await?;
        Ok(())
    }
}
