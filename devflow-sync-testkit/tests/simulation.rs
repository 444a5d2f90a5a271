//! A seeded, reproducible simulation: random operations on the host and the provider,
//! with injected transient errors and misbehaving webhooks, then a final sync. Both
//! sides must then agree field by field for every linked item, nothing may be
//! duplicated, and every remaining difference must be a recorded conflict.
//!
//! `SIM_SEEDS=N` runs seeds `0..N` (default 20); `SIM_SEED=S` runs one seed;
//! `SIM_STEPS` sets the number of operations (default 1000).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::engine::PullBudget;
use devflow_sync_core::merge::{ConflictPolicy, LastWriterWins, Manual};
use devflow_sync_core::model::{ExternalId, FieldChange, FieldValue, Fields, ItemId, ItemKind};
use devflow_sync_core::store::ConflictStore;
use devflow_sync_core::store::{
    ConflictStatus, ConflictType, ItemUpdate, MappingStore, WorkItemStore,
};
use devflow_sync_testkit::harness::{Harness, PROVIDER};
use devflow_sync_testkit::memory_provider::Faults;
use devflow_sync_testkit::rng::SimRng;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default, Debug)]
struct Stats {
    ops: HashMap<&'static str, usize>,
}

fn parent_kind(kind: ItemKind) -> Option<ItemKind> {
    match kind {
        ItemKind::Prd => None,
        ItemKind::Epic => Some(ItemKind::Prd),
        ItemKind::Story => Some(ItemKind::Epic),
        ItemKind::Task => Some(ItemKind::Story),
        ItemKind::Subtask => Some(ItemKind::Task),
    }
}

async fn host_items(h: &Harness) -> Vec<(ItemId, ItemKind, bool)> {
    h.items
        .all()
        .into_iter()
        .filter_map(|i| i.record.kind.map(|k| (i.id, k, i.active)))
        .collect()
}

fn random_fields(rng: &mut SimRng) -> Fields {
    let mut f = Fields::new();
    match rng.below(4) {
        0 => {
            f.insert("title", format!("t{}", rng.below(1000)));
        }
        1 => {
            f.insert("points", rng.below(8) as i64);
        }
        2 => {
            let labels = ["a", "b", "c", "d"];
            let set: Vec<&str> = labels.iter().copied().filter(|_| rng.chance(0.5)).collect();
            f.insert("labels", FieldValue::set(set));
        }
        _ => {
            f.insert(
                "status",
                FieldValue::enumeration(["todo", "doing", "done"][rng.below(3)]),
            );
        }
    }
    f
}

async fn host_edit(h: &Harness, id: &ItemId, rng: &mut SimRng) {
    let Some(item) = h.items.get(id).await.unwrap() else {
        return;
    };
    let changes = random_fields(rng)
        .into_iter()
        .map(|(k, v)| FieldChange::new(k.clone(), item.record.fields.get(&k).clone(), v))
        .collect();
    h.items
        .update(
            id,
            &ItemUpdate {
                changes,
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
}

async fn run(seed: u64, steps: usize) {
    let policy: Arc<dyn ConflictPolicy> = if seed % 2 == 0 {
        Arc::new(Manual)
    } else {
        Arc::new(LastWriterWins::new(Duration::from_secs(2)))
    };
    let h = Harness::with(policy, |b| {
        b.import_mode(devflow_sync_core::engine::ImportMode::Import)
    });
    h.remote.set_faults(
        Faults {
            error_rate: 0.10,
            duplicate_webhooks: 0.10,
            drop_webhooks: 0.10,
            reorder_webhooks: true,
            ..Faults::default()
        },
        seed,
    );
    let mut rng = SimRng::new(seed ^ 0xD1CE);
    let mut stats = Stats::default();
    let (c, o) = (h.connection.clone(), h.object.clone());
    for _ in 0..steps {
        h.tick(Duration::from_secs(1 + rng.below(3) as u64));
        let roll = rng.below(100);
        let op = match roll {
            0..=14 => "host_create",
            15..=34 => "host_edit",
            35..=44 => "remote_create",
            45..=64 => "remote_edit",
            65..=69 => "remote_reparent",
            70..=72 => "remote_delete",
            73..=84 => "webhooks",
            85..=94 => "pull",
            _ => "push_pending",
        };
        *stats.ops.entry(op).or_default() += 1;
        match op {
            "host_create" => {
                let kind = ItemKind::ALL[rng.below(5)];
                let candidates: Vec<ItemId> = host_items(&h)
                    .await
                    .into_iter()
                    .filter(|(_, k, active)| Some(*k) == parent_kind(kind) && *active)
                    .map(|(id, _, _)| id)
                    .collect();
                let parent = match kind {
                    ItemKind::Prd => None,
                    ItemKind::Epic if rng.chance(0.5) || candidates.is_empty() => None,
                    _ => match rng.pick(&candidates) {
                        Some(p) => Some(p.clone()),
                        None => continue,
                    },
                };
                let id = h.create_item(kind, parent.as_ref(), "new").await.unwrap();
                let _ = h.engine.push(&c, &o, &id).await;
            }
            "host_edit" => {
                let items = host_items(&h).await;
                if let Some((id, _, _)) = rng.pick(&items).cloned() {
                    host_edit(&h, &id, &mut rng).await;
                    if rng.chance(0.6) {
                        let _ = h.engine.push(&c, &o, &id).await;
                    }
                }
            }
            "remote_create" => {
                let records = h.remote.records(&o);
                let kind = ItemKind::ALL[rng.below(5)];
                let parents: Vec<ExternalId> = records
                    .iter()
                    .filter(|r| r.record.kind == parent_kind(kind))
                    .map(|r| r.id.clone())
                    .collect();
                // Mostly valid places; sometimes an orphan.
                let parent = if kind == ItemKind::Prd || rng.chance(0.1) {
                    None
                } else {
                    rng.pick(&parents).cloned()
                };
                h.remote.remote_create(
                    &o,
                    Some(kind),
                    parent,
                    random_fields(&mut rng).with("title", "remote"),
                );
            }
            "remote_edit" => {
                let records = h.remote.records(&o);
                if let Some(r) = rng.pick(&records) {
                    let _ = h.remote.remote_edit(&o, &r.id, random_fields(&mut rng));
                }
            }
            "remote_reparent" => {
                let records = h.remote.records(&o);
                let stories: Vec<_> = records
                    .iter()
                    .filter(|r| r.record.kind == Some(ItemKind::Story))
                    .collect();
                let epics: Vec<_> = records
                    .iter()
                    .filter(|r| r.record.kind == Some(ItemKind::Epic))
                    .collect();
                if let (Some(s), Some(e)) = (rng.pick(&stories), rng.pick(&epics)) {
                    let _ = h.remote.remote_set_parent(&o, &s.id, Some(e.id.clone()));
                }
            }
            "remote_delete" => {
                let records = h.remote.records(&o);
                if let Some(r) = rng.pick(&records) {
                    let _ = h.remote.remote_delete(&o, &r.id);
                }
            }
            "webhooks" => {
                for hook in h.remote.take_webhooks() {
                    let _ = h
                        .engine
                        .accept_webhook(&PROVIDER.into(), &c, &hook.headers, &hook.body)
                        .await;
                }
                let _ = h.engine.process_inbox(1000).await;
            }
            "pull" => {
                let _ = h.engine.pull(&c, &o, PullBudget::pages(3)).await;
            }
            _ => {
                let items = host_items(&h).await;
                for (id, _, active) in items {
                    if active && rng.chance(0.3) {
                        let _ = h.engine.push(&c, &o, &id).await;
                    }
                }
            }
        }
    }

    // The final sync, with the network healthy again.
    h.remote.clear_faults();
    for _ in 0..3 {
        h.tick(Duration::from_secs(5));
        for hook in h.remote.take_webhooks() {
            let _ = h
                .engine
                .accept_webhook(&PROVIDER.into(), &c, &hook.headers, &hook.body)
                .await;
        }
        h.tick(Duration::from_secs(3600));
        h.engine
            .process_inbox(100_000)
            .await
            .expect("process inbox");
        let mut items = host_items(&h).await;
        items.sort_by_key(|(_, k, _)| k.level());
        for (id, _, active) in items {
            if active {
                let _ = h.engine.push(&c, &o, &id).await;
            }
        }
        h.engine
            .pull(&c, &o, PullBudget::UNLIMITED)
            .await
            .expect("final pull");
    }

    check(&h, seed, &stats).await;
}

async fn check(h: &Harness, seed: u64, stats: &Stats) {
    let (c, o) = (&h.connection, &h.object);
    let ctx = |msg: String| format!("seed {seed}: {msg} (ops: {:?})", stats.ops);
    let links = h.mappings.links(c, o).await.unwrap();
    let pending = h
        .journal
        .conflicts(c, Some(ConflictStatus::Pending))
        .await
        .unwrap();
    let conflicted_field = |item: &ItemId, field: &str| {
        pending.iter().any(|p| {
            p.conflict_type == ConflictType::Field
                && p.item.as_ref() == Some(item)
                && p.field.as_deref() == Some(field)
        })
    };
    let conflicted_record = |ext: &ExternalId| {
        pending
            .iter()
            .any(|p| p.conflict_type != ConflictType::Field && p.external.as_ref() == Some(ext))
    };

    // No duplicates: one record per marker, one link per record and per item.
    let all_remote = h.remote.records(o);
    let mut markers = HashSet::new();
    for r in &all_remote {
        if let Some(m) = &r.marker {
            assert!(
                markers.insert(m.clone()),
                "{}",
                ctx(format!("two records carry marker {m}"))
            );
        }
    }
    let mut seen_ext = HashSet::new();
    for l in &links {
        assert!(
            seen_ext.insert(l.remote.id.clone()),
            "{}",
            ctx(format!("record {} linked twice", l.remote.id))
        );
    }

    let mut compared = 0;
    for link in &links {
        let item = h.items.get(&link.item).await.unwrap();
        let Some(item) = item else { continue };
        let remote = h
            .remote
            .record(o, &link.remote.id)
            .expect("a linked record exists");
        if remote.deleted {
            assert!(
                !item.active,
                "{}",
                ctx(format!(
                    "item {} is active though its record was deleted",
                    item.id
                ))
            );
            continue;
        }
        compared += 1;
        let names: HashSet<&str> = item
            .record
            .fields
            .names()
            .chain(remote.record.fields.names())
            .collect();
        for name in names {
            let (l, r) = (item.record.fields.get(name), remote.record.fields.get(name));
            if l != r {
                assert!(
                    conflicted_field(&item.id, name),
                    "{}",
                    ctx(format!(
                        "item {} field {name}: host {l:?} vs provider {r:?}, and no conflict",
                        item.id
                    ))
                );
            }
        }
        // Parents agree, unless a conflict says why not.
        let remote_parent = match &remote.record.parent {
            Some(p) => h
                .mappings
                .link_by_external(c, o, p)
                .await
                .unwrap()
                .map(|l| l.item),
            None => None,
        };
        if remote_parent != item.record.parent {
            assert!(
                conflicted_record(&remote.id) || conflicted_field(&item.id, "@parent"),
                "{}",
                ctx(format!(
                    "item {} parent {:?} vs provider's {:?} ({:?}), and no conflict",
                    item.id, item.record.parent, remote_parent, remote.record.parent
                ))
            );
        }
    }
    // Every provider record is linked, or waits on a recorded conflict.
    for r in &all_remote {
        if !seen_ext.contains(&r.id) {
            assert!(
                conflicted_record(&r.id),
                "{}",
                ctx(format!("record {} is neither linked nor in conflict", r.id))
            );
        }
    }
    // Every active host item reached the provider.
    let linked_items: HashSet<_> = links.iter().map(|l| l.item.clone()).collect();
    for item in h.items.all() {
        if item.active {
            assert!(
                linked_items.contains(&item.id),
                "{}",
                ctx(format!("item {} never reached the provider", item.id))
            );
        }
    }
    assert!(compared > 0, "{}", ctx("nothing was compared".into()));
    eprintln!(
        "seed {seed}: {} provider records, {} links, {compared} pairs compared equal, {} pending conflicts, {} host items",
        all_remote.len(),
        links.len(),
        pending.len(),
        h.items.len()
    );
}

#[tokio::test]
async fn random_operations_converge_with_every_divergence_a_conflict() {
    let steps = env_usize("SIM_STEPS", 1000);
    let seeds: Vec<u64> = match std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (0..env_usize("SIM_SEEDS", 20) as u64).collect(),
    };
    for seed in seeds {
        eprintln!("simulation seed {seed} ({steps} steps); rerun with SIM_SEED={seed}");
        run(seed, steps).await;
    }
}
