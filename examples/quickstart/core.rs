//! The quickstart's first steps: the core alone (hierarchy, batch order, three-way
//! merge, conflict policies), no engine, no provider.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use devflow_sync::hierarchy::{BatchItem, Candidate, NoLookup};
use devflow_sync::merge::{LastWriterWins, Manual, MergeSide, three_way};
use devflow_sync::{FieldValue, Fields, HierarchyRules, ItemId, ItemKind, ViolationKind};

use crate::Steps;

/// Steps 1-6.
pub(crate) fn steps(steps: &mut Steps) {
    let rules = HierarchyRules::devflow();
    println!("devflow-sync quickstart\n\nThe core: model, hierarchy, merge:");

    // 1. A tree, listed children first, is ordered parents first for a push.
    let tree: Vec<BatchItem<ItemId>> = vec![
        BatchItem::new("sub-1", ItemKind::Subtask).with_parent("task-1"),
        BatchItem::new("task-1", ItemKind::Task).with_parent("story-1"),
        BatchItem::new("story-1", ItemKind::Story).with_parent("epic-1"),
        BatchItem::new("epic-1", ItemKind::Epic).with_parent("prd-1"),
        BatchItem::new("prd-1", ItemKind::Prd),
    ];
    let plan = rules.plan_batch(&tree, &NoLookup);
    let order: Vec<&str> = plan.order.iter().map(|&i| tree[i].id.as_str()).collect();
    println!("    push order: {}", order.join(" -> "));
    steps.check(
        "PRD -> Epic -> Story -> Task -> Subtask is valid and pushed parents first",
        plan.is_clean() && order == ["prd-1", "epic-1", "story-1", "task-1", "sub-1"],
    );

    // 2. An orphan story created in a provider is refused with words a person can act on.
    let orphan_id = ItemId::new("PROJ-12");
    let orphan = Candidate::new(ItemKind::Story)
        .id(&orphan_id)
        .created_outside_host(true);
    match rules.validate(&orphan, &NoLookup) {
        Err(v) => {
            println!("    {v}");
            steps.check(
                "an orphan story is a violation: \"Story requires a parent\" / \"Link to an epic\"",
                v.kind == ViolationKind::MissingParent
                    && v.message == "Story requires a parent"
                    && v.suggested_action == "Link to an epic",
            );
        }
        Ok(()) => steps.check("an orphan story is a violation", false),
    }

    // 3. The host and the provider edited the same record; the edits merge.
    let base = Fields::new()
        .with("title", "Pay with a saved card")
        .with("status", FieldValue::enumeration("todo"))
        .with("labels", FieldValue::set(["payments", "p2"]))
        .with(
            "description",
            FieldValue::long_text("## Goal\nPay in one tap.\n\n## Notes\nNone yet.\n"),
        );
    let mut host = base.clone();
    host.insert("status", FieldValue::enumeration("in_progress"));
    host.insert("labels", FieldValue::set(["payments"]));
    host.insert(
        "description",
        FieldValue::long_text("## Goal\nPay in one tap, on every device.\n\n## Notes\nNone yet.\n"),
    );
    let mut remote = base.clone();
    remote.insert("labels", FieldValue::set(["payments", "p2", "backend"]));
    remote.insert(
        "description",
        FieldValue::long_text("## Goal\nPay in one tap.\n\n## Notes\nCheck PCI scope.\n"),
    );
    let out = three_way(&base, &host, &remote, &Manual);
    println!("    to the host:     {:?}", names(&out.local_changes));
    println!("    to the provider: {:?}", names(&out.remote_changes));
    let text = out.merged.get("description").as_str().unwrap_or_default();
    steps.check(
        "status, labels (a remove here, an add there) and two text edits merge without conflict",
        out.conflicts.is_empty()
            && out.merged.get("labels") == &FieldValue::set(["backend", "payments"])
            && text.contains("on every device")
            && text.contains("Check PCI scope"),
    );

    // 4. Both sides change the title: under the manual policy it is a recorded conflict.
    let mut host2 = base.clone();
    host2.insert("title", "Pay with a saved card (host)");
    let mut remote2 = base.clone();
    remote2.insert("title", "Pay with a stored card (Jira)");
    let out = three_way(&base, &host2, &remote2, &Manual);
    steps.check(
        "the same field changed on both sides is a conflict under the manual policy; nothing is written",
        out.conflicts.len() == 1
            && out.conflicts[0].field == "title"
            && out.local_changes.is_empty()
            && out.remote_changes.is_empty(),
    );

    // 5. Last writer wins settles it when the clocks clearly tell who was last ...
    let t = |s: i64| Utc.timestamp_opt(1_790_000_000 + s, 0).unwrap();
    let lww = LastWriterWins::new(Duration::from_secs(5));
    let out = three_way(
        &base,
        MergeSide::new(&host2, t(0)),
        MergeSide::new(&remote2, t(120)),
        &lww,
    );
    steps.check(
        "last writer wins takes the provider's title edited two minutes later",
        out.conflicts.is_empty()
            && out.merged.get("title").as_str() == Some("Pay with a stored card (Jira)"),
    );

    // 6. ... and refuses to guess inside the clock-skew guard.
    let out = three_way(
        &base,
        MergeSide::new(&host2, t(0)),
        MergeSide::new(&remote2, t(2)),
        &lww,
    );
    steps.check(
        "edits 2 s apart, inside the 5 s skew guard, stay a conflict",
        out.conflicts.len() == 1,
    );
}

fn names(changes: &[devflow_sync::model::FieldChange]) -> Vec<&str> {
    changes.iter().map(|c| c.field.as_str()).collect()
}
