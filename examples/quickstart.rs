//! The first thing to run: `cargo run --example quickstart`.
//!
//! Offline and in memory, it walks through what devflow-sync decides on every sync:
//! where an item may sit in the PRD -> Epic -> Story -> Task -> Subtask hierarchy, which
//! order a tree is pushed in, how the host's and a provider's edits of one record merge,
//! and how a conflict is recorded and then settled — first with the core alone, then
//! with the sync engine against the in-memory provider (webhooks, echo suppression, an
//! orphan created in the provider). Every step checks what it prints; the example exits
//! non-zero if one does not hold.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use devflow_sync::hierarchy::{BatchItem, Candidate, NoLookup};
use devflow_sync::merge::{LastWriterWins, Manual, MergeSide, three_way};
use devflow_sync::{FieldValue, Fields, HierarchyRules, ItemId, ItemKind, ViolationKind};

struct Steps {
    failed: usize,
    n: usize,
}

impl Steps {
    fn check(&mut self, what: &str, ok: bool) {
        self.n += 1;
        println!(
            "{:>2}. [{}] {what}",
            self.n,
            if ok { " ok " } else { "FAIL" }
        );
        if !ok {
            self.failed += 1;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut steps = Steps { failed: 0, n: 0 };
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

    if let Err(e) = engine_steps(&mut steps).await {
        println!("engine steps stopped: {e}");
        steps.failed += 1;
    }

    println!("\n{} of {} steps hold.", steps.n - steps.failed, steps.n);
    if steps.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The sync engine against the in-memory provider.
async fn engine_steps(steps: &mut Steps) -> devflow_sync::Result<()> {
    use devflow_sync::engine::{PullBudget, Resolution};
    use devflow_sync::store::{
        ConflictStatus, ItemUpdate, MappingStore, SyncJournal, WorkItemStore,
    };
    use devflow_sync_testkit::harness::Harness;

    println!("\nThe sync engine, against an in-memory provider:");
    let h = Harness::new(Manual);
    let (c, o) = (h.connection.clone(), h.object.clone());

    // 7. Push a whole tree.
    let prd = h.create_item(ItemKind::Prd, None, "Checkout").await?;
    let epic = h
        .create_item(ItemKind::Epic, Some(&prd), "Saved cards")
        .await?;
    let story = h
        .create_item(ItemKind::Story, Some(&epic), "Pay with a saved card")
        .await?;
    let task = h
        .create_item(ItemKind::Task, Some(&story), "Card vault API")
        .await?;
    h.create_item(ItemKind::Subtask, Some(&task), "Contract tests")
        .await?;
    let report = h.engine.push_tree(&c, &o, &prd).await?;
    let ids: Vec<String> = h
        .remote
        .records(&o)
        .iter()
        .map(|r| format!("#{}", r.id))
        .collect();
    println!("    pushed: {} ({})", ids.join(", "), report.summary());
    steps.check(
        "push_tree creates five provider records, parents first, each linked",
        report.created == 5 && h.mappings.links(&c, &o).await?.len() == 5,
    );

    // 8. A provider-side edit arrives by webhook and merges into the host.
    let story_ext = h
        .mappings
        .link_by_item(&c, &o, &story)
        .await?
        .map(|l| l.remote.id);
    let Some(story_ext) = story_ext else {
        steps.check("the story is linked", false);
        return Ok(());
    };
    h.remote.take_webhooks();
    h.tick(Duration::from_secs(30));
    h.remote.remote_edit(
        &o,
        &story_ext,
        Fields::new().with("status", FieldValue::enumeration("in_review")),
    )?;
    h.deliver_webhooks().await?;
    let host_story = h.items.get(&story).await?;
    steps.check(
        "a provider edit delivered by webhook reaches the host item",
        host_story.is_some_and(|s| s.record.fields.get("status").as_str() == Some("in_review")),
    );

    // 9. The engine's own write comes back as a webhook and changes nothing.
    let item = h
        .items
        .get(&story)
        .await?
        .ok_or_else(|| devflow_sync::Error::not_found("story"))?;
    let update = ItemUpdate {
        changes: vec![devflow_sync::model::FieldChange::new(
            "points",
            FieldValue::Null,
            5,
        )],
        ..ItemUpdate::default()
    };
    h.items.update(&story, &update, None).await?;
    h.engine.push(&c, &o, &story).await?;
    let writes = h.remote.calls().update;
    let version = h.items.get(&story).await?.and_then(|i| i.record.version);
    h.deliver_webhooks().await?;
    steps.check(
        "the echo of the engine's own write is a no-op (no loop)",
        h.remote.calls().update == writes
            && h.items.get(&story).await?.and_then(|i| i.record.version) == version
            && item.record.version != version,
    );

    // 10. A story created in the provider without a parent is refused, then linked.
    let orphan = h.remote.remote_create(
        &o,
        Some(ItemKind::Story),
        None,
        Fields::new().with("title", "Made in the provider"),
    );
    h.tick(Duration::from_secs(1));
    h.engine.pull(&c, &o, PullBudget::UNLIMITED).await?;
    let pending = h
        .journal
        .conflicts(&c, Some(ConflictStatus::Pending))
        .await?;
    if let Some(conflict) = pending.first() {
        println!(
            "    conflict: {} / {}",
            conflict.message, conflict.suggested_action
        );
        h.engine
            .resolve_conflict(
                &conflict.id,
                Resolution::LinkToParent {
                    parent: epic.clone(),
                },
            )
            .await?;
    }
    let epic_ext = h
        .mappings
        .link_by_item(&c, &o, &epic)
        .await?
        .map(|l| l.remote.id);
    steps.check(
        "an orphan story from the provider is a conflict \"Story requires a parent\" / \"Link to an epic\", resolved under the epic on both sides",
        pending.len() == 1
            && pending[0].message == "Story requires a parent"
            && pending[0].suggested_action == "Link to an epic"
            && h.remote.record(&o, &orphan.id).and_then(|r| r.record.parent) == epic_ext
            && h.mappings.link_by_external(&c, &o, &orphan.id).await?.is_some(),
    );
    Ok(())
}

fn names(changes: &[devflow_sync::model::FieldChange]) -> Vec<&str> {
    changes.iter().map(|c| c.field.as_str()).collect()
}
