//! Page tokens of issue listings: which configured repository, and the URL GitHub's
//! `link` header gave, checked before anything is sent to it.
//!
//! A token is `<index> <owner/name> <url>`. On the way back in it must still fit the
//! configuration: the index names the same repository, and the URL is a listing of
//! that repository's issues at the configured API origin. A token that does not fit (a
//! repository removed from the configuration since, another host) is
//! [`Error::StalePageToken`]: the engine drops it and lists again from its high-water
//! mark.

use devflow_sync_core::http::Origin;
use devflow_sync_core::{Error, Result};

/// The page token for `url`, a listing of `repo`, the repository at `index`.
pub(crate) fn encode_token(index: usize, repo: &str, url: &str) -> String {
    format!("{index} {repo} {url}")
}

/// Where a page token leads, after checking it against the configuration.
pub(crate) fn decode_token(
    token: &str,
    repositories: &[String],
    origin: &Origin,
    base_path: &str,
) -> Result<(usize, String)> {
    let stale = |why: &str| Error::StalePageToken(format!("GitHub page token: {why}"));
    let mut parts = token.splitn(3, ' ');
    let (Some(index), Some(repo), Some(url)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(stale("not a page token of this version"));
    };
    let index: usize = index
        .parse()
        .map_err(|_| stale("not a page token of this version"))?;
    let configured = repositories
        .get(index)
        .ok_or_else(|| stale(&format!("repository {repo} is no longer configured")))?;
    if !configured.eq_ignore_ascii_case(repo) {
        return Err(stale(&format!("repository {repo} is no longer configured")));
    }
    check_page_url(url, repo, origin, base_path).map_err(|e| stale(&e.to_string()))?;
    Ok((index, url.to_owned()))
}

/// Checks that `url` (from a `link` header or a saved token) lists `repo`'s issues at
/// the configured origin: `{base}/repos/{repo}/issues` or GitHub's
/// `{base}/repositories/{id}/issues`. Anything else is refused with an error naming
/// the refused origin or path; no credential is sent to it.
pub(crate) fn check_page_url(
    url: &str,
    repo: &str,
    origin: &Origin,
    base_path: &str,
) -> Result<()> {
    let (target, path) = Origin::with_path(url)?;
    if &target != origin {
        return Err(Error::PermissionDenied(format!(
            "a page link names {target}, not the configured API origin {origin}; not followed"
        )));
    }
    let base = base_path.trim_end_matches('/');
    let tail = path.strip_prefix(base).unwrap_or("");
    let by_name = tail
        .strip_prefix("/repos/")
        .and_then(|t| t.strip_suffix("/issues"))
        .is_some_and(|r| r.eq_ignore_ascii_case(repo));
    let by_id = tail
        .strip_prefix("/repositories/")
        .and_then(|t| t.strip_suffix("/issues"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    if by_name || by_id {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "a page link leads to {path}, not to the issues of {repo}; not followed"
        )))
    }
}

/// The ETag cache key of a list URL: the URL without its `since` parameter, so the
/// same page asked for from a moved lookback window can still be answered 304 when
/// its content did not change.
pub(crate) fn etag_key(url: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.starts_with("since="))
                .collect();
            format!("{path}?{}", kept.join("&"))
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin::of("https://api.github.com").unwrap()
    }

    fn repos() -> Vec<String> {
        vec!["acme/app".into(), "acme/web".into()]
    }

    #[test]
    fn tokens_round_trip_and_stale_ones_are_named() {
        let url = "https://api.github.com/repositories/42/issues?page=2";
        let token = encode_token(1, "acme/web", url);
        assert_eq!(
            decode_token(&token, &repos(), &origin(), "").unwrap(),
            (1, url.to_owned())
        );
        for (token, needle) in [
            // The repository was removed: the index now names no repository.
            (encode_token(5, "acme/gone", url), "acme/gone"),
            // The index names another repository now.
            (encode_token(1, "acme/gone", url), "acme/gone"),
            // A token of the version before this one.
            (format!("1 {url}"), "version"),
            ("garbage".to_owned(), "version"),
            (
                encode_token(0, "acme/app", "https://evil.test/repos/acme/app/issues"),
                "evil.test",
            ),
            (
                encode_token(
                    0,
                    "acme/app",
                    "https://api.github.com/repos/acme/web/issues",
                ),
                "acme/app",
            ),
            (
                encode_token(0, "acme/app", "https://api.github.com/user/repos"),
                "/user/repos",
            ),
        ] {
            let err = decode_token(&token, &repos(), &origin(), "").unwrap_err();
            assert!(matches!(err, Error::StalePageToken(_)), "{token}: {err:?}");
            assert!(err.to_string().contains(needle), "{token}: {err}");
        }
    }

    #[test]
    fn page_links_to_another_origin_are_refused() {
        for url in [
            "http://api.github.com/repos/acme/app/issues?page=2",
            "https://api.github.com:8443/repos/acme/app/issues?page=2",
            "https://api.github.com.evil.test/repos/acme/app/issues?page=2",
            "https://evil.test@api.github.com.evil.test/repos/acme/app/issues",
        ] {
            let err = check_page_url(url, "acme/app", &origin(), "").unwrap_err();
            assert!(matches!(err, Error::PermissionDenied(_)), "{url}: {err:?}");
        }
        let enterprise = Origin::of("https://ghe.acme.test").unwrap();
        check_page_url(
            "https://ghe.acme.test/api/v3/repos/acme/app/issues?page=3",
            "acme/app",
            &enterprise,
            "/api/v3",
        )
        .unwrap();
        assert!(
            check_page_url(
                "https://ghe.acme.test/repos/acme/app/issues?page=3",
                "acme/app",
                &enterprise,
                "/api/v3",
            )
            .is_err()
        );
    }
}
