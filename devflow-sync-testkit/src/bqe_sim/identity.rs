//! BQE's identity server: `POST /idp/connect/token` (form-encoded: authorization code
//! with a client secret or a PKCE verifier, refresh token (rotated), client credentials
//! when allowed) answering with `endpoint`, and `POST /idp/connect/revocation`.

use std::collections::HashMap;

use base64::Engine as _;

use super::*;

fn oauth_error(status: u16, code: &str) -> Response {
    Response::json(status, &json!({"error": code}))
}

fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn grant(s: &mut State, client: &str, scopes: &[String]) -> Value {
    s.next += 1;
    let access = format!("eyJhbGciOiJSUzI1NiJ9.bqe-access-{}", s.next);
    let expires_ms = s.now_ms().saturating_add(3_600_000);
    s.tokens.insert(
        access.clone(),
        Token {
            client: client.to_owned(),
            scopes: scopes.to_vec(),
            expires_ms,
        },
    );
    let mut out = json!({
        "access_token": access,
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": scopes.join(" "),
        "endpoint": format!("{}/api/", s.base_url),
    });
    if scopes.iter().any(|x| x == "offline_access") {
        let refresh = format!("bqe-refresh-{}", s.next);
        s.refresh
            .insert(refresh.clone(), (client.to_owned(), scopes.to_vec(), false));
        out["refresh_token"] = json!(refresh);
    }
    out
}

pub(super) fn token(s: &mut State, req: &Request) -> Response {
    let form: HashMap<String, String> = server::parse_query(&String::from_utf8_lossy(&req.body))
        .into_iter()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let client = get("client_id").to_owned();
    let Some(secret) = s.clients.get(&client).cloned() else {
        return oauth_error(400, "invalid_client");
    };
    let authenticated = match &secret {
        Some(secret) => get("client_secret") == secret,
        None => true,
    };
    match get("grant_type") {
        "authorization_code" => {
            let Some((c, scopes, challenge)) = s.codes.remove(get("code")) else {
                return oauth_error(400, "invalid_grant");
            };
            if c != client {
                return oauth_error(400, "invalid_grant");
            }
            let proven = match &challenge {
                Some(ch) => s256(get("code_verifier")) == *ch,
                None => secret.is_some() && authenticated,
            };
            if !proven || (secret.is_some() && !authenticated) {
                return oauth_error(400, "invalid_grant");
            }
            Response::json(200, &grant(s, &client, &scopes))
        }
        "refresh_token" => {
            if !authenticated {
                return oauth_error(400, "invalid_client");
            }
            let presented = get("refresh_token").to_owned();
            match s.refresh.get(&presented).cloned() {
                Some((c, scopes, false)) if c == client => {
                    if let Some(e) = s.refresh.get_mut(&presented) {
                        e.2 = true;
                    }
                    s.refreshes += 1;
                    Response::json(200, &grant(s, &client, &scopes))
                }
                _ => oauth_error(400, "invalid_grant"),
            }
        }
        "client_credentials" if s.client_credentials && secret.is_some() && authenticated => {
            let scopes: Vec<String> = get("scope").split_whitespace().map(str::to_owned).collect();
            Response::json(200, &grant(s, &client, &scopes))
        }
        _ => oauth_error(400, "unsupported_grant_type"),
    }
}

pub(super) fn revoke(s: &mut State, req: &Request) -> Response {
    let form: HashMap<String, String> = server::parse_query(&String::from_utf8_lossy(&req.body))
        .into_iter()
        .collect();
    let token = form.get("token").cloned().unwrap_or_default();
    let found = s.tokens.remove(&token).is_some() || s.refresh.remove(&token).is_some();
    if found {
        s.revoked += 1;
    }
    Response::json(200, &json!({}))
}
