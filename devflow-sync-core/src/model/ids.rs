//! String newtypes for the identifiers the engine moves between systems.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// Copies share one allocation (the text is immutable), so an id held by a
        /// store, its indexes and the records in flight costs its bytes once.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }

        impl $name {
            /// Wraps a string as this identifier.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Arc::from(value.into()))
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the identifier into its string.
            pub fn into_inner(self) -> String {
                self.0.to_string()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(Arc::from(value))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }
    };
}

string_id!(
    /// The host's identifier of one of its records (a work item, an action, a time entry).
    ///
    /// ```
    /// use devflow_sync_core::model::ItemId;
    /// let id = ItemId::new("item-42");
    /// assert_eq!(id.as_str(), "item-42");
    /// assert_eq!(id.to_string(), "item-42");
    /// ```
    ItemId
);

string_id!(
    /// One configured link between the host (a tenant or a user) and one account of a
    /// provider, e.g. one Jira site or one GitHub installation.
    ConnectionId
);

string_id!(
    /// The provider's identifier of a record: a Jira issue id, a GitHub issue number, a
    /// Confluence page id, a BQE project id.
    ExternalId
);

string_id!(
    /// The key of a provider in the catalog: `jira`, `github`, `confluence`, `bqe`, or a
    /// host's own.
    ProviderKey
);

string_id!(
    /// The kind of object a provider offers, in the provider's catalog: `issue`, `page`,
    /// `project`, `worklog`, ...
    ObjectType
);

string_id!(
    /// An opaque version of a record (an ETag, a version number, an update stamp), used
    /// as the expected version of a conditional write.
    Version
);

/// Where one host record lives in a provider: which provider, which connection, which
/// object type, the provider's id, and a link a person can open.
///
/// ```
/// use devflow_sync_core::model::ExternalRef;
/// let r = ExternalRef::new("jira", "acme-site", "issue", "10042")
///     .with_url("https://acme.atlassian.net/browse/PROJ-7");
/// assert_eq!(r.id.as_str(), "10042");
/// assert_eq!(r.to_string(), "jira/acme-site/issue/10042");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalRef {
    /// The provider holding the record.
    pub provider: ProviderKey,
    /// The connection the record was reached through.
    pub connection: ConnectionId,
    /// The provider's object type.
    pub object: ObjectType,
    /// The provider's id of the record.
    pub id: ExternalId,
    /// A link to the record for a person, when the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ExternalRef {
    /// A reference without a URL.
    pub fn new(
        provider: impl Into<ProviderKey>,
        connection: impl Into<ConnectionId>,
        object: impl Into<ObjectType>,
        id: impl Into<ExternalId>,
    ) -> Self {
        Self {
            provider: provider.into(),
            connection: connection.into(),
            object: object.into(),
            id: id.into(),
            url: None,
        }
    }

    /// Sets the link a person can open.
    #[must_use]
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
}

impl fmt::Display for ExternalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.provider, self.connection, self.object, self.id
        )
    }
}
