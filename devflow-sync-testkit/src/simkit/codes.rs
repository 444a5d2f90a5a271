//! OAuth authorization codes with PKCE (S256).

use std::collections::HashMap;

use devflow_sync_core::auth::PkceVerifier;

/// Codes handed out when a person approves a client, each redeemable once with the
/// client id and the PKCE verifier whose S256 challenge it was issued for.
///
/// ```
/// use devflow_sync_core::auth::PkceVerifier;
/// use devflow_sync_testkit::simkit::AuthCodes;
/// let mut codes = AuthCodes::default();
/// let challenge = PkceVerifier::challenge_of("verifier-1").challenge;
/// let code = codes.issue("client", &challenge);
/// assert!(codes.redeem(&code, "client", "wrong").is_err(), "a wrong verifier");
/// let code = codes.issue("client", &challenge);
/// assert!(codes.redeem(&code, "client", "verifier-1").is_ok());
/// assert!(codes.redeem(&code, "client", "verifier-1").is_err(), "used once");
/// ```
#[derive(Clone, Debug, Default)]
pub struct AuthCodes {
    next: u64,
    codes: HashMap<String, (String, String)>,
    /// Live refresh tokens and the client each belongs to.
    refresh: HashMap<String, String>,
}

impl AuthCodes {
    /// A new code for `client_id` bound to `code_challenge`.
    pub fn issue(&mut self, client_id: &str, code_challenge: &str) -> String {
        self.next += 1;
        let code = format!("code-{}", self.next);
        self.codes.insert(
            code.clone(),
            (client_id.to_owned(), code_challenge.to_owned()),
        );
        code
    }

    /// Uses a code up: `Err` with the OAuth error code when it is unknown or used, for
    /// another client, or the verifier does not match.
    pub fn redeem(
        &mut self,
        code: &str,
        client_id: &str,
        verifier: &str,
    ) -> Result<(), &'static str> {
        let (client, challenge) = self.codes.remove(code).ok_or("invalid_grant")?;
        if client != client_id {
            return Err("invalid_client");
        }
        if PkceVerifier::challenge_of(verifier).challenge != challenge {
            return Err("invalid_grant");
        }
        Ok(())
    }

    /// A new refresh token for `client_id`, prefixed like the provider's (`ghr_`).
    pub fn issue_refresh(&mut self, client_id: &str, prefix: &str) -> String {
        self.next += 1;
        let token = format!("{prefix}{:036}", self.next);
        self.refresh.insert(token.clone(), client_id.to_owned());
        token
    }

    /// Uses a refresh token up and hands out its successor (rotation): `Err` with the
    /// OAuth error code when it is unknown, already used, or another client's.
    ///
    /// ```
    /// use devflow_sync_testkit::simkit::AuthCodes;
    /// let mut codes = AuthCodes::default();
    /// let first = codes.issue_refresh("client", "ghr_");
    /// let second = codes.rotate(&first, "client", "ghr_").unwrap();
    /// assert_ne!(first, second);
    /// assert!(codes.rotate(&first, "client", "ghr_").is_err(), "rotated away");
    /// assert!(codes.rotate(&second, "other", "ghr_").is_err());
    /// ```
    pub fn rotate(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        prefix: &str,
    ) -> Result<String, &'static str> {
        match self.refresh.get(refresh_token) {
            None => Err("invalid_grant"),
            Some(owner) if owner != client_id => Err("invalid_client"),
            Some(_) => {
                self.refresh.remove(refresh_token);
                Ok(self.issue_refresh(client_id, prefix))
            }
        }
    }
}
