use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::error::Error;
use crate::provider::Headers;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 28, 7, 40, 0).unwrap()
}

fn retry(d: Disposition) -> (RetryReason, Option<Duration>, Error) {
    match d {
        Disposition::Retry {
            reason,
            wait,
            error,
        } => (reason, wait, error),
        other => panic!("expected a retry, got {other:?}"),
    }
}

fn fail(d: Disposition) -> Error {
    match d {
        Disposition::Fail(e) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn each_retry_class() {
    for status in [500, 502, 503, 504] {
        let (reason, wait, error) = retry(classify(status, &Headers::new(), b"oops", now()));
        assert_eq!(reason, RetryReason::ServerError);
        assert_eq!(wait, None);
        assert!(error.is_retryable());
    }
    let (reason, _, _) = retry(classify(408, &Headers::new(), b"", now()));
    assert_eq!(reason, RetryReason::RequestTimeout);
    let (reason, wait, error) = retry(classify(429, &Headers::new(), b"", now()));
    assert_eq!((reason, wait), (RetryReason::RateLimited, None));
    assert!(matches!(error, Error::RateLimited { .. }));
    assert!(matches!(
        classify(200, &Headers::new(), b"", now()),
        Disposition::Success
    ));
    assert!(matches!(
        classify(304, &Headers::new(), b"", now()),
        Disposition::Success
    ));
}

#[test]
fn retry_after_in_seconds_and_as_an_http_date() {
    let h = Headers::new().with("Retry-After", "7");
    let (_, wait, _) = retry(classify(429, &h, b"", now()));
    assert_eq!(wait, Some(Duration::from_secs(7)));
    let h = Headers::new().with("retry-after", "Tue, 28 Apr 2026 07:41:30 GMT");
    let (_, wait, error) = retry(classify(503, &h, b"", now()));
    assert_eq!(wait, Some(Duration::from_secs(90)));
    assert!(matches!(error, Error::Transient(_)));
}

#[test]
fn github_primary_limit_is_a_rate_limit_not_a_refusal() {
    let reset = (now().timestamp() + 600).to_string();
    let h = Headers::new()
        .with("x-ratelimit-limit", "5000")
        .with("x-ratelimit-remaining", "0")
        .with("x-ratelimit-reset", reset.as_str())
        .with("x-ratelimit-resource", "core");
    for status in [403, 429] {
        let (reason, wait, error) = retry(classify(
            status,
            &h,
            br#"{"message":"API rate limit exceeded for user ID 1."}"#,
            now(),
        ));
        assert_eq!(reason, RetryReason::RateLimited);
        assert_eq!(wait, Some(Duration::from_secs(600)));
        assert!(
            error.to_string().contains("API rate limit exceeded"),
            "{error}"
        );
    }
    // With budget left, a 403 is a refusal.
    let h = Headers::new().with("x-ratelimit-remaining", "4999");
    let err = fail(classify(
        403,
        &h,
        br#"{"message":"Resource not accessible by integration"}"#,
        now(),
    ));
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}

#[test]
fn github_secondary_limit_without_headers_waits_at_least_a_minute() {
    let body = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#;
    let (reason, wait, _) = retry(classify(403, &Headers::new(), body, now()));
    assert_eq!(reason, RetryReason::RateLimited);
    assert_eq!(wait, Some(SECONDARY_LIMIT_WAIT));
    // A retry-after given with it wins.
    let (_, wait, _) = retry(classify(
        403,
        &Headers::new().with("retry-after", "120"),
        body,
        now(),
    ));
    assert_eq!(wait, Some(Duration::from_secs(120)));
}

#[test]
fn atlassian_429_with_retry_after_reason_and_reset_headers() {
    let h = Headers::new()
        .with("Retry-After", "5")
        .with("RateLimit-Reason", "jira-burst-based")
        .with("X-RateLimit-NearLimit", "true");
    let (_, wait, error) = retry(classify(429, &h, b"", now()));
    assert_eq!(wait, Some(Duration::from_secs(5)));
    assert!(error.to_string().contains("jira-burst-based"), "{error}");
    // The 2026 quota answer without Retry-After: remaining 0 and an ISO reset.
    let h = Headers::new()
        .with("X-RateLimit-Remaining", "0")
        .with("X-RateLimit-Reset", "2026-04-28T07:48Z")
        .with("X-Beta-RateLimit-Reason", "tenant-app-quota")
        .with("Beta-RateLimit", "\"tenant-app-quota\";r=0;t=480");
    let (_, wait, error) = retry(classify(429, &h, b"", now()));
    assert_eq!(wait, Some(Duration::from_secs(480)));
    assert!(error.to_string().contains("tenant-app-quota"));
}

#[test]
fn status_to_error_kind_in_one_place() {
    type Check = fn(&Error) -> bool;
    let cases: [(u16, Check); 8] = [
        (401, |e| matches!(e, Error::Unauthenticated(_))),
        (403, |e| matches!(e, Error::PermissionDenied(_))),
        (404, |e| matches!(e, Error::NotFound(_))),
        (410, |e| matches!(e, Error::NotFound(_))),
        (409, |e| matches!(e, Error::Precondition(_))),
        (412, |e| matches!(e, Error::Precondition(_))),
        (400, |e| matches!(e, Error::InvalidInput { .. })),
        (422, |e| matches!(e, Error::InvalidInput { .. })),
    ];
    for (status, check) in cases {
        let err = fail(classify(status, &Headers::new(), b"", now()));
        assert!(check(&err), "{status} -> {err:?}");
        assert!(err.to_string().contains(&format!("HTTP {status}")), "{err}");
    }
}

fn fixture(path: &str) -> Option<serde_json::Value> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(path);
    std::fs::read_to_string(file)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap())
}

#[test]
fn provider_error_bodies_become_short_messages() {
    // GitHub's recorded validation failure.
    if let Some(rec) = fixture("github/rest-errors.recorded.json") {
        let body = rec[0]["response"].to_string();
        let err = fail(classify(422, &Headers::new(), body.as_bytes(), now()));
        assert_eq!(
            err.to_string(),
            "invalid input: HTTP 422: Validation Failed; color: invalid"
        );
    }
    // Jira's shape.
    let body = br#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#;
    let err = fail(classify(404, &Headers::new(), body, now()));
    assert!(err.to_string().contains("Issue does not exist"));
    let body =
        br#"{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue."}}"#;
    let err = fail(classify(400, &Headers::new(), body, now()));
    assert!(
        err.to_string()
            .contains("summary: You must specify a summary"),
        "{err}"
    );
}

#[test]
fn token_endpoint_bodies_are_redacted_and_truncated() {
    let body = br#"{"error":"invalid_grant","error_description":"refresh_token=rt-SECRET is revoked","access_token":"at-SECRET"}"#;
    let err = fail(classify(400, &Headers::new(), body, now()));
    let text = err.to_string();
    assert!(
        text.contains("invalid_grant") && !text.contains("SECRET"),
        "{text}"
    );
    let long = "x".repeat(5000);
    let err = fail(classify(500 - 100, &Headers::new(), long.as_bytes(), now()));
    assert!(err.to_string().len() < MAX_ERROR_BODY + 100);
    let text =
        redact_body("Authorization: Bearer eyJhbGciOi.secret.part and client_secret=abc&x=1");
    assert!(
        !text.contains("eyJhbGciOi") && !text.contains("abc&"),
        "{text}"
    );
    assert!(text.contains("x=1"));
    // Multi-byte text is cut on a character boundary.
    let accents = "é".repeat(600);
    assert!(redact_body(&accents).starts_with('é'));
}

#[test]
fn backoff_is_deterministic_bounded_and_grows() {
    let config = BackoffConfig {
        init: Duration::from_millis(100),
        max: Duration::from_secs(10),
        base: 3.0,
    };
    let mut b = Backoff::new(config, Box::new(SeededJitter::new(42)));
    let delays: Vec<Duration> = (0..20).map(|_| b.next_delay()).collect();
    assert!(delays.iter().all(|d| *d >= config.init && *d <= config.max));
    assert!(
        delays.iter().max().unwrap() > &Duration::from_secs(1),
        "{delays:?}"
    );
    let mut again = Backoff::new(config, Box::new(SeededJitter::new(42)));
    assert_eq!(
        delays,
        (0..20).map(|_| again.next_delay()).collect::<Vec<_>>()
    );
    let mut other = Backoff::new(config, Box::new(SeededJitter::new(43)));
    assert_ne!(
        delays,
        (0..20).map(|_| other.next_delay()).collect::<Vec<_>>()
    );
}

#[test]
fn budget_refills_and_can_be_exhausted_by_the_provider() {
    let t0 = now();
    let mut budget = RequestBudget::new(120, 3, t0);
    for _ in 0..3 {
        assert_eq!(budget.take(t0), Duration::ZERO);
    }
    assert_eq!(budget.take(t0), Duration::from_millis(500));
    assert_eq!(budget.take(t0), Duration::from_secs(1));
    let later = t0 + chrono::Duration::seconds(10);
    assert_eq!(budget.take(later), Duration::ZERO);
    budget.exhaust_until(later + chrono::Duration::seconds(30), later);
    assert!(budget.take(later) >= Duration::from_secs(30));
}

#[test]
fn a_provider_reset_leaves_one_token_at_the_reset_time() {
    let t0 = now();
    let mut budget = RequestBudget::new(600, 50, t0);
    assert_eq!(budget.take(t0), Duration::ZERO);
    budget.exhaust_until(t0 + chrono::Duration::seconds(7), t0);
    assert!(budget.take(t0 + chrono::Duration::milliseconds(6900)) > Duration::ZERO);
    let mut budget = RequestBudget::new(600, 50, t0);
    budget.take(t0);
    budget.exhaust_until(t0 + chrono::Duration::seconds(7), t0);
    assert_eq!(
        budget.take(t0 + chrono::Duration::seconds(7)),
        Duration::ZERO
    );
}
