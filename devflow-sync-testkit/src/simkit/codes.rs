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
}
