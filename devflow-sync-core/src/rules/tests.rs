use chrono::TimeZone;

use super::*;
use crate::http::SeededJitter;
use crate::merge::{Decision, three_way};
use crate::model::{FieldValue, Fields};

const BASE: &str = r#"{"provider":"github","object":"issue","direction":"bidirectional","interval":{"minutes":30}}"#;

fn with(extra: &str) -> String {
    format!("{}, {extra}}}", &BASE[..BASE.len() - 1])
}

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0).unwrap()
}

#[test]
fn rules_are_validated_with_pointers() {
    let rule = IntegrationRule::load(
        "rule.json",
        &with(r#""filters":{"labels":["sync"],"parentOnly":true},"revision":3"#),
    )
    .unwrap();
    assert_eq!(rule.filters.labels, ["sync"]);
    assert_eq!(rule.revision, 3);
    assert_eq!(rule.behaviour, Behaviour::Delta);

    for (doc, needle) in [
        (
            BASE.replace("bidirectional", "sideways"),
            "rule.json: /direction: \"sideways\" is not one of",
        ),
        (
            BASE.replace(r#","interval":{"minutes":30}"#, ""),
            "rule.json: /: \"interval\" is a required property",
        ),
        (with(r#""interval":{"minutes":0}"#), "/interval"),
        (
            with(r#""conflictPolicy":{"fields":{"status":"coin_toss"}}"#),
            "rule.json: /conflictPolicy/fields/status: \"coin_toss\" is not one of",
        ),
        (
            with(r#""initialSyncMode":"delta_only_after_date""#),
            "rule.json: /: \"initialSyncSince\" is a required property",
        ),
        (with(r#""interval":{"cron":"*/15 * * *"}"#), "/interval"),
        (
            with(r#""interval":{"cron":"*/15 25 * * *"}"#),
            "rule.json: /interval/cron: invalid input at /interval/cron (hour)",
        ),
    ] {
        let err = IntegrationRule::load("rule.json", &doc).unwrap_err();
        assert!(err.to_string().contains(needle), "{doc}\n=> {err}");
    }
}

#[test]
fn a_catalog_can_forbid_what_its_rules_may_say() {
    let catalog = crate::registry::load_catalog(
        "demo.json",
        r#"{"providerSchemaVersion":1,"key":"demo","displayName":"Demo",
          "oauth":{"flows":["api_token"]},
          "rateLimits":{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2},
          "ruleConstraints":[{"pointer":"/includeChildren","equals":false,
            "message":"sub-projects are never imported, only parent projects"}],
          "objects":[{"key":"project","label":"Project","mappingSchemaVersion":1,
            "fields":[{"name":"id","type":"text","identifier":true}],
            "capabilities":{"list":true,"delta":true,"create":false,"update":false,"delete":false,"webhook":false}}]}"#,
    )
    .unwrap();
    let doc = r#"{"provider":"demo","object":"project","direction":"pull","interval":{"minutes":60},"includeChildren":true}"#;
    let rule = IntegrationRule::load("demo-rule.json", doc).unwrap();
    let err = rule.check_for("demo-rule.json", &catalog).unwrap_err();
    assert_eq!(
        err.to_string(),
        "demo-rule.json: /includeChildren: must be false for Demo: sub-projects are never imported, only parent projects"
    );
    let ok = IntegrationRule::load("demo-rule.json", &doc.replace("true", "false")).unwrap();
    ok.check_for("demo-rule.json", &catalog).unwrap();
    let mut other = ok;
    other.object = "task".into();
    assert!(
        other
            .check_for("r", &catalog)
            .unwrap_err()
            .to_string()
            .contains("/object")
    );
    other.provider = "jira".into();
    assert!(
        other
            .check_for("r", &catalog)
            .unwrap_err()
            .to_string()
            .contains("/provider")
    );
}

#[test]
fn next_run_stays_within_ten_percent_and_is_reproducible() {
    let rule = IntegrationRule::load("r", BASE).unwrap();
    let last = t(10, 0);
    let mut a = SeededJitter::new(99);
    let mut b = SeededJitter::new(99);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..500 {
        let next = rule.next_run(Some(last), t(10, 5), &mut a).unwrap();
        assert_eq!(next, rule.next_run(Some(last), t(10, 5), &mut b).unwrap());
        let offset = (next - t(10, 30)).num_seconds();
        assert!(offset.abs() <= 180, "{offset} s is more than 10% of 30 min");
        seen.insert(offset);
    }
    assert!(seen.len() > 100, "jitter spreads the runs");
    // A rule that never ran counts from now.
    let first = rule.next_run(None, t(12, 0), &mut a).unwrap();
    assert!((first - t(12, 30)).num_seconds().abs() <= 180);

    // Cron: the next occurrence, jittered by at most 10% of the gap to the one after.
    let cron = IntegrationRule::load("r", &with(r#""interval":{"cron":"0 */2 * * *"}"#)).unwrap();
    for _ in 0..100 {
        let next = cron.next_run(Some(t(9, 10)), t(9, 10), &mut a).unwrap();
        assert!((next - t(10, 0)).num_seconds().abs() <= 720, "{next}");
    }
}

#[test]
fn each_initial_sync_mode_seeds_the_cursor() {
    let now = t(8, 0);
    let full = IntegrationRule::load("r", BASE).unwrap();
    assert_eq!(full.initial_cursor(now).unwrap().high_water, None);
    let since = IntegrationRule::load(
        "r",
        &with(r#""initialSyncMode":"delta_only_after_date","initialSyncSince":"2026-01-01T00:00:00Z""#),
    )
    .unwrap();
    assert_eq!(
        since.initial_cursor(now).unwrap().high_water,
        Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
    );
    let from_now =
        IntegrationRule::load("r", &with(r#""initialSyncMode":"delta_only_from_now""#)).unwrap();
    assert_eq!(from_now.initial_cursor(now).unwrap().high_water, Some(now));
}

#[test]
fn due_picks_rules_whose_time_has_come() {
    assert_eq!(
        due(
            &[Some(t(9, 0)), None, Some(t(11, 0)), Some(t(10, 0))],
            t(10, 0)
        ),
        vec![0, 1, 3]
    );
}

#[test]
fn the_rules_conflict_policy_is_built_per_field() {
    let rule = IntegrationRule::load(
        "r",
        &with(r#""conflictPolicy":{"default":"manual","fields":{"status":"remote_wins","title":"host_wins"}}"#),
    )
    .unwrap();
    let policy = rule.conflict_policy();
    let base = Fields::new()
        .with("status", "a")
        .with("title", "a")
        .with("points", 1);
    let local = Fields::new()
        .with("status", "b")
        .with("title", "b")
        .with("points", 2);
    let remote = Fields::new()
        .with("status", "c")
        .with("title", "c")
        .with("points", 3);
    let out = three_way(&base, &local, &remote, &policy);
    assert_eq!(out.merged.get("status").as_str(), Some("c"));
    assert_eq!(out.merged.get("title").as_str(), Some("b"));
    assert_eq!(out.conflicts.len(), 1);
    assert_eq!(out.merged.get("points"), &FieldValue::int(2));
    let lww = IntegrationRule::load(
        "r",
        &with(r#""conflictPolicy":{"default":"last_writer_wins"}"#),
    )
    .unwrap();
    let ctx = crate::merge::FieldContext {
        field: "x",
        base: &FieldValue::Null,
        local: &FieldValue::int(1),
        remote: &FieldValue::int(2),
        local_updated_at: None,
        remote_updated_at: None,
        reason: crate::merge::ConflictReason::BothChanged,
    };
    assert_eq!(lww.conflict_policy().resolve(&ctx), Decision::Conflict);
}

#[test]
fn cron_expressions() {
    let c = Cron::parse("30 9 * * 1-5").unwrap();
    // Sunday 2026-11-22 -> Monday 09:30.
    assert_eq!(
        c.next_after(t(10, 0)).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
    );
    let sundays = Cron::parse("0 0 * * 7").unwrap();
    assert_eq!(
        sundays.next_after(t(10, 0)).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap()
    );
    let first = Cron::parse("0 6 1 * *").unwrap();
    assert_eq!(
        first.next_after(t(10, 0)).unwrap(),
        Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap()
    );
    let list = Cron::parse("5,35 * * * *").unwrap();
    assert_eq!(list.next_after(t(10, 6)).unwrap(), t(10, 35));
    for bad in [
        "* * *",
        "60 * * * *",
        "*/0 * * * *",
        "5-1 * * * *",
        "a * * * *",
    ] {
        assert!(Cron::parse(bad).is_err(), "{bad}");
    }
}
