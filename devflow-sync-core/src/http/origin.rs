//! Where credentials may go: an API's origin (scheme, host, port), compared as parsed
//! URLs, never as string prefixes.

use std::fmt;
use std::net::IpAddr;

use reqwest::Url;

use crate::error::{Error, Result};

/// The scheme, host and port of a URL: the unit credentials are bound to.
///
/// ```
/// use devflow_sync_core::http::Origin;
/// let api = Origin::of("https://api.github.com/repos/a/b/issues?page=2").unwrap();
/// assert_eq!(api.to_string(), "https://api.github.com");
/// assert_eq!(Origin::of("https://API.github.com:443/x").unwrap(), api);
/// assert_ne!(Origin::of("https://api.github.com.attacker.test/").unwrap(), api);
/// assert_ne!(Origin::of("http://api.github.com/").unwrap(), api);
/// assert!(Origin::of("not a url").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of `url`; [`Error::InvalidInput`] when it does not parse or has no
    /// host.
    pub fn of(url: &str) -> Result<Self> {
        let parsed = parse(url)?;
        Self::of_url(&parsed).ok_or_else(|| {
            Error::invalid_input("url", format!("{} has no host", without_secrets(&parsed)))
        })
    }

    /// The origin of `url` and its path (percent-encoded as in the URL, without query
    /// or fragment).
    ///
    /// ```
    /// use devflow_sync_core::http::Origin;
    /// let (origin, path) = Origin::with_path("https://ghe.test/api/v3/repos/a/b?x=1").unwrap();
    /// assert_eq!((origin.to_string().as_str(), path.as_str()), ("https://ghe.test", "/api/v3/repos/a/b"));
    /// ```
    pub fn with_path(url: &str) -> Result<(Self, String)> {
        let parsed = parse(url)?;
        let origin = Self::of_url(&parsed).ok_or_else(|| {
            Error::invalid_input("url", format!("{} has no host", without_secrets(&parsed)))
        })?;
        Ok((origin, parsed.path().to_owned()))
    }

    /// The origin of a parsed URL, `None` without a host or a known port.
    pub fn of_url(url: &Url) -> Option<Self> {
        Some(Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }

    /// Whether the host is a loopback one: `localhost`, 127.0.0.0/8 or `::1`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = match self.scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => 0,
        };
        if self.port == default {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self})")
    }
}

fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|e| Error::invalid_input("url", format!("not a URL: {e}")))
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// A URL as it may be shown: no user, password, query or fragment.
pub(crate) fn without_secrets(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// A URL string as it may be shown (see [`without_secrets`]); text that does not parse
/// is cut at its first `?` and any `user:password@` part is dropped.
pub(crate) fn shown_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => without_secrets(&parsed),
        Err(_) => {
            let head = url.split(['?', '#']).next().unwrap_or_default();
            match head.rsplit_once('@') {
                Some((_, host)) => format!("[redacted]@{host}"),
                None => head.to_owned(),
            }
        }
    }
}

/// Checks a provider's configured API base URL and returns its origin: it must parse,
/// be `https` (plain `http` only when the parsed host is loopback), and carry no
/// credentials, query or fragment. `pointer` names the setting in errors.
///
/// ```
/// use devflow_sync_core::http::check_api_base;
/// assert!(check_api_base("github.base_url", "https://api.github.com").is_ok());
/// assert!(check_api_base("github.base_url", "http://127.0.0.1:8080").is_ok());
/// assert!(check_api_base("github.base_url", "http://[::1]:8080/api/v3").is_ok());
/// for hostile in [
///     "http://localhost.attacker.test",
///     "http://127.0.0.1.nip.io",
///     "http://127.0.0.1@attacker.test",
///     "https://user:pass@api.github.com",
///     "http://@127.0.0.1",
///     "ftp://127.0.0.1",
/// ] {
///     assert!(check_api_base("github.base_url", hostile).is_err(), "{hostile}");
/// }
/// ```
pub fn check_api_base(pointer: &str, base: &str) -> Result<Origin> {
    let invalid = |message: String| Error::InvalidConfig {
        pointer: pointer.to_owned(),
        message,
    };
    let url = Url::parse(base).map_err(|e| invalid(format!("not a URL: {e}")))?;
    // Any `@` before the host (even with nothing before it) reads differently to
    // different URL parsers: refused as written, not as parsed.
    let authority = base.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or_default()
    });
    if authority.contains('@') || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the URL carries credentials; give them to the token source instead".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{} must not carry a query or a fragment",
            without_secrets(&url)
        )));
    }
    let origin = Origin::of_url(&url).ok_or_else(|| invalid(format!("{url} has no host")))?;
    match url.scheme() {
        "https" => Ok(origin),
        "http" if origin.is_loopback() => Ok(origin),
        _ => Err(invalid(format!(
            "{url} must be https (plain http is allowed on loopback only)"
        ))),
    }
}

/// Checks that `url` is at `origin` before credentials are sent to it.
pub(crate) fn check_same_origin(url: &str, origin: &Origin) -> Result<()> {
    let target = Origin::of(url)?;
    if &target == origin {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "refused to send credentials to {target}: they belong to {origin}"
        )))
    }
}
