//! `cargo bench --bench merge`: the three-way merge of a typical item and hierarchy
//! validation, single-threaded.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use devflow_sync::hierarchy::{Candidate, NoLookup, Placement};
use devflow_sync::merge::{LastWriterWins, Manual, three_way};
use devflow_sync::{HierarchyRules, ItemId, ItemKind};
use devflow_sync_testkit::items::{devflow_tree, edit_three_fields, typical_fields};

fn merge(c: &mut Criterion) {
    let base = typical_fields();
    let local = base.clone();
    let remote = edit_three_fields(&base);
    let mut group = c.benchmark_group("three_way");
    group.throughput(Throughput::Elements(1));
    group.bench_function("typical_item_one_side_changed_3_fields", |b| {
        b.iter(|| {
            three_way(
                black_box(&base),
                black_box(&local),
                black_box(&remote),
                &Manual,
            )
        });
    });

    // Both sides edited the description in different places, plus labels on both.
    let text = base
        .get("description")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut host = edit_three_fields(&base);
    host.insert(
        "description",
        devflow_sync::FieldValue::long_text(text.replacen("Step 1:", "Step one:", 1)),
    );
    host.insert(
        "labels",
        devflow_sync::FieldValue::set(["backend", "payments", "q3", "web"]),
    );
    let mut jira = base.clone();
    jira.insert(
        "description",
        devflow_sync::FieldValue::long_text(text.replacen("Paragraph 5", "Paragraph five", 1)),
    );
    jira.insert(
        "labels",
        devflow_sync::FieldValue::set([
            "backend",
            "payments",
            "q3",
            "web",
            "customer-request",
            "p1",
        ]),
    );
    group.bench_function("typical_item_both_sides_changed_text_and_labels", |b| {
        b.iter(|| {
            three_way(
                black_box(&base),
                black_box(&host),
                black_box(&jira),
                &LastWriterWins::default(),
            )
        });
    });
    group.finish();
}

fn hierarchy(c: &mut Criterion) {
    let rules = HierarchyRules::devflow();
    let (story, epic) = (ItemId::new("story-1"), ItemId::new("epic-1"));
    let known: HashMap<ItemId, Placement<ItemId>> =
        HashMap::from([(epic.clone(), Placement::new(ItemKind::Epic, None))]);
    let mut group = c.benchmark_group("hierarchy");
    group.throughput(Throughput::Elements(1));
    group.bench_function("validate_story_under_epic", |b| {
        b.iter(|| {
            let candidate = Candidate::new(ItemKind::Story)
                .id(black_box(&story))
                .parent(Some(black_box(&epic)));
            rules.validate(&candidate, &known)
        });
    });
    group.bench_function("validate_orphan_story_violation", |b| {
        b.iter(|| {
            rules.validate(
                &Candidate::new(ItemKind::Story).id(black_box(&story)),
                &NoLookup,
            )
        });
    });
    let tree = devflow_tree(4);
    group.throughput(Throughput::Elements(tree.len() as u64));
    group.bench_function("plan_batch_tree_of_341", |b| {
        b.iter(|| rules.plan_batch(black_box(&tree), &NoLookup));
    });
    group.finish();
}

criterion_group!(benches, merge, hierarchy);
criterion_main!(benches);
