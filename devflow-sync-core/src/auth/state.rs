//! The OAuth `state` parameter: signed, expiring, single use.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::ClientSecret;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::model::ConnectionId;

/// What a `state` carries through the provider's redirect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthState {
    /// The tenant the flow was started for.
    pub tenant: String,
    /// The connection being authorized.
    pub connection: ConnectionId,
    /// Who started the flow.
    pub actor: String,
    /// When the state stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// A random value, accepted once.
    pub nonce: String,
}

/// Signs and checks `state` values with HMAC-SHA256. A state is rejected when its
/// signature does not match (tampered), when it has expired, when it was issued for
/// another tenant or connection, and when it was already accepted once (replayed). A
/// state is used up only once every check passed, so a callback for the wrong
/// connection does not burn the right one. Accepted nonces are remembered by this
/// signer until they expire; workers that share callbacks share one signer.
///
/// ```
/// use devflow_sync_core::auth::{ClientSecret, StateSigner};
/// use devflow_sync_core::model::ConnectionId;
/// let signer = StateSigner::new(ClientSecret::new("state signing key"));
/// let conn = ConnectionId::new("conn-1");
/// let state = signer.sign("acme", &conn, "user-7").unwrap();
/// assert!(signer.verify(&state, "acme", &ConnectionId::new("conn-2")).is_err());
/// assert!(signer.verify(&state, "globex", &conn).is_err());
/// let checked = signer.verify(&state, "acme", &conn).unwrap();
/// assert_eq!(checked.actor, "user-7");
/// assert!(signer.verify(&state, "acme", &conn).is_err(), "a state is used once");
/// ```
pub struct StateSigner {
    key: ClientSecret,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    used: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateSigner")
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl StateSigner {
    /// The longest lifetime a state can have; longer ones are cut to it.
    pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

    /// A signer with a 10-minute lifetime on the system clock.
    pub fn new(key: ClientSecret) -> Self {
        Self {
            key,
            ttl: Duration::from_secs(600),
            clock: Arc::new(SystemClock),
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Sets how long a state is accepted (at most [`StateSigner::MAX_TTL`]).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.min(Self::MAX_TTL);
        self
    }

    /// Sets the clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(self.key.secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// A new signed state for `tenant`'s `connection`, started by `actor`.
    pub fn sign(&self, tenant: &str, connection: &ConnectionId, actor: &str) -> Result<String> {
        let nonce: [u8; 16] = super::random_bytes()?;
        let state = OAuthState {
            tenant: tenant.to_owned(),
            connection: connection.clone(),
            actor: actor.to_owned(),
            expires_at: crate::clock::after(self.clock.now(), self.ttl),
            nonce: URL_SAFE_NO_PAD.encode(nonce),
        };
        let json = serde_json::to_vec(&state).map_err(|e| Error::transient(e.to_string()))?;
        let payload = URL_SAFE_NO_PAD.encode(json);
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        Ok(format!("{payload}.{signature}"))
    }

    /// Checks a state from a callback for `tenant`'s `connection` and, when every
    /// check passes, uses it up.
    pub fn verify(
        &self,
        state: &str,
        tenant: &str,
        connection: &ConnectionId,
    ) -> Result<OAuthState> {
        let bad = |why: &str| Error::Unauthenticated(format!("OAuth state rejected: {why}"));
        let (payload, signature) = state.split_once('.').ok_or_else(|| bad("malformed"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| bad("malformed signature"))?;
        self.mac(payload)
            .verify_slice(&signature)
            .map_err(|_| bad("signature does not match"))?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| bad("malformed payload"))?;
        let parsed: OAuthState =
            serde_json::from_slice(&json).map_err(|_| bad("malformed payload"))?;
        let now = self.clock.now();
        if parsed.expires_at <= now {
            return Err(bad("expired"));
        }
        if parsed.tenant != tenant {
            return Err(bad("it was issued for another tenant"));
        }
        if &parsed.connection != connection {
            return Err(bad(&format!(
                "it was issued for connection {}, not {connection}",
                parsed.connection
            )));
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|_, expires| *expires > now);
        if used
            .insert(parsed.nonce.clone(), parsed.expires_at)
            .is_some()
        {
            return Err(bad("already used"));
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_ttl_of_u64_max_is_clamped_not_a_panic() {
        let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
        let s = signer(&clock).with_ttl(Duration::from_secs(u64::MAX));
        let conn = ConnectionId::new("c");
        let state = s.sign("t", &conn, "u").unwrap();
        clock.advance(StateSigner::MAX_TTL + Duration::from_secs(1));
        assert!(
            s.verify(&state, "t", &conn).is_err(),
            "expired after the cap"
        );
    }

    #[test]
    fn a_wrong_connection_or_tenant_does_not_burn_the_state() {
        let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
        let s = signer(&clock);
        let conn = ConnectionId::new("c");
        let state = s.sign("acme", &conn, "u").unwrap();
        let err = s
            .verify(&state, "acme", &ConnectionId::new("other"))
            .unwrap_err();
        assert!(err.to_string().contains("issued for connection c"), "{err}");
        let err = s.verify(&state, "globex", &conn).unwrap_err();
        assert!(err.to_string().contains("another tenant"), "{err}");
        assert_eq!(s.verify(&state, "acme", &conn).unwrap().tenant, "acme");
    }

    use super::*;
    use crate::clock::ManualClock;

    fn signer(clock: &ManualClock) -> StateSigner {
        StateSigner::new(ClientSecret::new("k")).with_clock(Arc::new(clock.clone()))
    }

    #[test]
    fn tampered_expired_and_reused_states_are_rejected() {
        let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
        let s = signer(&clock);
        let conn = ConnectionId::new("c");
        let state = s.sign("t", &conn, "u").unwrap();
        // Tampered: another payload under the same signature.
        let (payload, sig) = state.split_once('.').unwrap();
        let forged_json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap()
            .replace("\"u\"", "\"admin\"");
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(forged_json));
        assert!(
            s.verify(&forged, "t", &conn)
                .unwrap_err()
                .to_string()
                .contains("signature does not match")
        );
        // Another key does not verify it.
        let other =
            StateSigner::new(ClientSecret::new("other")).with_clock(Arc::new(clock.clone()));
        assert!(other.verify(&state, "t", &conn).is_err());
        // Expired.
        let late = s.sign("t", &conn, "u").unwrap();
        clock.advance(Duration::from_secs(601));
        assert!(
            s.verify(&late, "t", &conn)
                .unwrap_err()
                .to_string()
                .contains("expired")
        );
        // Reused.
        let fresh = s.sign("t", &conn, "u").unwrap();
        assert_eq!(s.verify(&fresh, "t", &conn).unwrap().connection, conn);
        assert!(
            s.verify(&fresh, "t", &conn)
                .unwrap_err()
                .to_string()
                .contains("already used")
        );
        assert!(s.verify("garbage", "t", &conn).is_err());
        assert!(!format!("{s:?}").contains('k') || format!("{s:?}").contains("[redacted]"));
    }
}
