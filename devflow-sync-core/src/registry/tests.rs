use super::*;

const GOOD: &str = r#"{
  "providerSchemaVersion": 1,
  "key": "demo",
  "displayName": "Demo",
  "futureKey": {"kept": true},
  "oauth": {"flows": ["authorization_code"], "authUrl": "https://demo.test/auth", "tokenUrl": "https://demo.test/token", "scopes": ["read"], "pkce": true},
  "requiredHeaders": [{"key": "X-Tenant", "label": "Tenant", "source": "env", "envKey": "DEMO_TENANT"}],
  "baseUrlVariants": {"prod": "https://api.demo.test", "sandbox": "https://sandbox.demo.test", "eu": "https://eu.demo.test"},
  "rateLimits": {"requestsPerMinute": 120, "burst": 10, "maxConcurrentPerConnection": 3},
  "objects": [{
    "key": "issue", "label": "Issue", "mappingSchemaVersion": 2,
    "fields": [
      {"name": "id", "type": "text", "identifier": true, "readOnly": true},
      {"name": "title", "type": "text"},
      {"name": "labels", "type": "set", "nullable": false, "unknownFlag": 1}
    ],
    "capabilities": {"list": true, "delta": true, "create": true, "update": true, "delete": false, "webhook": true},
    "hierarchy": {"parentKey": "parent"},
    "filters": {"labels": {"query": "labels={value}", "description": "Labels"}}
  }],
  "webhooks": {"events": ["issue.updated"], "signature": "hmac_sha256"}
}"#;

fn mutate(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    f(&mut v);
    v.to_string()
}

#[test]
fn a_good_catalog_loads_and_keeps_unknown_keys() {
    let catalog = load_catalog("provider.json", GOOD).unwrap();
    assert_eq!(catalog.key.as_str(), "demo");
    assert_eq!(catalog.oauth.flows, vec![AuthFlowKind::AuthorizationCode]);
    assert_eq!(catalog.required_headers[0].source, HeaderSource::Env);
    assert_eq!(catalog.base_url_variants["eu"], "https://eu.demo.test");
    let issue = catalog.object("issue").unwrap();
    assert_eq!(issue.mapping_schema_version, 2);
    assert_eq!(
        issue.field("labels").unwrap().field_type,
        crate::model::FieldType::Set
    );
    assert!(issue.field("id").unwrap().identifier);
    assert_eq!(catalog.raw["futureKey"]["kept"], true);
    assert_eq!(catalog.raw["objects"][0]["fields"][2]["unknownFlag"], 1);
}

#[test]
fn malformed_catalogs_name_the_file_the_pointer_and_the_rule() {
    // A wrong field type.
    let text = mutate(|v| v["objects"][0]["fields"][2]["type"] = "strng".into());
    let err = load_catalog("provider.json", &text).unwrap_err();
    let line = err.to_string();
    assert!(
        line.starts_with("provider.json: /objects/0/fields/2/type: \"strng\" is not one of"),
        "{line}"
    );
    assert!(
        err.violations[0].rule.ends_with("/type/enum"),
        "{:?}",
        err.violations[0]
    );

    // An unknown flow.
    let text = mutate(|v| v["oauth"]["flows"] = serde_json::json!(["implicit"]));
    let err = load_catalog("github.json", &text).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("github.json: /oauth/flows/0: \"implicit\" is not one of"),
        "{err}"
    );

    // A required header without its label, and an env header without its variable.
    let text = mutate(|v| {
        v["requiredHeaders"] = serde_json::json!([{"key": "X-A", "source": "connection"}, {"key": "X-B", "label": "B", "source": "env"}]);
    });
    let err = load_catalog("provider.json", &text).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("provider.json: /requiredHeaders/0: \"label\" is a required property"),
        "{text}"
    );
    assert!(
        text.contains("provider.json: /requiredHeaders/1: \"envKey\" is a required property"),
        "{text}"
    );
    assert_eq!(err.violations.len(), 2, "one line per violation: {text}");

    // Wrong types and missing sections.
    let text = mutate(|v| {
        v["rateLimits"]["burst"] = "ten".into();
        v.as_object_mut().unwrap().remove("objects");
    });
    let err = load_catalog("provider.json", &text).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("/rateLimits/burst: \"ten\" is not of type \"integer\""),
        "{text}"
    );
    assert!(
        text.contains("provider.json: /: \"objects\" is a required property"),
        "{text}"
    );

    // Not JSON at all.
    let err = load_catalog("provider.json", "{ nope").unwrap_err();
    assert!(
        err.to_string().starts_with("provider.json: /: not JSON:"),
        "{err}"
    );

    // As a core error, the pointer names the file and the first place.
    let core: crate::Error = load_catalog("p.json", &mutate(|v| v["key"] = "Bad Key".into()))
        .unwrap_err()
        .into();
    match core {
        crate::Error::InvalidConfig { pointer, .. } => assert_eq!(pointer, "p.json#/key"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_registry_lists_gets_and_overrides_rate_limits() {
    let mut registry = Registry::new();
    registry.load("demo.json", GOOD).unwrap();
    assert!(
        registry.load("demo.json", GOOD).is_err(),
        "a key registers once"
    );
    assert_eq!(registry.providers().count(), 1);
    assert!(registry.object("demo", "issue").is_some());
    assert!(registry.object("demo", "page").is_none());

    let settings = std::collections::HashMap::from([
        (
            "DEVFLOW_SYNC_DEMO_REQUESTS_PER_MINUTE".to_owned(),
            "30".to_owned(),
        ),
        (
            "DEVFLOW_SYNC_DEMO_GLOBAL_REQUESTS_PER_MINUTE".to_owned(),
            "1000".to_owned(),
        ),
    ]);
    registry
        .override_rate_limits(|k| settings.get(k).cloned())
        .unwrap();
    let limits = registry.provider("demo").unwrap().rate_limits;
    assert_eq!(limits.requests_per_minute, 30);
    assert_eq!(limits.burst, 10, "not overridden");
    assert_eq!(limits.global_requests_per_minute, Some(1000));
    assert_eq!(limits.to_http().max_concurrent_per_connection, 3);

    let err = registry
        .override_rate_limits(|k| (k == "DEVFLOW_SYNC_DEMO_BURST").then(|| "0".to_owned()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config at DEVFLOW_SYNC_DEMO_BURST: \"0\" is not a whole number of at least 1"
    );
}

#[test]
fn the_field_signature_hash_changes_with_the_fields_only() {
    let a = load_catalog("p", GOOD).unwrap();
    let reordered = mutate(|v| {
        let fields = v["objects"][0]["fields"].as_array_mut().unwrap();
        fields.reverse();
        v["objects"][0]["label"] = "Renamed".into();
    });
    let b = load_catalog("p", &reordered).unwrap();
    assert_eq!(
        a.objects[0].field_signature_hash(),
        b.objects[0].field_signature_hash()
    );
    let retyped = mutate(|v| v["objects"][0]["fields"][1]["type"] = "long_text".into());
    let c = load_catalog("p", &retyped).unwrap();
    assert_ne!(
        a.objects[0].field_signature_hash(),
        c.objects[0].field_signature_hash()
    );
}
