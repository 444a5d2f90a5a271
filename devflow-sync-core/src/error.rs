//! The one error type of devflow-sync, grouped by kind so callers branch on what
//! happened, not on which library it came from.

use std::time::Duration;

use crate::hierarchy::Violation;

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. Each provider and store maps its own failures into these kinds;
/// [`Error::is_retryable`] says whether trying again later can help.
///
/// No variant carries a secret: messages are written by this library or truncated and
/// redacted from provider bodies.
///
/// ```
/// use devflow_sync_core::Error;
/// let e = Error::not_found("jira issue 10042");
/// assert!(!e.is_retryable());
/// assert_eq!(e.to_string(), "not found: jira issue 10042");
/// assert!(Error::transient("connection reset").is_retryable());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The thing to create exists already (a duplicate link, a reused id).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A conditional write found another version than expected.
    #[error("precondition failed: {0}")]
    Precondition(String),
    /// The provider asks to slow down.
    #[error("rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long the provider asks to wait, when it says.
        retry_after: Option<Duration>,
        /// What the provider said.
        message: String,
    },
    /// The credentials were refused.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The credentials are valid but not allowed to do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The connection must be authorized again by a person.
    #[error("connection {connection} needs to be re-authorized: {message}")]
    NeedsReauth {
        /// The connection.
        connection: String,
        /// Why.
        message: String,
    },
    /// The input was wrong; `pointer` says where, as a JSON pointer or a field name.
    #[error("invalid input{}: {message}", pointer.as_ref().map(|p| format!(" at {p}")).unwrap_or_default())]
    InvalidInput {
        /// Where in the input, when known.
        pointer: Option<String>,
        /// What was wrong.
        message: String,
    },
    /// A configuration was wrong; `pointer` says where.
    #[error("invalid config at {pointer}: {message}")]
    InvalidConfig {
        /// The JSON pointer (or key) of the wrong value.
        pointer: String,
        /// What was wrong.
        message: String,
    },
    /// An item's place in the hierarchy breaks the rules.
    #[error("hierarchy: {0}")]
    Hierarchy(Box<Violation>),
    /// The provider or store cannot do this.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// A saved page token (a cursor) no longer fits the provider's configuration (it
    /// names a repository, project or space no longer synced, or another origin). The
    /// engine discards it and lists again from the saved high-water mark.
    #[error("stale page token: {0}")]
    StalePageToken(String),
    /// A failure that may pass: a timeout, a dropped connection, a 5xx.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Anything else, with the provider or store it came from.
    #[error("{provider}: {source}")]
    Other {
        /// The provider or store.
        provider: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// A [`Error::NotFound`].
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }

    /// An [`Error::AlreadyExists`].
    pub fn already_exists(what: impl Into<String>) -> Self {
        Error::AlreadyExists(what.into())
    }

    /// An [`Error::Precondition`].
    pub fn precondition(what: impl Into<String>) -> Self {
        Error::Precondition(what.into())
    }

    /// A [`Error::Transient`].
    pub fn transient(what: impl Into<String>) -> Self {
        Error::Transient(what.into())
    }

    /// An [`Error::InvalidInput`] at `pointer`.
    pub fn invalid_input(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            pointer: Some(pointer.into()),
            message: message.into(),
        }
    }

    /// An [`Error::NotSupported`].
    pub fn not_supported(what: impl Into<String>) -> Self {
        Error::NotSupported(what.into())
    }

    /// Whether trying again later can succeed: rate limits and transient failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Transient(_))
    }

    /// A short snake_case name of the kind, for journals and metrics.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::AlreadyExists(_) => "already_exists",
            Error::Precondition(_) => "precondition",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::PermissionDenied(_) => "permission_denied",
            Error::NeedsReauth { .. } => "needs_reauth",
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::Hierarchy(_) => "hierarchy",
            Error::NotSupported(_) => "not_supported",
            Error::StalePageToken(_) => "stale_page_token",
            Error::Transient(_) => "transient",
            Error::Other { .. } => "other",
        }
    }
}

impl Error {
    /// The same error with every message passed through `f` (used to scrub secrets
    /// from text that came from outside). An [`Error::Other`]'s source becomes its
    /// message; a hierarchy violation, written by this library, is kept.
    #[must_use]
    pub fn map_messages(self, f: impl Fn(&str) -> String) -> Self {
        match self {
            Error::NotFound(m) => Error::NotFound(f(&m)),
            Error::AlreadyExists(m) => Error::AlreadyExists(f(&m)),
            Error::Precondition(m) => Error::Precondition(f(&m)),
            Error::RateLimited {
                retry_after,
                message,
            } => Error::RateLimited {
                retry_after,
                message: f(&message),
            },
            Error::Unauthenticated(m) => Error::Unauthenticated(f(&m)),
            Error::PermissionDenied(m) => Error::PermissionDenied(f(&m)),
            Error::NeedsReauth {
                connection,
                message,
            } => Error::NeedsReauth {
                connection,
                message: f(&message),
            },
            Error::InvalidInput { pointer, message } => Error::InvalidInput {
                pointer: pointer.map(|p| f(&p)),
                message: f(&message),
            },
            Error::InvalidConfig { pointer, message } => Error::InvalidConfig {
                pointer,
                message: f(&message),
            },
            Error::Hierarchy(v) => Error::Hierarchy(v),
            Error::NotSupported(m) => Error::NotSupported(f(&m)),
            Error::StalePageToken(m) => Error::StalePageToken(f(&m)),
            Error::Transient(m) => Error::Transient(f(&m)),
            Error::Other { provider, source } => Error::Other {
                provider,
                source: f(&source.to_string()).into(),
            },
        }
    }
}

impl From<Violation> for Error {
    fn from(v: Violation) -> Self {
        Error::Hierarchy(Box::new(v))
    }
}
