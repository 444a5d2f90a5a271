use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::model::{FieldValue, Fields};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + secs, 0).unwrap()
}

fn base() -> Fields {
    Fields::new()
        .with("title", "Checkout")
        .with("status", FieldValue::enumeration("todo"))
        .with("points", 3)
        .with("labels", FieldValue::set(["web", "p2"]))
        .with(
            "description",
            FieldValue::long_text(
                "# Goal\nPay fast.\n\n## Steps\n1. Cart\n2. Pay\n\n## Notes\nNone.\n",
            ),
        )
}

#[test]
fn diff_lists_changed_fields_in_order_with_absent_as_null() {
    let a = base();
    let mut b = base();
    b.insert("points", 5);
    b.remove("title");
    b.insert("due", FieldValue::Null);
    b.insert("assignee", FieldValue::user("mia"));
    let changes = diff(&a, &b);
    assert_eq!(
        changes,
        vec![
            FieldChange::new("assignee", FieldValue::Null, FieldValue::user("mia")),
            FieldChange::new("points", 3, 5),
            FieldChange::new("title", "Checkout", FieldValue::Null),
        ]
    );
    let mut applied = a.clone();
    applied.apply(&changes);
    assert_eq!(applied, b);
    assert!(diff(&a, &a).is_empty());
}

#[test]
fn change_on_one_side_is_taken() {
    let b = base();
    let mut local = base();
    local.insert("title", "Checkout v2");
    let mut remote = base();
    remote.insert("status", FieldValue::enumeration("done"));
    let out = three_way(&b, &local, &remote, &Manual);
    assert!(out.conflicts.is_empty());
    assert_eq!(
        out.local_changes,
        vec![FieldChange::new(
            "status",
            FieldValue::enumeration("todo"),
            FieldValue::enumeration("done")
        )]
    );
    assert_eq!(
        out.remote_changes,
        vec![FieldChange::new("title", "Checkout", "Checkout v2")]
    );
    assert_eq!(out.merged.get("title").as_str(), Some("Checkout v2"));
    assert_eq!(out.merged.get("status").as_str(), Some("done"));
    assert_eq!(out.base, out.merged);
}

#[test]
fn same_change_on_both_sides_is_no_conflict() {
    let b = base();
    let mut both = base();
    both.insert("points", 8);
    both.remove("description");
    let out = three_way(&b, &both, &both, &Manual);
    assert!(out.is_noop());
    assert_eq!(out.merged, both);
    assert_eq!(out.base, both);
}

#[test]
fn field_added_and_removed_on_one_side() {
    let b = base();
    let mut local = base();
    local.remove("points");
    let mut remote = base();
    remote.insert(
        "due",
        FieldValue::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
    );
    let out = three_way(&b, &local, &remote, &Manual);
    assert!(out.conflicts.is_empty());
    assert!(out.merged.get("points").is_null());
    assert!(!out.merged.get("due").is_null());
    assert_eq!(
        out.remote_changes,
        vec![FieldChange::new("points", 3, FieldValue::Null)]
    );
}

#[test]
fn sets_merge_adds_and_removes_from_both_sides() {
    let b = base();
    let mut local = base();
    // Host removes "p2" and adds "ux".
    local.insert("labels", FieldValue::set(["web", "ux"]));
    let mut remote = base();
    // Jira adds "backend".
    remote.insert("labels", FieldValue::set(["web", "p2", "backend"]));
    let out = three_way(&b, &local, &remote, &Manual);
    assert!(out.conflicts.is_empty());
    let expected = FieldValue::set(["backend", "ux", "web"]);
    assert_eq!(out.merged.get("labels"), &expected);
    assert_eq!(out.local_changes[0].new, expected);
    assert_eq!(out.remote_changes[0].new, expected);

    // Both sides remove different members; one side clears all.
    let mut remote = base();
    remote.insert("labels", FieldValue::Null);
    let out = three_way(&b, &local, &remote, &Manual);
    assert_eq!(out.merged.get("labels"), &FieldValue::set(["ux"]));
}

#[test]
fn non_overlapping_text_edits_are_merged() {
    let b = base();
    let text = b.get("description").as_str().unwrap().to_owned();
    let mut local = base();
    local.insert(
        "description",
        FieldValue::long_text(text.replace("Pay fast.", "Pay fast, safely.")),
    );
    let mut remote = base();
    remote.insert(
        "description",
        FieldValue::long_text(text.replace("None.", "Ask legal.")),
    );
    let out = three_way(&b, &local, &remote, &Manual);
    assert!(out.conflicts.is_empty());
    let merged = out.merged.get("description").as_str().unwrap();
    assert!(merged.contains("Pay fast, safely.") && merged.contains("Ask legal."));
    assert_eq!(out.local_changes.len(), 1);
    assert_eq!(out.remote_changes.len(), 1);
}

#[test]
fn overlapping_text_edits_are_a_conflict_with_the_line() {
    let b = base();
    let text = b.get("description").as_str().unwrap().to_owned();
    let mut local = base();
    local.insert(
        "description",
        FieldValue::long_text(text.replace("2. Pay", "2. Pay by card")),
    );
    let mut remote = base();
    remote.insert(
        "description",
        FieldValue::long_text(text.replace("2. Pay", "2. Pay by invoice")),
    );
    let out = three_way(&b, &local, &remote, &Manual);
    assert_eq!(out.conflicts.len(), 1);
    let c = &out.conflicts[0];
    assert_eq!(
        (c.field.as_str(), c.reason, c.line),
        ("description", ConflictReason::TextOverlap, Some(6))
    );
    assert_eq!(c.local, *local.get("description"));
    assert_eq!(c.remote, *remote.get("description"));
    assert!(out.local_changes.is_empty() && out.remote_changes.is_empty());
    // The host keeps its text and the base stays, so the conflict is seen again.
    assert_eq!(out.merged.get("description"), local.get("description"));
    assert_eq!(out.base.get("description"), b.get("description"));

    // A deciding policy settles the overlap.
    let out = three_way(&b, &local, &remote, &RemoteWins);
    assert!(out.conflicts.is_empty());
    assert_eq!(out.merged.get("description"), remote.get("description"));
}

fn both_changed_points() -> (Fields, Fields, Fields) {
    let b = base();
    let mut local = base();
    local.insert("points", 5);
    let mut remote = base();
    remote.insert("points", 8);
    (b, local, remote)
}

#[test]
fn host_wins_and_remote_wins() {
    let (b, local, remote) = both_changed_points();
    let out = three_way(&b, &local, &remote, &HostWins);
    assert_eq!(out.remote_changes, vec![FieldChange::new("points", 8, 5)]);
    assert!(out.local_changes.is_empty() && out.conflicts.is_empty());
    let out = three_way(&b, &local, &remote, &RemoteWins);
    assert_eq!(out.local_changes, vec![FieldChange::new("points", 5, 8)]);
    assert!(out.remote_changes.is_empty() && out.conflicts.is_empty());
    assert_eq!(out.merged.get("points"), &FieldValue::int(8));
}

#[test]
fn manual_always_records_a_conflict() {
    let (b, local, remote) = both_changed_points();
    let out = three_way(&b, &local, &remote, &Manual);
    assert_eq!(
        out.conflicts,
        vec![FieldConflict {
            field: "points".into(),
            base: FieldValue::int(3),
            local: FieldValue::int(5),
            remote: FieldValue::int(8),
            reason: ConflictReason::BothChanged,
            line: None,
        }]
    );
    assert!(out.local_changes.is_empty() && out.remote_changes.is_empty());
    assert_eq!(out.merged.get("points"), &FieldValue::int(5));
    assert_eq!(out.base.get("points"), &FieldValue::int(3));
}

#[test]
fn last_writer_wins_with_clock_skew_guard() {
    let (b, local, remote) = both_changed_points();
    let lww = LastWriterWins::new(Duration::from_secs(5));
    let merge = |l: i64, r: i64| {
        three_way(
            &b,
            MergeSide::new(&local, at(l)),
            MergeSide::new(&remote, at(r)),
            &lww,
        )
    };
    // The remote changed 60 s after the host: remote wins.
    let out = merge(0, 60);
    assert_eq!(out.merged.get("points"), &FieldValue::int(8));
    assert!(out.conflicts.is_empty());
    // The host changed later: host wins.
    let out = merge(60, 0);
    assert_eq!(out.merged.get("points"), &FieldValue::int(5));
    assert_eq!(out.remote_changes.len(), 1);
    // 3 s apart, inside the 5 s guard: clocks cannot tell, so it is a conflict.
    let out = merge(0, 3);
    assert_eq!(out.conflicts.len(), 1);
    let out = merge(3, 0);
    assert_eq!(out.conflicts.len(), 1);
    // Exactly at the guard is still inside it; just past it decides.
    assert_eq!(merge(0, 5).conflicts.len(), 1);
    assert!(merge(0, 6).conflicts.is_empty());
    // Unknown times are a conflict too.
    assert_eq!(three_way(&b, &local, &remote, &lww).conflicts.len(), 1);
    // A zero guard decides anything but a tie.
    let strict = LastWriterWins::new(Duration::ZERO);
    let out = three_way(
        &b,
        MergeSide::new(&local, at(0)),
        MergeSide::new(&remote, at(1)),
        &strict,
    );
    assert!(out.conflicts.is_empty());
}

#[test]
fn per_field_uses_the_field_policy_or_the_default() {
    let b = base();
    let mut local = base();
    local.insert("points", 5);
    local.insert("title", "Host title");
    local.insert("status", FieldValue::enumeration("in_progress"));
    let mut remote = base();
    remote.insert("points", 8);
    remote.insert("title", "Jira title");
    remote.insert("status", FieldValue::enumeration("done"));
    let policy = PerField::new(Manual)
        .field("status", RemoteWins)
        .field("title", HostWins);
    let out = three_way(&b, &local, &remote, &policy);
    assert_eq!(out.merged.get("status").as_str(), Some("done"));
    assert_eq!(out.merged.get("title").as_str(), Some("Host title"));
    assert_eq!(out.conflicts.len(), 1);
    assert_eq!(out.conflicts[0].field, "points");
    // Works behind Arc<dyn> as well.
    let shared: std::sync::Arc<dyn ConflictPolicy> = std::sync::Arc::new(policy);
    assert_eq!(three_way(&b, &local, &remote, &shared), out);
}

#[test]
fn write_once_sets_at_first_import_then_host_keeps_its_value() {
    // First import: nothing agreed yet, the host has nothing.
    let first = Fields::new().with("created_by", FieldValue::user("jira-bot"));
    let out = three_way(&Fields::new(), &Fields::new(), &first, &WriteOnce);
    assert_eq!(out.merged.get("created_by"), &FieldValue::user("jira-bot"));
    assert_eq!(out.base, first);

    // Later the provider changes it: the host keeps its value, nothing is written.
    let later = Fields::new().with("created_by", FieldValue::user("someone-else"));
    let out = three_way(&first, &first, &later, &WriteOnce);
    assert!(out.local_changes.is_empty() && out.remote_changes.is_empty());
    assert!(out.conflicts.is_empty());
    assert_eq!(out.diverged, vec!["created_by".to_owned()]);
    assert_eq!(out.merged, first);
    // ... and keeps doing so on the next merge (the base stays).
    let again = three_way(&out.base, &out.merged, &later, &WriteOnce);
    assert!(again.is_noop());

    // Both set different values at first import: the import sets it.
    let host = Fields::new().with("created_by", FieldValue::user("host-user"));
    let out = three_way(&Fields::new(), &host, &first, &WriteOnce);
    assert_eq!(out.merged, first);
    // A host edit still goes out.
    let out = three_way(&first, &host, &first, &WriteOnce);
    assert_eq!(out.remote_changes.len(), 1);
}

#[test]
fn preserve_local_keeps_the_host_value_once_it_diverged() {
    let imported = Fields::new().with("title", "Imported");
    // The host has not diverged: provider changes flow in.
    let remote = Fields::new().with("title", "Renamed in BQE");
    let out = three_way(&imported, &imported, &remote, &PreserveLocal);
    assert_eq!(out.merged, remote);
    // The host diverged: it keeps its value; the provider's is not overwritten.
    let host = Fields::new().with("title", "Our name");
    let out = three_way(&imported, &host, &remote, &PreserveLocal);
    assert_eq!(out.merged, host);
    assert!(out.local_changes.is_empty() && out.remote_changes.is_empty());
    assert!(out.conflicts.is_empty());
    assert_eq!(out.diverged, vec!["title".to_owned()]);
    assert_eq!(out.base, imported);
}

#[test]
fn different_types_on_both_sides_go_to_the_policy() {
    let b = Fields::new().with("estimate", "3d");
    let local = Fields::new().with("estimate", 24);
    let remote = Fields::new().with("estimate", FieldValue::set(["3d", "4d"]));
    let out = three_way(&b, &local, &remote, &Manual);
    assert_eq!(out.conflicts.len(), 1);
    let out = three_way(&b, &local, &remote, &HostWins);
    assert_eq!(out.merged.get("estimate"), &FieldValue::int(24));
}

#[test]
fn records_carry_their_update_times_into_the_merge() {
    use crate::model::{ExternalId, Record};
    let (b, local, remote) = both_changed_points();
    let host: Record = Record::new("work_item", at(0)).with_fields(local);
    let jira: Record<ExternalId> = Record::new("issue", at(100)).with_fields(remote);
    let out = three_way(&b, &host, &jira, &LastWriterWins::default());
    assert_eq!(out.merged.get("points"), &FieldValue::int(8));
}
