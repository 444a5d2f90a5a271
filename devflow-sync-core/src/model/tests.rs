use chrono::{NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "{json}");
    json
}

fn every_value() -> Vec<FieldValue> {
    vec![
        FieldValue::Null,
        FieldValue::text("Pay by card"),
        FieldValue::long_text("# Title\n\n- one\n- two\n"),
        FieldValue::int(-42),
        FieldValue::float(2.5).unwrap(),
        FieldValue::Bool(true),
        FieldValue::Date(NaiveDate::from_ymd_opt(2026, 2, 29 - 1).unwrap()),
        FieldValue::DateTime(Utc.with_ymd_and_hms(2026, 3, 10, 8, 30, 15).unwrap()),
        FieldValue::enumeration("in_progress"),
        FieldValue::set(["b", "a", "c"]),
        FieldValue::from(UserRef::new("5b10a2844c20165700ede21g").with_display_name("Mia")),
        FieldValue::Json(serde_json::json!({"adf": {"type": "doc", "content": [1, 2.5, null]}})),
    ]
}

#[test]
fn every_field_value_round_trips_with_its_type_tag() {
    let values = every_value();
    let types: Vec<FieldType> = values.iter().map(FieldValue::field_type).collect();
    assert_eq!(types.len(), 12);
    for value in &values {
        let json = round_trip(value);
        let tag = format!("\"type\":\"{}\"", value.field_type().as_str());
        assert!(json.contains(&tag), "{json} lacks {tag}");
    }
    // Integers stay integers; floats stay floats.
    assert_eq!(
        round_trip(&FieldValue::int(7)),
        r#"{"type":"number","value":7}"#
    );
    assert_eq!(
        round_trip(&FieldValue::float(7.0).unwrap()),
        r#"{"type":"number","value":7.0}"#
    );
    assert_eq!(round_trip(&FieldValue::Null), r#"{"type":"null"}"#);
    assert_eq!(
        round_trip(&FieldValue::Date(
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
        )),
        r#"{"type":"date","value":"2026-01-05"}"#
    );
    // Sub-second instants survive.
    let precise = Utc.timestamp_opt(1_780_000_000, 123_456_789).unwrap();
    round_trip(&FieldValue::DateTime(precise));
}

#[test]
fn bad_field_values_are_typed_errors_that_say_what_was_wrong() {
    let err = serde_json::from_str::<FieldValue>(r#"{"type":"strng","value":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("strng"), "{err}");
    let err =
        serde_json::from_str::<FieldValue>(r#"{"type":"date","value":"2026-13-01"}"#).unwrap_err();
    assert!(
        err.to_string().contains("input is out of range") || err.is_data(),
        "{err}"
    );
    assert!(FieldValue::float(f64::INFINITY).is_none());
}

#[test]
fn fields_round_trip_and_treat_absent_as_null() {
    let fields: Fields = every_value()
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("f{i:02}"), v))
        .collect();
    let json = round_trip(&fields);
    assert!(
        json.starts_with(r#"{"f00":{"type":"null"},"f01":"#),
        "{json}"
    );
    let mut without_null = fields.clone();
    without_null.remove("f00");
    assert_eq!(fields, without_null);
    assert_ne!(fields, Fields::new());
    assert_eq!(fields.names().next(), Some("f00"));
}

#[test]
fn records_and_refs_round_trip_on_both_sides() {
    let when = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let host: Record = Record::new("work_item", when)
        .with_kind(ItemKind::Task)
        .with_parent(ItemId::new("story-1"))
        .with_fields(
            every_value()
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("f{i}"), v))
                .collect(),
        )
        .with_version("3");
    round_trip(&host);
    let remote: Record<ExternalId> = Record::new("issue", when)
        .with_kind(ItemKind::Subtask)
        .with_parent("10042")
        .with_field("summary", "Fix");
    let json = round_trip(&remote);
    assert!(json.contains(r#""parent":"10042""#));
    let bare: Record = Record::new("page", when);
    assert_eq!(
        round_trip(&bare),
        r#"{"object":"page","fields":{},"updated_at":"2026-03-01T09:00:00Z"}"#
    );

    let r = ExternalRef::new("github", "octo-org", "issue", "1347")
        .with_url("https://example.test/1347");
    round_trip(&r);
    assert_eq!(
        round_trip(&ExternalRef::new("jira", "c", "issue", "1")),
        r#"{"provider":"jira","connection":"c","object":"issue","id":"1"}"#
    );
}

#[test]
fn ids_are_transparent_strings() {
    assert_eq!(round_trip(&ItemId::new("a")), r#""a""#);
    assert_eq!(round_trip(&ConnectionId::new("c")), r#""c""#);
    assert_eq!(round_trip(&ProviderKey::new("jira")), r#""jira""#);
    assert_eq!(round_trip(&ObjectType::new("issue")), r#""issue""#);
    assert_eq!(round_trip(&Version::new("W/\"etag\"")), r#""W/\"etag\"""#);
    assert_eq!(
        format!("{:?}", ExternalId::new("10042")),
        r#"ExternalId("10042")"#
    );
    assert_eq!(ItemId::from("x"), "x");
}

#[test]
fn users_compare_by_id() {
    let a = FieldValue::from(UserRef::new("u1").with_display_name("Old name"));
    let b = FieldValue::from(UserRef::new("u1").with_display_name("New name"));
    assert_eq!(a, b);
    assert_ne!(a, FieldValue::user("u2"));
}

#[test]
fn try_apply_refuses_stale_changes_and_applies_nothing() {
    let mut fields = Fields::new().with("a", 1).with("b", 2);
    let ok = FieldChange::new("a", 1, 10);
    let stale = FieldChange::new("b", 1, 20);
    let err = fields.try_apply([&ok, &stale]).unwrap_err();
    assert_eq!(err.field, "b");
    assert_eq!(fields, Fields::new().with("a", 1).with("b", 2));
    fields.try_apply([&ok]).unwrap();
    assert_eq!(fields.get("a"), &FieldValue::int(10));
}
