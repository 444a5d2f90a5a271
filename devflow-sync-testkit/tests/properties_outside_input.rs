//! The property suite of every core parser reachable from outside the process: rate
//! limit and retry headers, response classification and error messages, redaction,
//! webhook verification and delivery ids, origins and base URLs, OAuth state, key ring
//! parsing and decryption, PKCE, typed wire parsing with lenient fields, catalogs, rules, cron expressions and token-endpoint
//! responses. Each runs at least 1,000 cases of arbitrary bytes and of truncated and
//! mutated real inputs; each must answer with a value or a typed error, never a panic.
//! Provider crates add their own (`devflow-provider-*/tests/properties.rs`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use devflow_sync_core::api::{lenient, parse_borrowed};
use devflow_sync_core::auth::{
    ClientSecret, KeyRing, OAuthConfig, OAuthFlow, PkceVerifier, RefreshToken, SealedAt,
    StateSigner, WebhookSecret,
};
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::http::{
    KnownSecrets, Origin, check_api_base, classify, parse_reset, parse_retry_after, redact_body,
};
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::provider::Headers;
use devflow_sync_core::registry::load_catalog;
use devflow_sync_core::rules::{Cron, IntegrationRule};
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier, delivery_id, sign_hmac_sha256};
use devflow_sync_testkit::fuzz::mutate;
use devflow_sync_testkit::fuzz::strategies::{self, mutation, thousand_cases};
use devflow_sync_testkit::hostile::{HostileServer, one_shot_client};
use proptest::prelude::*;

/// A wire struct of the kinds every provider's has: lenient text, numbers, names of an
/// array of objects or strings, a number inside an object.
#[derive(serde::Deserialize)]
struct Wire<'a> {
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient::unsigned")]
    number: Option<u64>,
    #[serde(default, borrow, deserialize_with = "names")]
    labels: Vec<std::borrow::Cow<'a, str>>,
    #[serde(default, deserialize_with = "milestone")]
    milestone: Option<i64>,
}

fn names<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<std::borrow::Cow<'de, str>>, D::Error> {
    lenient::names(d, "name")
}

fn milestone<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient::field_signed(d, "number")
}

fn config() -> ProptestConfig {
    thousand_cases()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

/// A real input, cut and mutated.
fn mutated(real: &'static str) -> impl Strategy<Value = Vec<u8>> {
    strategies::mutated(real.as_bytes().to_vec())
}

/// Header values servers send, and what a hostile one might.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        "[0-9eE.+-]{0,30}",
        "[A-Za-z]{3}, [0-9]{1,5} [A-Za-z]{3} -?[0-9]{1,6} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
        "-?[0-9]{1,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{4})?",
        ".{0,40}",
    ]
}

const HEADER_NAMES: [&str; 8] = [
    "retry-after",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-reason",
    "x-beta-ratelimit-reason",
    "content-type",
    "x-hub-signature-256",
    "x-github-delivery",
];

fn headers() -> impl Strategy<Value = Headers> {
    prop::collection::vec((0..HEADER_NAMES.len(), header_value()), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(i, v)| (HEADER_NAMES[i], v))
            .collect()
    })
}

const ERROR_BODIES: [&str; 5] = [
    r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest"}"#,
    r#"{"errorMessages":["Issue does not exist"],"errors":{"summary":"You must specify a summary","customfield_10011":"x"}}"#,
    r#"{"message":"Validation Failed","errors":[{"resource":"Issue","code":"missing_field","field":"title"}]}"#,
    r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
    r#"{"code":401,"message":"Unauthorized; scope does not match"}"#,
];

fn error_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (
            0..ERROR_BODIES.len(),
            prop::collection::vec(mutation(), 0..6)
        )
            .prop_map(|(i, m)| mutate(ERROR_BODIES[i].as_bytes(), &m)),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn typed_wire_parsing_reads_or_names_where_it_failed(
        bytes in prop_oneof![
            mutated(r#"[{"name": "bug", "number": 3, "labels": [{"name": "a"}, "b"], "milestone": {"number": 2}}]"#),
            prop::collection::vec(any::<u8>(), 0..200),
        ]
    ) {
        match parse_borrowed::<Vec<Wire<'_>>>("Test", &bytes) {
            Ok(items) => for item in items {
                prop_assert!(item.labels.len() <= bytes.len());
                let _ = (item.name, item.number, item.milestone);
            },
            Err(devflow_sync_core::Error::InvalidInput { pointer: Some(p), message }) => {
                prop_assert!(p.starts_with('/'), "{p}");
                prop_assert!(message.starts_with("Test response, line "), "{message}");
            }
            Err(other) => prop_assert!(false, "untyped error {other:?}"),
        }
    }

    #[test]
    fn retry_after_never_panics_and_is_bounded(value in header_value()) {
        if let Some(wait) = parse_retry_after(&value, now()) {
            prop_assert!(wait <= devflow_sync_core::http::MAX_SERVER_WAIT);
        }
    }

    #[test]
    fn rate_limit_reset_never_panics(value in header_value()) {
        let _ = parse_reset(&value);
    }

    #[test]
    fn classify_never_panics_on_any_status_headers_and_body(
        status in any::<u16>(),
        headers in headers(),
        body in error_body(),
    ) {
        let _ = classify(status, &headers, &body, now());
    }

    #[test]
    fn redaction_removes_values_of_secret_keys(
        text in ".{0,200}",
        key in "(access_token|accessToken|apiKey|client_secret|clientSecret|password|refresh_token|code_verifier)",
        secret in "[A-Za-z0-9_-]{12,40}",
        cut in 0usize..400,
    ) {
        let _ = redact_body(&text);
        let body = format!(r#"{{"note":"{}","{key}":"{secret}","x":1}}"#, text.replace(['"', '\\'], ""));
        prop_assert!(!redact_body(&body).contains(&secret));
        // Cut short (no longer JSON), the key and value are still found in the text.
        let cut_body = &body[..body.len().min(cut).max(body.find(&secret).unwrap_or(0) + secret.len())];
        prop_assert!(!redact_body(cut_body).contains(&secret), "{}", cut_body);
    }

    #[test]
    fn known_secrets_are_scrubbed_wherever_they_appear(
        before in ".{0,60}",
        after in ".{0,60}",
        secret in "[A-Za-z0-9_./+=-]{4,48}",
    ) {
        let known = KnownSecrets::new().with(&secret);
        let text = format!("{before}{secret}{after}");
        prop_assert!(!known.scrub(&text).contains(&secret));
        let mut from_header = KnownSecrets::new();
        from_header.add_credential_header(&format!("Bearer {secret}"));
        prop_assert!(!from_header.scrub(&text).contains(&secret));
    }

    #[test]
    fn credential_headers_and_forms_never_panic(value in ".{0,80}", form in ".{0,120}") {
        let mut known = KnownSecrets::new();
        known.add_credential_header(&value);
        known.add_form(&form);
        let _ = known.scrub(&form);
    }

    #[test]
    fn webhook_verification_accepts_only_the_signed_body(
        body in prop::collection::vec(any::<u8>(), 0..512),
        mutations in prop::collection::vec(mutation(), 1..4),
        headers in headers(),
    ) {
        let secret = WebhookSecret::new("hook-secret");
        let verifier = WebhookVerifier::new(SignatureScheme::hmac_sha256("X-Hub-Signature-256", "sha256="))
            .secret(secret.clone())
            .delivery_id_header("X-GitHub-Delivery");
        let _ = verifier.verify(&headers, &body);
        let signed = Headers::new()
            .with("X-Hub-Signature-256", sign_hmac_sha256(&secret, &body))
            .with("X-GitHub-Delivery", "d-1");
        prop_assert!(verifier.verify(&signed, &body).is_ok());
        let changed = mutate(&body, &mutations);
        if changed != body {
            prop_assert!(verifier.verify(&signed, &changed).is_err());
        }
        let shared = WebhookVerifier::new(SignatureScheme::shared_token("X-Token")).secret(secret);
        let _ = shared.verify(&headers, &body);
    }

    #[test]
    fn delivery_ids_are_never_empty(value in ".{0,300}") {
        let headers = Headers::new().with("X-Id", value);
        match delivery_id(&headers, "X-Id") {
            Ok(id) => prop_assert!(!id.trim().is_empty() && id.len() <= 256),
            Err(e) => prop_assert!(e.to_string().contains("X-Id")),
        }
    }

    #[test]
    fn base_urls_pass_only_as_https_or_loopback_http(
        url in prop_oneof![
            ".{0,60}",
            "(https?|ftp|file)://([a-z0-9.@:-]{0,20}|\\[[0-9a-f:]{0,10}\\])(:[0-9]{1,6})?(/[a-z0-9./?#%@-]{0,20})?",
        ],
    ) {
        let _ = Origin::of(&url);
        if let Ok(origin) = check_api_base("p.base_url", &url) {
            prop_assert!(url.starts_with("https://") || origin.is_loopback(), "{url} -> {origin}");
            let authority = url.split_once("://").map_or("", |(_, rest)| {
                rest.split(['/', '?', '#']).next().unwrap_or_default()
            });
            prop_assert!(!authority.contains('@'), "{url} has credentials");
        }
    }

    #[test]
    fn oauth_state_rejects_anything_but_what_it_signed(
        garbage in ".{0,200}",
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let signer = StateSigner::new(ClientSecret::new("k"));
        let conn = ConnectionId::new("c");
        let _ = signer.verify(&garbage, "t", &conn);
        let state = signer.sign("t", &conn, "u").unwrap();
        let changed = String::from_utf8_lossy(&mutate(state.as_bytes(), &mutations)).into_owned();
        if changed != state {
            prop_assert!(signer.verify(&changed, "t", &conn).is_err());
        }
    }

    #[test]
    fn key_ring_parsing_and_decryption_never_panic(
        env in ".{0,120}",
        ciphertext in ".{0,120}",
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let _ = KeyRing::parse(&env);
        let ring = KeyRing::new().with_key("k1", [7; 32]).unwrap();
        let at = SealedAt::new("t", "p", "c", "access_token");
        let _ = ring.decrypt(&ciphertext, &at);
        let sealed = ring.encrypt(b"token", &at).unwrap();
        let changed = String::from_utf8_lossy(&mutate(sealed.as_bytes(), &mutations)).into_owned();
        if changed != sealed {
            prop_assert!(ring.decrypt(&changed, &at).is_err());
        }
    }

    #[test]
    fn pkce_challenges_are_43_url_safe_characters(verifier in ".{0,200}") {
        let c = PkceVerifier::challenge_of(&verifier);
        prop_assert_eq!(c.challenge.len(), 43);
        prop_assert!(c.challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn catalogs_load_or_fail_with_pointers(
        text in prop_oneof![
            ".{0,200}".prop_map(String::into_bytes),
            mutated(include_str!("../../devflow-provider-github/provider.json")),
        ],
    ) {
        let text = String::from_utf8_lossy(&text);
        if let Err(e) = load_catalog("provider.json", &text) {
            prop_assert!(e.to_string().starts_with("provider.json"));
        }
    }

    #[test]
    fn rules_load_or_fail_with_pointers(
        text in prop_oneof![
            ".{0,200}".prop_map(String::into_bytes),
            mutated(r#"{"provider":"github","object":"issue","direction":"bidirectional","interval":{"cron":"*/15 9-17 * * 1-5"},"filters":{"labels":["sync"]},"initialSyncMode":"delta_only_after_date","initialSyncSince":"2026-01-01T00:00:00Z","conflictPolicy":{"default":"manual","fields":{"status":"remote_wins"}}}"#),
        ],
        last in any::<i64>(),
    ) {
        let text = String::from_utf8_lossy(&text);
        match IntegrationRule::load("rule.json", &text) {
            Ok(rule) => {
                let last = DateTime::from_timestamp(last % 253_402_300_799, 0);
                let mut jitter = devflow_sync_core::http::SeededJitter::new(1);
                let _ = rule.next_run(last, now(), &mut jitter);
                let _ = rule.initial_cursor(now());
            }
            Err(e) => prop_assert!(e.to_string().starts_with("rule.json")),
        }
    }

    #[test]
    fn cron_expressions_parse_or_fail_and_never_panic(
        expression in prop_oneof![
            ".{0,40}",
            "([0-9*,/-]{1,8} ){4}[0-9*,/-]{1,8}",
        ],
        after in any::<i64>(),
    ) {
        if let Ok(cron) = Cron::parse(&expression) {
            for t in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC, now()]
                .into_iter()
                .chain(DateTime::from_timestamp(after % 8_000_000_000_000, 0))
            {
                if let Some(next) = cron.next_after(t) {
                    prop_assert!(next > t);
                }
            }
        }
    }
}

/// Token-endpoint answers, arbitrary and mutated, through a real loopback exchange.
#[test]
fn token_endpoint_responses_never_panic() {
    const TOKENS: &str = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2","scope":"repo read:org","endpoint":"https://api.bqecore.com/api"}"#;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(HostileServer::start());
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let http = one_shot_client().unwrap();
    let mut oauth = OAuthConfig::new("github", "client", format!("{}/token", server.url));
    oauth.client_secret = Some(ClientSecret::new("client-secret-value"));
    oauth.errors_as_200 = true;
    let flow = OAuthFlow::new(
        oauth,
        http,
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap()
    .with_clock(Arc::new(clock));
    let strategy = (
        // Informational (1xx) answers are left out: a client rightly waits for the
        // final one after them.
        prop_oneof![
            Just(200u16),
            Just(400),
            Just(401),
            Just(429),
            Just(500),
            200u16..1000
        ],
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            mutated(TOKENS),
            mutated(
                r#"{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired.","error_uri":"https://docs.github.com"}"#
            ),
        ],
    );
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&strategy, |(status, body)| {
            server.reset();
            server.answer(status, &[("content-type", "application/json")], &body);
            let result = runtime.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(10),
                    flow.refresh(&ConnectionId::new("c"), &RefreshToken::new("rt-old-value")),
                )
                .await
            });
            prop_assert!(result.is_ok(), "the exchange hung");
            if let Ok(Err(e)) = result {
                let text = e.to_string();
                prop_assert!(
                    !text.contains("rt-old-value") && !text.contains("client-secret-value"),
                    "{}",
                    text
                );
            }
            Ok(())
        })
        .unwrap();
}

/// Signed deliveries of any shape, through the engine's accept and process.
#[test]
fn the_engine_takes_any_signed_delivery_without_panicking() {
    use devflow_sync_core::merge::Manual;
    use devflow_sync_testkit::harness::{Harness, PROVIDER};
    const DELIVERY: &str = r#"{"delivery_id":"delivery-1","events":[{"object":"issue","id":"1","action":"upsert","occurred_at":"2026-05-28T20:26:40Z","record":{"id":"1","url":"memory://memory/issue/1","record":{"object":"issue","kind":"story","parent":"m-0","fields":{"title":{"type":"text","value":"x"}},"updated_at":"2026-05-28T20:26:40Z","version":"1"},"deleted":false}}]}"#;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let h = Harness::new(Manual);
    let secret = WebhookSecret::new("memory-secret");
    let strategy = (
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            prop::collection::vec(mutation(), 0..6).prop_map(|m| mutate(DELIVERY.as_bytes(), &m)),
        ],
        prop_oneof![Just("d-1".to_owned()), ".{0,6}"],
    );
    let applied = std::sync::atomic::AtomicUsize::new(0);
    let case = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&strategy, |(body, id)| {
            // A fresh delivery id each case, so none is dropped as a repeat.
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let body = String::from_utf8_lossy(&body)
                .replace("delivery-1", &format!("delivery-{n}"))
                .into_bytes();
            let headers = Headers::new()
                .with("x-memory-signature", sign_hmac_sha256(&secret, &body))
                .with("x-memory-delivery", id);
            runtime.block_on(async {
                let _ = h
                    .engine
                    .accept_webhook(&PROVIDER.into(), &h.connection, &headers, &body)
                    .await;
                if let Ok(report) = h.engine.process_inbox(10).await {
                    applied.fetch_add(report.outcomes.len(), std::sync::atomic::Ordering::Relaxed);
                }
            });
            Ok(())
        })
        .unwrap();
    assert!(
        applied.load(std::sync::atomic::Ordering::Relaxed) > 50,
        "the mutated deliveries reached the engine's apply step"
    );
}
