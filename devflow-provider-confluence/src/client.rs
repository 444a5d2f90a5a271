//! The Confluence provider: its state and the requests every part of it sends, on the
//! core's provider kit ([`ApiClient`]). The parts live beside it: `pages` (read and
//! write one page), `listing` (the change feed), `webhook`, and the `Provider` impl in
//! `provider`.

use std::collections::HashMap;
use std::sync::Arc;

use devflow_sync_core::api::{ApiClient, ApiRequest, AuthScheme, StaticToken};
use devflow_sync_core::http::{HttpClient, HttpResponse, Method};
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::provider::Capabilities;
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier};
use devflow_sync_core::{Error, Result};
use serde_json::Value;

use crate::config::{ConfluenceAuth, ConfluenceConfig, PageRoot};
use crate::errors::ConfluenceErrors;
use crate::wire::{ListWire, SpaceWire};

/// The space the provider writes in, as v2 names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpaceInfo {
    /// The numeric id.
    pub id: String,
    /// The key.
    pub key: String,
    /// The name.
    pub name: String,
    /// The homepage's id.
    pub homepage: Option<String>,
    /// The space for a person.
    pub url: Option<String>,
}

/// Confluence pages as a [`Provider`](devflow_sync_core::provider::Provider).
#[derive(Debug)]
pub struct ConfluenceProvider {
    pub(crate) config: ConfluenceConfig,
    pub(crate) api: ApiClient,
    pub(crate) verifier: WebhookVerifier,
    pub(crate) capabilities: HashMap<ObjectType, Capabilities>,
    /// The space, once resolved.
    pub(crate) space: tokio::sync::Mutex<Option<SpaceInfo>>,
}

impl ConfluenceProvider {
    /// A provider; [`Error::InvalidConfig`] for a wrong base URL or space key.
    pub fn new(config: ConfluenceConfig, http: HttpClient) -> Result<Self> {
        config.check()?;
        let (tokens, scheme, expires): (Arc<dyn devflow_sync_core::api::TokenSource>, _, _) =
            match &config.auth {
                ConfluenceAuth::OAuth(source) => (source.clone(), AuthScheme::Bearer, None),
                ConfluenceAuth::ApiToken {
                    email,
                    token,
                    expires,
                } => (
                    Arc::new(StaticToken::new(token.clone())),
                    AuthScheme::Basic {
                        user: email.clone(),
                    },
                    *expires,
                ),
            };
        let wiki = format!("{}/wiki", config.base_url);
        let api = ApiClient::new(http, "confluence", &wiki, "confluence.base_url", tokens)?
            .with_scheme(scheme)
            .with_header("Accept", "application/json")
            .with_errors(Arc::new(ConfluenceErrors {
                token_expires: expires,
            }));
        let mut verifier = WebhookVerifier::new(SignatureScheme::hmac_sha256(
            crate::webhook::SIGNATURE_HEADER,
            "sha256=",
        ));
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
        Ok(Self {
            config,
            api,
            verifier,
            capabilities,
            space: tokio::sync::Mutex::new(None),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ConfluenceConfig {
        &self.config
    }

    /// Sends a request with an optional JSON body to `path` (under `{base}/wiki`).
    pub(crate) async fn call(
        &self,
        connection: &ConnectionId,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<HttpResponse> {
        let mut request = ApiRequest::new(method, self.api.url(path));
        if let Some(body) = body {
            request = request.json(body)?;
        }
        self.api.send(connection, &request).await
    }

    /// Reads `path` as `T`.
    pub(crate) async fn read<T: serde::de::DeserializeOwned>(
        &self,
        connection: &ConnectionId,
        path: &str,
        what: &str,
    ) -> Result<T> {
        let response = self.call(connection, Method::GET, path, None).await?;
        devflow_sync_core::api::parse_json(what, &response.body)
    }

    /// The configured space, resolved once: [`Error::NotFound`] names the key when the
    /// connection cannot see it.
    pub async fn space_info(&self, connection: &ConnectionId) -> Result<SpaceInfo> {
        let mut cached = self.space.lock().await;
        if let Some(space) = cached.as_ref() {
            return Ok(space.clone());
        }
        let key = devflow_sync_core::http::percent_encode(&self.config.space);
        let list: ListWire<SpaceWire> = self
            .read(
                connection,
                &format!("/api/v2/spaces?keys={key}"),
                "Confluence spaces",
            )
            .await?;
        let space = list
            .results
            .into_iter()
            .find(|s| s.key == self.config.space)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "Confluence space {} (missing, or this connection cannot see it)",
                    self.config.space
                ))
            })?;
        let info = SpaceInfo {
            url: space
                .links
                .webui
                .as_ref()
                .map(|w| format!("{}/wiki{w}", self.site())),
            id: space.id,
            key: space.key,
            name: space.name,
            homepage: space.homepage_id,
        };
        *cached = Some(info.clone());
        Ok(info)
    }

    /// The page PRD pages go under, if any.
    pub(crate) async fn root_page(&self, connection: &ConnectionId) -> Result<Option<String>> {
        Ok(match &self.config.root {
            PageRoot::Homepage => self.space_info(connection).await?.homepage,
            PageRoot::RootLevel => None,
            PageRoot::Page(id) => Some(id.clone()),
        })
    }

    /// The site URL pages are linked under (the base URL without a gateway path).
    pub(crate) fn site(&self) -> &str {
        self.config.base_url.as_str()
    }
}
