//! Secret newtypes: their `Debug` says only the type, they have no `Display`, and the
//! value is reached only through `secret()`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

macro_rules! secret {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret value. Never log it.
            pub fn secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<SecretString> for $name {
            fn from(value: SecretString) -> Self {
                Self(value)
            }
        }

        impl PartialEq for $name {
            /// Compares in constant time.
            fn eq(&self, other: &Self) -> bool {
                super::constant_time_eq(self.secret().as_bytes(), other.secret().as_bytes())
            }
        }

        impl Eq for $name {}
    };
}

secret!(
    /// An OAuth access token or a personal access token.
    ///
    /// ```
    /// use devflow_sync_core::auth::AccessToken;
    /// let t = AccessToken::new("ghs_verysecret");
    /// assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
    /// assert_eq!(t.secret(), "ghs_verysecret");
    /// ```
    AccessToken
);
secret!(
    /// An OAuth refresh token.
    RefreshToken
);
secret!(
    /// An OAuth client secret.
    ClientSecret
);
secret!(
    /// A secret that signs webhook deliveries.
    WebhookSecret
);
secret!(
    /// An API token (Atlassian basic auth, BQE API keys).
    ApiToken
);
