//! Atlassian's OAuth 2.0 (3LO): `POST /oauth/token` (JSON or form bodies) for codes and
//! rotating refresh tokens, and `GET /oauth/token/accessible-resources`.

use super::*;

/// A refresh token and what became of it.
#[derive(Clone, Debug)]
pub(super) struct RefreshEntry {
    client: String,
    scopes: Vec<String>,
    /// When it was rotated away, and the pair handed out then.
    rotated: Option<(i64, Value)>,
}

#[derive(Debug)]
pub(super) struct OAuthState {
    pub(super) clients: HashMap<String, String>,
    codes: HashMap<String, (String, Vec<String>)>,
    pub(super) tokens: HashMap<String, OAuthToken>,
    refresh: HashMap<String, RefreshEntry>,
    /// How long a rotated-away refresh token still works, in milliseconds.
    pub(super) leeway_ms: i64,
    pub(super) refreshes: u64,
    /// Token requests that came as JSON, as Atlassian documents them.
    pub(super) json_requests: u64,
    next: u64,
    pub(super) now_ms: i64,
}

impl Default for OAuthState {
    fn default() -> Self {
        Self {
            clients: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            leeway_ms: 600_000,
            refreshes: 0,
            json_requests: 0,
            next: 0,
            now_ms: 0,
        }
    }
}

impl OAuthState {
    pub(super) fn issue_code(&mut self, client: &str, scopes: &[&str]) -> String {
        self.next += 1;
        let code = format!("atl-code-{}", self.next);
        self.codes.insert(
            code.clone(),
            (
                client.to_owned(),
                scopes.iter().map(|s| (*s).to_owned()).collect(),
            ),
        );
        code
    }

    /// A new access token (and refresh token with `offline_access`), as the endpoint
    /// answers.
    fn grant(&mut self, client: &str, scopes: &[String]) -> Value {
        self.next += 1;
        // Atlassian's tokens are long JWT-like strings of varying length.
        let access = format!(
            "eyJraWQiOiJzaW0ifQ.atl-access-{}-{}",
            self.next,
            "x".repeat(40 + (self.next % 7) as usize)
        );
        self.tokens.insert(
            access.clone(),
            OAuthToken {
                client: client.to_owned(),
                scopes: scopes.to_vec(),
                expires_ms: self.now_ms.saturating_add(3_600_000),
            },
        );
        let mut out = json!({
            "access_token": access,
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": scopes.join(" "),
        });
        if scopes.iter().any(|s| s == "offline_access") {
            let refresh = format!("atl-refresh-{}", self.next);
            self.refresh.insert(
                refresh.clone(),
                RefreshEntry {
                    client: client.to_owned(),
                    scopes: scopes.to_vec(),
                    rotated: None,
                },
            );
            out["refresh_token"] = json!(refresh);
        }
        out
    }
}

fn oauth_error(status: u16, code: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

/// The token endpoint.
pub(super) fn token(s: &mut State, req: &Request) -> Response {
    let json_body = req
        .header("content-type")
        .is_some_and(|c| c.contains("json"));
    if json_body {
        s.oauth.json_requests += 1;
    }
    let form: HashMap<String, String> = if json_body {
        serde_json::from_slice::<Map<String, Value>>(&req.body)
            .map(|m| {
                m.into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        server::parse_query(&String::from_utf8_lossy(&req.body))
            .into_iter()
            .collect()
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let client = get("client_id");
    let o = &mut s.oauth;
    if o.clients.get(client).map(String::as_str) != Some(get("client_secret")) {
        return oauth_error(401, "access_denied", "Unauthorized");
    }
    match get("grant_type") {
        "authorization_code" => match o.codes.remove(get("code")) {
            Some((c, scopes)) if c == client => Response::json(200, &o.grant(client, &scopes)),
            _ => oauth_error(403, "invalid_grant", "Invalid authorization code"),
        },
        "refresh_token" => {
            let presented = get("refresh_token").to_owned();
            let Some(entry) = o.refresh.get(&presented).cloned() else {
                return oauth_error(403, "invalid_grant", "Unknown or invalid refresh token.");
            };
            if entry.client != client {
                return oauth_error(403, "invalid_grant", "Unknown or invalid refresh token.");
            }
            match entry.rotated {
                Some((at, pair)) if o.now_ms.saturating_sub(at) <= o.leeway_ms => {
                    Response::json(200, &pair)
                }
                Some(_) => oauth_error(403, "invalid_grant", "Unknown or invalid refresh token."),
                None => {
                    let pair = o.grant(client, &entry.scopes);
                    o.refreshes += 1;
                    let now = o.now_ms;
                    if let Some(e) = o.refresh.get_mut(&presented) {
                        e.rotated = Some((now, pair.clone()));
                    }
                    Response::json(200, &pair)
                }
            }
        }
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("grant type {other:?}"),
        ),
    }
}

/// The sites a token reaches.
pub(super) fn resources(s: &State, req: &Request) -> Response {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(t) = s
        .oauth
        .tokens
        .get(token)
        .filter(|t| t.expires_ms > s.now_ms())
    else {
        return Response::json(401, &json!({"code": 401, "message": "Unauthorized"}));
    };
    Response::json(
        200,
        &json!([{
            "id": CLOUD_ID,
            "url": s.base_url,
            "name": "devflow-sim",
            "scopes": t.scopes,
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }]),
    )
}

/// A JWT signed HS256 with `secret`, as Jira signs dynamic webhook deliveries of OAuth
/// apps (with the app's client secret).
pub(super) fn jwt_hs256(secret: &str, claims: &Value) -> String {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64(&serde_json::to_vec(claims).unwrap_or_default());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let signature = ring::hmac::sign(&key, format!("{header}.{payload}").as_bytes());
    format!("{header}.{payload}.{}", b64(signature.as_ref()))
}
