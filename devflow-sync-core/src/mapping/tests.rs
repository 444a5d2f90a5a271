use std::collections::BTreeMap;

use super::*;
use crate::model::UserRef;
use crate::registry::load_catalog;

fn github_catalog(extra_fields: &str) -> ObjectCatalog {
    let doc = format!(
        r#"{{"providerSchemaVersion":1,"key":"github","displayName":"GitHub","oauth":{{"flows":["api_token"]}},
        "rateLimits":{{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2}},
        "objects":[{{"key":"issue","label":"Issue","mappingSchemaVersion":1,"fields":[
          {{"name":"title","type":"text"}},{{"name":"state","type":"enum"}},{{"name":"labels","type":"set"}},
          {{"name":"assignees","type":"set"}}{extra_fields}],
        "capabilities":{{"list":true,"delta":true,"create":true,"update":true,"delete":false,"webhook":true}}}}]}}"#
    );
    load_catalog("github.json", &doc).unwrap().objects.remove(0)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn github_mapping() -> ObjectMapping {
    ObjectMapping::new(
        "github",
        &github_catalog(""),
        vec![
            FieldMapping::identity("title", "title", FieldType::Text),
            FieldMapping::identity("status", "state", FieldType::Enum).with_transform(
                Transform::StateAndLabels {
                    closed: "done".into(),
                    closing: ["cancelled".to_owned()].into(),
                    labels: map(&[
                        ("status:in-progress", "in_progress"),
                        ("status:review", "in_review"),
                    ]),
                    open_default: "todo".into(),
                },
            ),
            FieldMapping::identity("priority", "labels", FieldType::Set)
                .with_transform(Transform::LabelPick {
                    labels: map(&[("P1", "high"), ("P2", "medium"), ("P3", "low")]),
                })
                .with_default(FieldValue::enumeration("medium")),
            FieldMapping::identity("tags", "labels", FieldType::Set)
                .with_transform(Transform::LabelRest),
            FieldMapping::identity("owners", "assignees", FieldType::Set).with_transform(
                Transform::Users {
                    members: map(&[("octocat", "member-1"), ("hubot", "member-2")]),
                },
            ),
        ],
    )
}

#[test]
fn github_state_and_labels_map_to_status_priority_tags_and_back() {
    let m = github_mapping();
    let provider = Fields::new()
        .with("title", "Fix login")
        .with("state", FieldValue::enumeration("open"))
        .with(
            "labels",
            FieldValue::set(["bug", "P1", "status:review", "frontend"]),
        )
        .with("assignees", FieldValue::set(["octocat", "stranger"]));
    let host = m.to_host(&provider);
    assert_eq!(host.get("status").as_str(), Some("in_review"));
    assert_eq!(host.get("priority").as_str(), Some("high"));
    assert_eq!(host.get("tags"), &FieldValue::set(["bug", "frontend"]));
    assert_eq!(
        host.get("owners"),
        &FieldValue::set(["member-1"]),
        "unknown users map to nobody"
    );

    // Closed wins over labels; no priority label takes the default.
    let closed = provider
        .clone()
        .with("state", FieldValue::enumeration("closed"))
        .with("labels", FieldValue::set(["bug"]));
    let host_closed = m.to_host(&closed);
    assert_eq!(host_closed.get("status").as_str(), Some("done"));
    assert_eq!(host_closed.get("priority").as_str(), Some("medium"));

    // Back: the host moves it to in progress, low priority, a new tag.
    let mut edited = host;
    edited.insert("status", FieldValue::enumeration("in_progress"));
    edited.insert("priority", FieldValue::enumeration("low"));
    edited.insert("tags", FieldValue::set(["bug", "frontend", "a11y"]));
    edited.insert("owners", FieldValue::set(["member-2"]));
    let out = m.to_provider(&edited, &provider);
    assert_eq!(out.get("state").as_str(), Some("open"));
    assert_eq!(
        out.get("labels"),
        &FieldValue::set(["P3", "a11y", "bug", "frontend", "status:in-progress"])
    );
    assert_eq!(out.get("assignees"), &FieldValue::set(["hubot"]));
    // Round trip: reading back what was written gives the host's values.
    let again = m.to_host(&out);
    for field in ["status", "priority", "tags", "owners", "title"] {
        assert_eq!(again.get(field), edited.get(field), "{field}");
    }

    // A closing status closes the issue and drops status labels.
    edited.insert("status", FieldValue::enumeration("cancelled"));
    let out = m.to_provider(&edited, &provider);
    assert_eq!(out.get("state").as_str(), Some("closed"));
    assert!(
        !out.get("labels")
            .as_set()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("status:"))
    );
}

#[test]
fn jira_status_to_category_and_users_by_account_id() {
    let catalog = load_catalog(
        "jira.json",
        r#"{"providerSchemaVersion":1,"key":"jira","displayName":"Jira","oauth":{"flows":["api_token"]},
        "rateLimits":{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2},
        "objects":[{"key":"issue","label":"Issue","mappingSchemaVersion":1,"fields":[
          {"name":"status","type":"enum"},{"name":"assignee","type":"user"}],
        "capabilities":{"list":true,"delta":true,"create":true,"update":true,"delete":true,"webhook":true}}]}"#,
    )
    .unwrap();
    let m = ObjectMapping::new(
        "jira",
        &catalog.objects[0],
        vec![
            FieldMapping::identity("status", "status", FieldType::Enum).with_transform(
                Transform::ValueMap {
                    to_host: map(&[
                        ("To Do", "todo"),
                        ("In Progress", "in_progress"),
                        ("Code Review", "in_progress"),
                        ("Done", "done"),
                    ]),
                    to_provider: map(&[
                        ("todo", "To Do"),
                        ("in_progress", "In Progress"),
                        ("done", "Done"),
                    ]),
                    host_default: Some("todo".into()),
                },
            ),
            FieldMapping::identity("owner", "assignee", FieldType::User).with_transform(
                Transform::Users {
                    members: map(&[("5b10ac8d82e05b22cc7d4ef5", "member-7")]),
                },
            ),
        ],
    );
    let provider = Fields::new()
        .with("status", FieldValue::enumeration("Code Review"))
        .with(
            "assignee",
            FieldValue::from(UserRef::new("5b10ac8d82e05b22cc7d4ef5").with_display_name("Mia")),
        );
    let host = m.to_host(&provider);
    assert_eq!(host.get("status").as_str(), Some("in_progress"));
    assert_eq!(host.get("owner"), &FieldValue::user("member-7"));
    let unknown = m.to_host(&Fields::new().with("status", FieldValue::enumeration("Blocked")));
    assert_eq!(
        unknown.get("status").as_str(),
        Some("todo"),
        "unmapped values take the default"
    );
    let back = m.to_provider(
        &Fields::new()
            .with("status", FieldValue::enumeration("done"))
            .with("owner", FieldValue::user("member-7")),
        &Fields::new(),
    );
    assert_eq!(back.get("status").as_str(), Some("Done"));
    assert_eq!(
        back.get("assignee"),
        &FieldValue::user("5b10ac8d82e05b22cc7d4ef5")
    );
}

#[test]
fn directions_limit_which_way_a_field_goes() {
    let m = ObjectMapping::new(
        "github",
        &github_catalog(""),
        vec![
            FieldMapping::identity("title", "title", FieldType::Text)
                .with_direction(MappingDirection::Pull),
            FieldMapping::identity("owners", "assignees", FieldType::Set)
                .with_direction(MappingDirection::Push),
        ],
    );
    let host = m.to_host(
        &Fields::new()
            .with("title", "T")
            .with("assignees", FieldValue::set(["x"])),
    );
    assert!(host.contains("title") && !host.contains("owners"));
    let out = m.to_provider(
        &Fields::new()
            .with("title", "new")
            .with("owners", FieldValue::set(["y"])),
        &Fields::new().with("title", "old"),
    );
    assert_eq!(
        out.get("title").as_str(),
        Some("old"),
        "pull-only fields are not pushed"
    );
    assert_eq!(out.get("assignees"), &FieldValue::set(["y"]));
}

#[test]
fn staleness_when_a_field_disappears_or_changes_type_and_the_run_is_refused() {
    let saved = ObjectMapping::new(
        "github",
        &github_catalog(r#",{"name":"milestone","type":"number"},{"name":"due","type":"date"}"#),
        vec![
            FieldMapping::identity("title", "title", FieldType::Text),
            FieldMapping::identity("sprint", "milestone", FieldType::Number),
            FieldMapping::identity("due", "due", FieldType::Date),
        ],
    );
    // Same catalog: current.
    let same = saved.clone().checked_against(&github_catalog(
        r#",{"name":"milestone","type":"number"},{"name":"due","type":"date"}"#,
    ));
    assert!(!same.stale);
    assert_eq!(same.usable(false).unwrap(), MappingUse::Full);
    // milestone gone, due now a date-time.
    let now = github_catalog(r#",{"name":"due","type":"date_time"}"#);
    let loaded = saved.checked_against(&now);
    assert!(loaded.stale);
    assert_eq!(
        loaded
            .fields
            .iter()
            .map(|f| f.host_field.as_str())
            .collect::<Vec<_>>(),
        ["title"]
    );
    let reasons: Vec<&str> = loaded.dropped.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "github no longer offers field milestone",
            "field due changed type from date to date_time"
        ]
    );
    let err = loaded.usable(false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config at mappings/github/issue: Mappings out of date for github/issue; review and re-save"
    );
    match loaded.usable(true).unwrap() {
        MappingUse::Partial { dropped } => assert_eq!(dropped.len(), 2),
        other => panic!("{other:?}"),
    }
    let resaved = loaded.resaved(&now);
    assert_eq!(resaved.version, 2);
    assert!(resaved.checked_against(&now).usable(false).is_ok());
}

#[test]
fn a_host_override_survives_a_save_and_reload() {
    let catalog = github_catalog("");
    let custom = FieldMapping::identity("headline", "title", FieldType::Text)
        .with_direction(MappingDirection::Pull);
    let m = github_mapping().with_override(FieldMapping {
        host_field: "title".into(),
        ..custom
    });
    let json = serde_json::to_string(&m).unwrap();
    let reloaded: ObjectMapping = serde_json::from_str(&json).unwrap();
    let reloaded = reloaded.checked_against(&catalog);
    assert!(!reloaded.stale);
    let title = reloaded
        .fields
        .iter()
        .find(|f| f.host_field == "title")
        .unwrap();
    assert_eq!(title.direction, MappingDirection::Pull);
    assert_eq!(reloaded, m);
    assert!(json.contains(r#""fieldSignatureHash""#));
}

#[test]
fn host_view_leaves_out_nulls_which_read_the_same() {
    let m = github_mapping();
    // No title on the provider side: the host field reads null and is not stored.
    let provider = Fields::new()
        .with("state", FieldValue::enumeration("open"))
        .with("assignees", FieldValue::set(["octocat"]));
    let host = m.to_host(&provider);
    assert!(host.get("title").is_null());
    assert!(!host.contains("title"), "{host:?}");
    assert!(host.iter().all(|(_, v)| !v.is_null()), "{host:?}");
    assert_eq!(host.get("owners"), &FieldValue::set(["member-1"]));
    // A title the host sets later is written; nothing else moves.
    let edited = host.with("title", "Fix login");
    let out = m.to_provider(&edited, &provider);
    assert_eq!(out.get("title").as_str(), Some("Fix login"));
    assert_eq!(out.get("state").as_str(), Some("open"));
    assert_eq!(out.get("assignees"), &FieldValue::set(["octocat"]));
}
