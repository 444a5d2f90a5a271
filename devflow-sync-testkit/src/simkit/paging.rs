//! Paging as providers answer it: page numbers with RFC 8288 `link` headers (GitHub),
//! and the request's own URL with some query parameters replaced, for any cursor or
//! offset style a simulator speaks.

use devflow_sync_core::http::percent_encode;

use super::{Request, Response};

/// What a request asks of page-number paging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 1.
    pub page: usize,
    /// Items per page, within the provider's bounds.
    pub per_page: usize,
}

impl PageRequest {
    /// Reads `page` and `per_page` (`size_key`) from the query: a missing or unreadable
    /// size is `default`, any size is clamped to `1..=max`, a page below 1 is 1.
    ///
    /// ```
    /// use devflow_sync_testkit::simkit::{PageRequest, Request};
    /// let req = Request { query: vec![("per_page".into(), "500".into()), ("page".into(), "0".into())], ..Request::default() };
    /// assert_eq!(PageRequest::from_query(&req, "per_page", 30, 100), PageRequest { page: 1, per_page: 100 });
    /// ```
    pub fn from_query(req: &Request, size_key: &str, default: usize, max: usize) -> Self {
        let number = |key: &str| req.query(key).and_then(|v| v.parse::<usize>().ok());
        Self {
            page: number("page").unwrap_or(1).max(1),
            per_page: number(size_key).unwrap_or(default).clamp(1, max.max(1)),
        }
    }

    /// How many items come before this page.
    pub fn skip(&self) -> usize {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// The last page for `total` items (1 when there are none).
    pub fn last(&self, total: usize) -> usize {
        total.div_ceil(self.per_page).max(1)
    }
}

/// The request's URL at `base` + `path`, its query kept in order except `drop`ped
/// keys and the keys of `set`, which are appended with their new values (values
/// percent-encoded).
///
/// ```
/// use devflow_sync_testkit::simkit::{Request, paging::url_with};
/// let req = Request { query: vec![("labels".into(), "a b".into()), ("page".into(), "2".into())], ..Request::default() };
/// assert_eq!(url_with("http://x", "/issues", &req, &[("page", "3".into())], &[]), "http://x/issues?labels=a%20b&page=3");
/// ```
pub fn url_with(
    base: &str,
    path: &str,
    req: &Request,
    set: &[(&str, String)],
    drop: &[&str],
) -> String {
    let params: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(set.iter().map(|(k, v)| (*k, v.as_str())))
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    if params.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{}", params.join("&"))
    }
}

/// An RFC 8288 `link` header, built one relation at a time.
#[derive(Clone, Debug, Default)]
pub struct Links(Vec<String>);

impl Links {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `<url>; rel="rel"`.
    #[must_use]
    pub fn with(mut self, rel: &str, url: impl AsRef<str>) -> Self {
        self.0.push(format!("<{}>; rel=\"{rel}\"", url.as_ref()));
        self
    }

    /// `next` and `last` when there is a later page, `first` and `prev` when there is an
    /// earlier one, as GitHub answers page numbers; `url_for(n)` is page `n`'s URL.
    ///
    /// ```
    /// use devflow_sync_testkit::simkit::paging::Links;
    /// let links = Links::numbered(2, 3, |n| format!("http://x/i?page={n}"));
    /// assert_eq!(links.header().unwrap(), "<http://x/i?page=3>; rel=\"next\", <http://x/i?page=3>; rel=\"last\", <http://x/i?page=1>; rel=\"first\", <http://x/i?page=1>; rel=\"prev\"");
    /// assert!(Links::numbered(1, 1, |n| n.to_string()).header().is_none());
    /// ```
    pub fn numbered(page: usize, last: usize, url_for: impl Fn(usize) -> String) -> Self {
        let mut links = Self::new();
        if page < last {
            links = links
                .with("next", url_for(page + 1))
                .with("last", url_for(last));
        }
        if page > 1 {
            links = links
                .with("first", url_for(1))
                .with("prev", url_for(page - 1));
        }
        links
    }

    /// The header's value, `None` when there are no links.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join(", "))
    }

    /// `response` with the `link` header when there are links.
    pub fn apply(self, response: Response) -> Response {
        match self.header() {
            Some(value) => response.header("link", value),
            None => response,
        }
    }
}
