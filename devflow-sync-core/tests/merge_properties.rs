//! Properties of the three-way merge over random base / local / remote fields.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use devflow_sync_core::merge::{
    ConflictPolicy, HostWins, LastWriterWins, Manual, MergeOutcome, MergeSide, PerField,
    PreserveLocal, RemoteWins, WriteOnce, diff, three_way,
};
use devflow_sync_core::model::{FieldValue, Fields};
use proptest::prelude::*;

const LINES: [&str; 6] = ["alpha\n", "beta\n", "gamma\n", "delta\n", "eps\n", "zeta"];

fn text_lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(&LINES[..]).prop_map(str::to_owned),
        0..8,
    )
}

/// Edits to a list of lines: (position, replace/insert/delete, new line).
fn edit_lines(mut lines: Vec<String>, edits: &[(usize, u8, usize)]) -> Vec<String> {
    for &(pos, op, line) in edits {
        let line = format!("edit{line}\n");
        let len = lines.len();
        match op % 3 {
            0 if len > 0 => lines[pos % len] = line,
            1 => lines.insert(pos % (len + 1), line),
            _ if len > 0 => {
                lines.remove(pos % len);
            }
            _ => {}
        }
    }
    lines
}

fn scalar() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        Just(FieldValue::Null),
        (0i64..3).prop_map(FieldValue::int),
        prop::sample::select(vec!["x", "y", "z"]).prop_map(FieldValue::text),
        prop::sample::select(vec!["todo", "doing", "done"]).prop_map(FieldValue::enumeration),
        any::<bool>().prop_map(FieldValue::Bool),
        prop::sample::select(vec!["u1", "u2"]).prop_map(FieldValue::user),
    ]
}

fn set() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        1 => Just(FieldValue::Null),
        6 => prop::collection::btree_set(prop::sample::select(vec!["a", "b", "c", "d", "e"]), 0..5)
            .prop_map(FieldValue::set),
    ]
}

/// One field's three versions: a base and, per side, either the base or a change.
#[derive(Clone, Debug)]
enum Change {
    Same,
    Value(FieldValue),
    TextEdits(Vec<(usize, u8, usize)>),
}

fn change(value: impl Strategy<Value = FieldValue> + 'static, text: bool) -> BoxedStrategy<Change> {
    let edits = prop::collection::vec((0usize..10, 0u8..3, 0usize..3), 1..3);
    if text {
        prop_oneof![
            4 => Just(Change::Same),
            4 => edits.prop_map(Change::TextEdits),
            1 => value.prop_map(Change::Value),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => Just(Change::Same),
            2 => value.prop_map(Change::Value),
        ]
        .boxed()
    }
}

fn apply_change(base: &FieldValue, change: &Change) -> FieldValue {
    match change {
        Change::Same => base.clone(),
        Change::Value(v) => v.clone(),
        Change::TextEdits(edits) => {
            let lines = base
                .as_str()
                .map(|t| t.split_inclusive('\n').map(str::to_owned).collect())
                .unwrap_or_default();
            FieldValue::long_text(edit_lines(lines, edits).concat())
        }
    }
}

#[derive(Clone, Debug)]
struct Case {
    base: Fields,
    local: Fields,
    remote: Fields,
    local_at: DateTime<Utc>,
    remote_at: DateTime<Utc>,
}

fn case() -> impl Strategy<Value = Case> {
    let long_text = || text_lines().prop_map(|l| FieldValue::long_text(l.concat()));
    let names = ["points", "status", "title", "owner"];
    (
        prop::collection::vec(
            (scalar(), change(scalar(), false), change(scalar(), false)),
            4,
        ),
        (set(), change(set(), false), change(set(), false)),
        (set(), change(set(), false), change(set(), false)),
        (
            long_text(),
            change(long_text(), true),
            change(long_text(), true),
        ),
        (0i64..20, 0i64..20),
    )
        .prop_map(move |(scalars, labels, assignees, description, (lt, rt))| {
            let mut fields: Vec<(String, (FieldValue, Change, Change))> =
                names.iter().map(|n| (*n).to_owned()).zip(scalars).collect();
            fields.push(("labels".into(), labels));
            fields.push(("assignees".into(), assignees));
            fields.push(("description".into(), description));
            let (mut base, mut local, mut remote) = (Fields::new(), Fields::new(), Fields::new());
            for (name, (b, l, r)) in fields {
                local.insert(name.clone(), apply_change(&b, &l));
                remote.insert(name.clone(), apply_change(&b, &r));
                base.insert(name, b);
            }
            Case {
                base,
                local,
                remote,
                local_at: Utc.timestamp_opt(1_780_000_000 + lt, 0).unwrap(),
                remote_at: Utc.timestamp_opt(1_780_000_000 + rt, 0).unwrap(),
            }
        })
}

fn policies() -> Vec<(&'static str, Arc<dyn ConflictPolicy>)> {
    vec![
        ("host_wins", Arc::new(HostWins)),
        ("remote_wins", Arc::new(RemoteWins)),
        ("manual", Arc::new(Manual)),
        ("lww", Arc::new(LastWriterWins::new(Duration::from_secs(3)))),
        ("preserve_local", Arc::new(PreserveLocal)),
        ("write_once", Arc::new(WriteOnce)),
        (
            "per_field",
            Arc::new(
                PerField::new(LastWriterWins::default())
                    .field("status", RemoteWins)
                    .field("title", HostWins)
                    .field("description", Manual)
                    .field("owner", WriteOnce),
            ),
        ),
    ]
}

fn merge(
    case: &Case,
    base: &Fields,
    local: &Fields,
    remote: &Fields,
    policy: &dyn ConflictPolicy,
) -> MergeOutcome {
    three_way(
        base,
        MergeSide::new(local, case.local_at),
        MergeSide::new(remote, case.remote_at),
        policy,
    )
}

fn applied(fields: &Fields, changes: &[devflow_sync_core::model::FieldChange]) -> Fields {
    let mut out = fields.clone();
    out.apply(changes);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn merge_is_deterministic(case in case()) {
        for (name, policy) in policies() {
            let a = merge(&case, &case.base, &case.local, &case.remote, policy.as_ref());
            let b = merge(&case, &case.base, &case.local, &case.remote, policy.as_ref());
            prop_assert_eq!(a, b, "policy {}", name);
        }
    }

    #[test]
    fn when_only_one_side_changed_the_result_is_that_side(case in case()) {
        for (name, policy) in policies() {
            // Only the host changed: every policy takes the host.
            let out = merge(&case, &case.base, &case.local, &case.base, policy.as_ref());
            prop_assert_eq!(&out.merged, &case.local, "policy {}", name);
            prop_assert!(out.local_changes.is_empty() && out.conflicts.is_empty());
            prop_assert_eq!(&out.remote_changes, &diff(&case.base, &case.local));
            prop_assert_eq!(&out.base, &case.local);

            // Only the provider changed: every policy but write-once takes it.
            if name == "write_once" || name == "per_field" {
                continue;
            }
            let out = merge(&case, &case.base, &case.base, &case.remote, policy.as_ref());
            prop_assert_eq!(&out.merged, &case.remote, "policy {}", name);
            prop_assert!(out.remote_changes.is_empty() && out.conflicts.is_empty());
            prop_assert_eq!(&out.local_changes, &diff(&case.base, &case.remote));
        }
    }

    #[test]
    fn applying_the_changes_converges_both_sides(case in case()) {
        for (name, policy) in policies() {
            let out = merge(&case, &case.base, &case.local, &case.remote, policy.as_ref());
            let local = applied(&case.local, &out.local_changes);
            let remote = applied(&case.remote, &out.remote_changes);
            prop_assert_eq!(&local, &out.merged, "policy {}", name);
            let open: Vec<&str> = out
                .conflicts
                .iter()
                .map(|c| c.field.as_str())
                .chain(out.diverged.iter().map(String::as_str))
                .collect();
            if open.is_empty() {
                prop_assert_eq!(&local, &remote, "policy {}", name);
                prop_assert_eq!(&out.base, &local, "policy {}", name);
            } else {
                for (field, value) in local.iter().chain(remote.iter()) {
                    if !open.contains(&field) {
                        prop_assert_eq!(local.get(field), remote.get(field), "policy {} field {} {:?}", name, field, value);
                    }
                }
            }
        }
    }

    #[test]
    fn merging_again_from_the_merged_state_changes_nothing(case in case()) {
        for (name, policy) in policies() {
            let out = merge(&case, &case.base, &case.local, &case.remote, policy.as_ref());
            let local = applied(&case.local, &out.local_changes);
            let remote = applied(&case.remote, &out.remote_changes);
            let again = merge(&case, &out.base, &local, &remote, policy.as_ref());
            prop_assert!(again.local_changes.is_empty(), "policy {}: {:?}", name, again.local_changes);
            prop_assert!(again.remote_changes.is_empty(), "policy {}: {:?}", name, again.remote_changes);
            prop_assert_eq!(&again.merged, &local);
            prop_assert_eq!(&again.base, &out.base);
            let fields = |o: &MergeOutcome| o.conflicts.iter().map(|c| c.field.clone()).collect::<Vec<_>>();
            prop_assert_eq!(fields(&again), fields(&out));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No edit is lost: a merged set holds every member either side added and none that
    /// either side removed; a merged text holds every line either side wrote.
    #[test]
    fn no_edit_is_lost(case in case()) {
        let out = merge(&case, &case.base, &case.local, &case.remote, &Manual);
        for field in ["labels", "assignees"] {
            let empty = Default::default();
            let set = |f: &Fields| f.get(field).as_set().cloned().unwrap_or_default();
            let (b, l, r) = (set(&case.base), set(&case.local), set(&case.remote));
            let merged = out.merged.get(field).as_set().unwrap_or(&empty);
            for added in l.difference(&b).chain(r.difference(&b)) {
                prop_assert!(merged.contains(added), "{} lost {}", field, added);
            }
            for removed in b.difference(&l).chain(b.difference(&r)) {
                prop_assert!(!merged.contains(removed), "{} kept {}", field, removed);
            }
        }
        let conflicted = out.conflicts.iter().any(|c| c.field == "description");
        if let (Some(l), Some(r), false) = (
            case.local.get("description").as_str(),
            case.remote.get("description").as_str(),
            conflicted,
        ) {
            let merged = out.merged.get("description").as_str().unwrap_or("");
            let base = case.base.get("description").as_str().unwrap_or("");
            let base_lines: Vec<&str> = base.split_inclusive('\n').collect();
            let merged_lines: Vec<&str> = merged.split_inclusive('\n').collect();
            for line in l.split_inclusive('\n').chain(r.split_inclusive('\n')) {
                if !base_lines.contains(&line) && line.ends_with('\n') {
                    prop_assert!(merged_lines.contains(&line), "lost line {:?} in {:?}", line, merged);
                }
            }
        }
    }
}
