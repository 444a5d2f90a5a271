//! Bindings with a field mapping and a record filter.

use std::collections::BTreeMap;

use devflow_sync_core::Error;
use devflow_sync_core::engine::{BindingOptions, ImportMode};
use devflow_sync_core::mapping::{FieldMapping, ObjectMapping, Transform};
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{FieldChange, FieldType, FieldValue, Fields, ItemKind};
use devflow_sync_core::provider::RecordFilter;
use devflow_sync_core::registry::{ObjectCatalog, load_catalog};
use devflow_sync_core::store::RunLog;
use devflow_sync_core::store::{ItemUpdate, MappingStore, RunStatus, WorkItemStore};
use devflow_sync_testkit::harness::{Harness, PROVIDER};

fn catalog(extra: &str) -> ObjectCatalog {
    let doc = format!(
        r#"{{"providerSchemaVersion":1,"key":"memory","displayName":"Memory","oauth":{{"flows":["api_token"]}},
        "rateLimits":{{"requestsPerMinute":600,"burst":50,"maxConcurrentPerConnection":4}},
        "objects":[{{"key":"issue","label":"Issue","mappingSchemaVersion":1,"fields":[
          {{"name":"title","type":"text"}},{{"name":"state","type":"enum"}},{{"name":"labels","type":"set"}}{extra}],
        "capabilities":{{"list":true,"delta":true,"create":true,"update":true,"delete":true,"webhook":true}}}}]}}"#
    );
    load_catalog("memory.json", &doc).unwrap().objects.remove(0)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn mapping(cat: &ObjectCatalog) -> ObjectMapping {
    ObjectMapping::new(
        PROVIDER,
        cat,
        vec![
            FieldMapping::identity("title", "title", FieldType::Text),
            FieldMapping::identity("status", "state", FieldType::Enum).with_transform(
                Transform::StateAndLabels {
                    closed: "done".into(),
                    closing: Default::default(),
                    labels: labels(&[("status:doing", "in_progress")]),
                    open_default: "todo".into(),
                },
            ),
            FieldMapping::identity("priority", "labels", FieldType::Set).with_transform(
                Transform::LabelPick {
                    labels: labels(&[("P1", "high"), ("P3", "low")]),
                },
            ),
            FieldMapping::identity("tags", "labels", FieldType::Set)
                .with_transform(Transform::LabelRest),
        ],
    )
}

fn harness(options: BindingOptions) -> Harness {
    Harness::with(Manual, |b| {
        // Replace the default binding with one carrying the options.
        let config = devflow_sync_core::engine::EngineConfig {
            import_mode: ImportMode::Import,
            ..Default::default()
        };
        b.config(config)
            .bind_with("conn-1", PROVIDER, "issue", options)
    })
}

#[tokio::test]
async fn a_mapped_binding_translates_both_ways_and_keeps_other_labels() {
    let cat = catalog("");
    let h = harness(BindingOptions {
        mapping: Some(mapping(&cat)),
        ..BindingOptions::default()
    });
    let rec = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Epic),
        None,
        Fields::new()
            .with("title", "Checkout")
            .with("state", FieldValue::enumeration("open"))
            .with("labels", FieldValue::set(["P1", "backend", "status:doing"])),
    );
    h.pull().await.unwrap();
    let link = h
        .mappings
        .link_by_external(&h.connection, &h.object, &rec.id)
        .await
        .unwrap()
        .unwrap();
    let item = h.items.get(&link.item).await.unwrap().unwrap();
    assert_eq!(
        item.record.fields.get("status").as_str(),
        Some("in_progress")
    );
    assert_eq!(item.record.fields.get("priority").as_str(), Some("high"));
    assert_eq!(
        item.record.fields.get("tags"),
        &FieldValue::set(["backend"])
    );
    assert!(
        !item.record.fields.contains("state"),
        "host fields only: {:?}",
        item.record.fields
    );

    // The host closes it and lowers the priority: the provider gets its own fields back.
    let update = ItemUpdate {
        changes: vec![
            FieldChange::new(
                "status",
                FieldValue::enumeration("in_progress"),
                FieldValue::enumeration("done"),
            ),
            FieldChange::new(
                "priority",
                FieldValue::enumeration("high"),
                FieldValue::enumeration("low"),
            ),
        ],
        ..ItemUpdate::default()
    };
    h.items.update(&link.item, &update, None).await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &link.item)
        .await
        .unwrap();
    let remote = h.remote.record(&h.object, &rec.id).unwrap();
    assert_eq!(remote.record.fields.get("state").as_str(), Some("closed"));
    assert_eq!(
        remote.record.fields.get("labels"),
        &FieldValue::set(["P3", "backend"])
    );
    assert!(
        !remote.record.fields.contains("status"),
        "provider fields only: {:?}",
        remote.record.fields
    );

    // The echo changes nothing; a provider-side tag arrives as a tag.
    h.deliver_webhooks().await.unwrap();
    h.tick(std::time::Duration::from_secs(5));
    h.remote
        .remote_edit(
            &h.object,
            &rec.id,
            Fields::new().with("labels", FieldValue::set(["P3", "backend", "ux"])),
        )
        .unwrap();
    h.deliver_webhooks().await.unwrap();
    let item = h.items.get(&link.item).await.unwrap().unwrap();
    assert_eq!(
        item.record.fields.get("tags"),
        &FieldValue::set(["backend", "ux"])
    );
    assert_eq!(item.record.fields.get("status").as_str(), Some("done"));
    assert!(h.journal.all_conflicts().is_empty());

    // A host-created item goes out in provider fields.
    let new = h.create_item(ItemKind::Epic, None, "New").await.unwrap();
    let extra = ItemUpdate {
        changes: vec![FieldChange::new(
            "priority",
            FieldValue::Null,
            FieldValue::enumeration("high"),
        )],
        ..ItemUpdate::default()
    };
    h.items.update(&new, &extra, None).await.unwrap();
    h.engine.push(&h.connection, &h.object, &new).await.unwrap();
    let created = h
        .remote
        .record(&h.object, &h.external_id(&new).await)
        .unwrap();
    assert_eq!(
        created.record.fields.get("labels"),
        &FieldValue::set(["P1"])
    );
    assert_eq!(created.record.fields.get("state").as_str(), Some("open"));
}

#[tokio::test]
async fn a_stale_mapping_blocks_the_run_unless_the_valid_subset_is_allowed() {
    let old = catalog(r#",{"name":"milestone","type":"number"}"#);
    let mut m = mapping(&old);
    m.fields.push(FieldMapping::identity(
        "sprint",
        "milestone",
        FieldType::Number,
    ));
    let loaded = m.checked_against(&catalog(""));
    assert!(loaded.stale);

    let h = harness(BindingOptions {
        mapping: Some(loaded.clone()),
        ..BindingOptions::default()
    });
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "x"),
    );
    let err = h.pull().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config at mappings/memory/issue: Mappings out of date for memory/issue; review and re-save"
    );
    assert!(h.items.is_empty());
    let epic = h.create_item(ItemKind::Epic, None, "E").await.unwrap();
    assert!(matches!(
        h.engine.push(&h.connection, &h.object, &epic).await,
        Err(Error::InvalidConfig { .. })
    ));

    let h = harness(BindingOptions {
        mapping: Some(loaded),
        allow_partial_mapping: true,
        ..BindingOptions::default()
    });
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "x"),
    );
    let report = h.pull().await.unwrap();
    assert_eq!(report.created, 1);
    let run = h.journal.run(&report.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Partial);
    assert!(run.summary.contains("stale mapping"), "{}", run.summary);
}

#[tokio::test]
async fn filters_are_pushed_down_and_applied_by_the_engine() {
    let h = harness(BindingOptions {
        filter: RecordFilter {
            labels: vec!["sync".into()],
            ..RecordFilter::default()
        },
        ..BindingOptions::default()
    });
    let wanted = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Epic),
        None,
        Fields::new()
            .with("title", "in")
            .with("labels", FieldValue::set(["sync"])),
    );
    let unwanted = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Epic),
        None,
        Fields::new()
            .with("title", "out")
            .with("labels", FieldValue::set(["other"])),
    );
    let report = h.pull().await.unwrap();
    assert_eq!(report.created, 1);
    assert_eq!(
        report.outcomes.len(),
        1,
        "the provider did not even list the other one: {report:?}"
    );
    assert!(
        h.mappings
            .link_by_external(&h.connection, &h.object, &wanted.id)
            .await
            .unwrap()
            .is_some()
    );
    // A webhook about a record outside the filter is skipped by the engine.
    h.tick(std::time::Duration::from_secs(1));
    h.remote
        .remote_edit(
            &h.object,
            &unwanted.id,
            Fields::new().with("title", "still out"),
        )
        .unwrap();
    h.deliver_webhooks().await.unwrap();
    assert!(
        h.mappings
            .link_by_external(&h.connection, &h.object, &unwanted.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(h.items.len(), 1);
}

#[tokio::test]
async fn a_mapped_binding_leaves_the_fields_it_does_not_map_alone() {
    // An item synced to several systems carries fields of each: a sync through one
    // binding must not take a field another binding keeps for one this one cleared.
    let cat = catalog("");
    let h = harness(BindingOptions {
        mapping: Some(mapping(&cat)),
        ..BindingOptions::default()
    });
    let record = devflow_sync_core::model::Record::new(
        "work_item",
        devflow_sync_core::clock::Clock::now(h.clock.as_ref()),
    )
    .with_kind(ItemKind::Epic)
    .with_field("title", "Checkout")
    .with_field("status", FieldValue::enumeration("todo"))
    .with_field("milestone", FieldValue::int(7))
    .with_field("assignees", FieldValue::set(["mona"]));
    let item = h.items.create(None, record).await.unwrap().id;
    h.engine
        .push(&h.connection, &h.object, &item)
        .await
        .unwrap();
    let kept = |fields: &Fields| {
        fields.get("milestone") == &FieldValue::int(7)
            && fields.get("assignees") == &FieldValue::set(["mona"])
    };
    let after_push = h.items.get(&item).await.unwrap().unwrap();
    assert!(
        kept(&after_push.record.fields),
        "{:?}",
        after_push.record.fields
    );

    // The provider renames it: the title comes in, the other fields stay.
    let link = h
        .mappings
        .link_by_item(&h.connection, &h.object, &item)
        .await
        .unwrap()
        .unwrap();
    h.tick(std::time::Duration::from_secs(5));
    h.remote
        .remote_edit(
            &h.object,
            &link.remote.id,
            Fields::new().with("title", "Checkout v2"),
        )
        .unwrap();
    h.pull().await.unwrap();
    let after_pull = h.items.get(&item).await.unwrap().unwrap();
    assert_eq!(
        after_pull.record.fields.get("title").as_str(),
        Some("Checkout v2")
    );
    assert!(
        kept(&after_pull.record.fields),
        "{:?}",
        after_pull.record.fields
    );
    assert!(h.journal.all_conflicts().is_empty());
}
