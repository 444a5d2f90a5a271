//! Tokens: the OAuth token endpoint with PKCE, GitHub App JWTs and installation
//! tokens.

use super::*;

pub(super) fn token_endpoint(s: &mut State, req: &Request) -> Response {
    let form: HashMap<String, String> = parse_query(&String::from_utf8_lossy(&req.body))
        .into_iter()
        .collect();
    let code = form.get("code").cloned().unwrap_or_default();
    let refresh = form.get("grant_type").map(String::as_str) == Some("refresh_token");
    // GitHub answers token errors with 200 and an `error` field.
    let refuse = |e: &str| {
        Response::json(
            200,
            &json!({"error": e, "error_description": "refused by the simulator"}),
        )
    };
    let client = form.get("client_id").map_or("", String::as_str);
    let next_refresh = if refresh {
        // GitHub's expiring user tokens: the refresh token rotates.
        let old = form.get("refresh_token").map_or("", String::as_str);
        match s.codes.rotate(old, client, "ghr_") {
            Ok(new) => Some(new),
            Err("invalid_client") => return refuse("incorrect_client_credentials"),
            Err(_) => return refuse("bad_refresh_token"),
        }
    } else {
        let verifier = form.get("code_verifier").map_or("", String::as_str);
        if let Err(e) = s.codes.redeem(&code, client, verifier) {
            return refuse(if e == "invalid_client" {
                "incorrect_client_credentials"
            } else {
                "bad_verification_code"
            });
        }
        s.expiring_tokens
            .then(|| s.codes.issue_refresh(client, "ghr_"))
    };
    s.next_id += 1;
    let token = format!("ghu_sim{}", s.next_id);
    s.tokens.insert(token.clone());
    let mut answer =
        json!({"access_token": token, "token_type": "bearer", "scope": "repo,read:org"});
    if let Some(refresh_token) = next_refresh {
        // Eight hours, and six months for the refresh token, as GitHub gives.
        let expires = s.clock.now().timestamp() + 28_800;
        s.expiring_tokens_until.insert(token, expires);
        answer["expires_in"] = json!(28_800);
        answer["refresh_token"] = json!(refresh_token);
        answer["refresh_token_expires_in"] = json!(15_811_200);
    }
    Response::json(200, &answer)
}

/// Checks a GitHub App JWT (RS256, `iat`/`exp` within ten minutes, a known issuer) and
/// returns its issuer.
pub(super) fn verify_app_jwt(s: &State, jwt: &str) -> Result<String, &'static str> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("A JSON web token could not be decoded");
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).ok();
    let header: Value = decode(header)
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("A JSON web token could not be decoded")?;
    if header["alg"] != "RS256" {
        return Err("'alg' must be RS256");
    }
    let claims: Value = decode(claims)
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or("A JSON web token could not be decoded")?;
    let issuer = claims["iss"].as_str().unwrap_or_default();
    let (key, _) = s
        .apps
        .get(issuer)
        .ok_or("'Issuer' claim ('iss') must be an Integer or a client ID")?;
    let signed = &jwt[..jwt.rfind('.').unwrap_or(0)];
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signed.as_bytes(), &decode(signature).unwrap_or_default())
        .map_err(|_| "A JSON web token could not be decoded")?;
    let now = s.clock.now().timestamp();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(i64::MAX),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if iat > now + 60 {
        return Err("'Issued at' claim ('iat') must be an Integer representing a time in the past");
    }
    if exp <= now || exp - iat > 660 {
        return Err("'Expiration time' claim ('exp') is too far in the future or in the past");
    }
    Ok(issuer.to_owned())
}

pub(super) fn installation_token(s: &mut State, req: &Request, installation: &str) -> Response {
    let jwt = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    let issuer = match verify_app_jwt(s, jwt) {
        Ok(issuer) => issuer,
        Err(message) => return error(401, message),
    };
    let installation: u64 = installation.parse().unwrap_or(0);
    if !s.apps[&issuer].1.contains(&installation) {
        return error(404, "Not Found");
    }
    s.next_id += 1;
    s.minted += 1;
    // The stateless format: long and of varying length; clients must treat it as opaque.
    let token = format!(
        "ghs_{issuer}_{}",
        "x".repeat(480 + (s.next_id % 40) as usize)
    ) + &s.next_id.to_string();
    let expires = s.clock.now() + chrono::Duration::hours(1);
    s.expiring_tokens_until
        .insert(token.clone(), expires.timestamp());
    s.tokens.insert(token.clone());
    Response::json(
        201,
        &json!({"token": token, "expires_at": stamp(expires),
            "permissions": {"issues": "write", "metadata": "read"},
            "repository_selection": "selected"}),
    )
}
