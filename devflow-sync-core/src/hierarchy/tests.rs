use std::collections::HashMap;

use super::*;
use crate::model::{ItemId, ItemKind};

use ItemKind::{Epic, Prd, Story, Subtask, Task};

fn id(s: &str) -> ItemId {
    ItemId::new(s)
}

/// A lookup with one item of each kind, id = the kind's name.
fn one_of_each() -> HashMap<ItemId, Placement<ItemId>> {
    ItemKind::ALL
        .into_iter()
        .map(|k| (id(k.as_str()), Placement::new(k, None)))
        .collect()
}

#[test]
fn default_rules_every_kind_under_every_parent() {
    use ViolationKind::{MissingParent as Missing, WrongParentType as Wrong};
    // (child, parent or None for the root, expected result)
    let table: [(ItemKind, Option<ItemKind>, Option<ViolationKind>); 30] = [
        (Prd, None, None),
        (Prd, Some(Prd), Some(Wrong)),
        (Prd, Some(Epic), Some(Wrong)),
        (Prd, Some(Story), Some(Wrong)),
        (Prd, Some(Task), Some(Wrong)),
        (Prd, Some(Subtask), Some(Wrong)),
        (Epic, None, None),
        (Epic, Some(Prd), None),
        (Epic, Some(Epic), Some(Wrong)),
        (Epic, Some(Story), Some(Wrong)),
        (Epic, Some(Task), Some(Wrong)),
        (Epic, Some(Subtask), Some(Wrong)),
        (Story, None, Some(Missing)),
        (Story, Some(Prd), Some(Wrong)),
        (Story, Some(Epic), None),
        (Story, Some(Story), Some(Wrong)),
        (Story, Some(Task), Some(Wrong)),
        (Story, Some(Subtask), Some(Wrong)),
        (Task, None, Some(Missing)),
        (Task, Some(Prd), Some(Wrong)),
        (Task, Some(Epic), Some(Wrong)),
        (Task, Some(Story), None),
        (Task, Some(Task), Some(Wrong)),
        (Task, Some(Subtask), Some(Wrong)),
        (Subtask, None, Some(Missing)),
        (Subtask, Some(Prd), Some(Wrong)),
        (Subtask, Some(Epic), Some(Wrong)),
        (Subtask, Some(Story), Some(Wrong)),
        (Subtask, Some(Task), None),
        (Subtask, Some(Subtask), Some(Wrong)),
    ];
    let rules = HierarchyRules::devflow();
    let known = one_of_each();
    let me = id("the-item");
    for (child, parent, expected) in table {
        let parent_id = parent.map(|k| id(k.as_str()));
        let candidate = Candidate::new(child).id(&me).parent(parent_id.as_ref());
        let got = rules.validate(&candidate, &known).err().map(|v| v.kind);
        assert_eq!(got, expected, "{child} under {parent:?}");
        assert_eq!(rules.is_allowed(child, parent), expected.is_none());
    }
}

#[test]
fn messages_and_suggested_actions_are_written_for_a_person() {
    let rules = HierarchyRules::devflow();
    let known = one_of_each();
    let me = id("s-1");
    let check = |kind, parent: Option<&str>, message: &str, action: &str| {
        let parent = parent.map(id);
        let v = rules
            .validate(
                &Candidate::new(kind).id(&me).parent(parent.as_ref()),
                &known,
            )
            .unwrap_err();
        assert_eq!(v.message, message);
        assert_eq!(v.suggested_action, action);
        assert_eq!(v.item.as_deref(), Some("s-1"));
        v
    };
    let v = check(Story, None, "Story requires a parent", "Link to an epic");
    assert_eq!(v.valid_parents.to_vec(), vec![Epic]);
    assert_eq!(
        v.to_string(),
        "s-1: Story requires a parent (suggested action: Link to an epic)"
    );
    let v = check(
        Story,
        Some("task"),
        "Story cannot have task as parent. Valid parents: epic",
        "Move it under an epic",
    );
    assert_eq!(v.parent_kind, Some(Task));
    assert_eq!(v.parent.as_deref(), Some("task"));
    check(Task, None, "Task requires a parent", "Link to a story");
    check(Subtask, None, "Subtask requires a parent", "Link to a task");
    check(
        Prd,
        Some("epic"),
        "PRD cannot have epic as parent. Valid parents: none",
        "Remove the parent link",
    );
    check(
        Epic,
        Some("story"),
        "Epic cannot have story as parent. Valid parents: PRD, none",
        "Move it under a PRD or make it a root item",
    );
    check(
        Story,
        Some("ghost"),
        "Story has parent ghost, which was not found",
        "Link to an existing epic, or sync the parent first",
    );
}

#[test]
fn parent_not_found_type_change_and_outside_creation() {
    let rules = HierarchyRules::devflow();
    let known = one_of_each();
    let me = id("x");
    let ghost = id("ghost");
    let v = rules
        .validate(&Candidate::new(Task).id(&me).parent(Some(&ghost)), &known)
        .unwrap_err();
    assert_eq!(v.kind, ViolationKind::ParentNotFound);

    let story = id("story");
    let changed = Candidate::new(Task)
        .id(&me)
        .parent(Some(&story))
        .previous_kind(Some(Story));
    let v = rules.validate(&changed, &known).unwrap_err();
    assert_eq!(v.kind, ViolationKind::TypeChanged);
    assert_eq!(
        v.message,
        "Type changed from story to task, which these rules do not allow"
    );
    assert_eq!(
        v.suggested_action,
        "Change the type back to story, or create a new task instead"
    );
    let relaxed = rules.to_builder().allow_kind_change(true).build();
    assert!(relaxed.validate(&changed, &known).is_ok());

    let epic = id("epic");
    let imported = Candidate::new(Story)
        .id(&me)
        .parent(Some(&epic))
        .created_outside_host(true);
    let v = rules.validate(&imported, &known).unwrap_err();
    assert_eq!(v.kind, ViolationKind::CreatedOutsideHost);
    assert_eq!(v.message, "Story was created outside the host");
    assert_eq!(
        v.suggested_action,
        "Import it into the host, or link it to an existing story"
    );
    let open = rules.to_builder().allow_external_creation(true).build();
    assert!(open.validate(&imported, &known).is_ok());

    // The hierarchy problem is reported before the origin: an orphan story from a
    // provider is "requires a parent", which is what a person can fix.
    let orphan = Candidate::new(Story).id(&me).created_outside_host(true);
    let v = rules.validate(&orphan, &known).unwrap_err();
    assert_eq!(v.kind, ViolationKind::MissingParent);
}

#[test]
fn an_item_cannot_be_its_own_parent() {
    let me = id("t-1");
    for rules in [HierarchyRules::devflow(), HierarchyRules::permissive()] {
        let v = rules
            .validate(&Candidate::new(Task).id(&me).parent(Some(&me)), &NoLookup)
            .unwrap_err();
        assert_eq!(v.kind, ViolationKind::Cycle);
        assert_eq!(v.message, "Task cannot be its own parent");
    }
}

#[test]
fn loops_through_ancestors_are_found_when_rules_allow_nesting() {
    // Tasks may nest; t1 -> t2 -> t3 -> t1 is a loop that every single link allows.
    let rules = HierarchyRules::devflow()
        .to_builder()
        .parent(Task, Task)
        .build();
    let known: HashMap<ItemId, Placement<ItemId>> = [
        (id("t2"), Placement::new(Task, Some(id("t3")))),
        (id("t3"), Placement::new(Task, Some(id("t1")))),
    ]
    .into_iter()
    .collect();
    let t1 = id("t1");
    let t2 = id("t2");
    let v = rules
        .validate(&Candidate::new(Task).id(&t1).parent(Some(&t2)), &known)
        .unwrap_err();
    assert_eq!(v.kind, ViolationKind::Cycle);
    assert_eq!(
        v.suggested_action,
        "Remove the parent link that closes the loop"
    );
    // Without the closing link it is fine.
    let t9 = id("t9");
    assert!(
        rules
            .validate(&Candidate::new(Task).id(&t9).parent(Some(&t2)), &known)
            .is_ok()
    );
}

#[test]
fn custom_rules_from_the_builder() {
    let rules = HierarchyRules::builder()
        .root(Epic)
        .root(Story)
        .parent(Story, Epic)
        .parent(Task, Story)
        .build();
    assert!(rules.is_allowed(Story, None));
    assert!(rules.is_allowed(Task, Some(Story)));
    assert!(!rules.is_allowed(Prd, None));
    let v = rules
        .validate(&Candidate::<ItemId>::new(Prd), &NoLookup)
        .unwrap_err();
    assert_eq!(
        v.message,
        "PRD items are not allowed by these hierarchy rules"
    );

    let stricter = HierarchyRules::devflow()
        .to_builder()
        .not_root(Epic)
        .build();
    let v = stricter
        .validate(&Candidate::<ItemId>::new(Epic), &NoLookup)
        .unwrap_err();
    assert_eq!(v.message, "Epic requires a parent");
    assert_eq!(v.suggested_action, "Link to a PRD");

    let looser = HierarchyRules::devflow()
        .to_builder()
        .parent(Story, Prd)
        .forbid_parent(Epic, Prd)
        .build();
    assert_eq!(looser.allowed_parents(Story), vec![Prd, Epic]);
    assert!(!looser.is_allowed(Epic, Some(Prd)));
    let v = looser
        .validate(&Candidate::<ItemId>::new(Story), &NoLookup)
        .unwrap_err();
    assert_eq!(v.suggested_action, "Link to a PRD or an epic");
    assert!(format!("{looser:?}").contains(r#""story": ["prd", "epic"]"#));
}

#[test]
fn lookups_by_closure_and_btreemap_agree() {
    let rules = HierarchyRules::devflow();
    let me = id("s");
    let epic = id("e");
    let candidate = Candidate::new(Story).id(&me).parent(Some(&epic));
    let closure = FnLookup(|i: &ItemId| (i.as_str() == "e").then_some(Epic));
    assert!(rules.validate(&candidate, &closure).is_ok());
    let tree = std::collections::BTreeMap::from([(epic.clone(), Placement::new(Epic, None))]);
    assert!(rules.validate(&candidate, &tree).is_ok());
    assert!(rules.validate(&candidate, &NoLookup).is_err());
}

fn item(i: &str, kind: ItemKind, parent: Option<&str>) -> BatchItem<ItemId> {
    let item = BatchItem::new(i, kind);
    match parent {
        Some(p) => item.with_parent(p),
        None => item,
    }
}

#[test]
fn batch_orders_parents_first_keeping_sibling_order() {
    let batch = vec![
        item("sub-1", Subtask, Some("task-1")),
        item("task-2", Task, Some("story-1")),
        item("task-1", Task, Some("story-1")),
        item("story-1", Story, Some("epic-1")),
        item("epic-1", Epic, Some("prd-1")),
        item("prd-1", Prd, None),
        item("epic-2", Epic, None),
    ];
    let plan = HierarchyRules::devflow().plan_batch(&batch, &NoLookup);
    assert!(plan.is_clean(), "{plan:?}");
    let names: Vec<&str> = plan.order.iter().map(|&i| batch[i].id.as_str()).collect();
    assert_eq!(
        names,
        [
            "prd-1", "epic-1", "story-1", "task-2", "task-1", "sub-1", "epic-2"
        ]
    );
    // Every item comes after its parent.
    for (pos, &i) in plan.order.iter().enumerate() {
        if let Some(parent) = &batch[i].parent {
            let parent_pos = plan.order.iter().position(|&j| &batch[j].id == parent);
            assert!(parent_pos.unwrap() < pos);
        }
    }
    assert_eq!(order_parents_first(&batch).unwrap(), plan.order);
}

#[test]
fn batch_parents_outside_the_batch_come_from_the_lookup() {
    let outside = HashMap::from([(id("epic-9"), Placement::new(Epic, None))]);
    let batch = vec![
        item("task-1", Task, Some("story-1")),
        item("story-1", Story, Some("epic-9")),
    ];
    let plan = HierarchyRules::devflow().plan_batch(&batch, &outside);
    assert!(plan.is_clean());
    assert_eq!(plan.order, vec![1, 0]);
}

#[test]
fn batch_finds_cycles_and_orphans_and_blocks_their_descendants() {
    let rules = HierarchyRules::permissive();
    let batch = vec![
        item("a", Task, Some("b")),
        item("b", Task, Some("c")),
        item("c", Task, Some("a")),
        item("below-loop", Subtask, Some("a")),
        item("self", Task, Some("self")),
        item("ok", Epic, None),
    ];
    let plan = rules.plan_batch(&batch, &NoLookup);
    assert_eq!(plan.cycles().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert!(plan.blocked.is_empty());
    assert_eq!(
        plan.violations[3].1.message,
        "Subtask sits below a loop of parent links"
    );
    assert_eq!(plan.order, vec![5]);
    assert_eq!(
        order_parents_first(&batch).unwrap_err().items,
        vec![0, 1, 2, 4]
    );
    let (_, v) = &plan.violations[4];
    assert_eq!(v.message, "Task cannot be its own parent");

    let strict = HierarchyRules::devflow();
    let batch = vec![
        item("story", Story, None),
        item("task", Task, Some("story")),
        item("sub", Subtask, Some("missing-task")),
        item("epic", Epic, None),
    ];
    let plan = strict.plan_batch(&batch, &NoLookup);
    assert_eq!(plan.orphans().collect::<Vec<_>>(), vec![0, 2]);
    assert_eq!(plan.blocked, vec![1]);
    assert_eq!(plan.order, vec![3]);
    assert!(!plan.is_clean());
}

#[test]
fn violations_round_trip_through_json_for_journals() {
    let v = HierarchyRules::devflow()
        .validate(&Candidate::<ItemId>::new(Story), &NoLookup)
        .unwrap_err();
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["kind"], "missing_parent");
    assert_eq!(json["valid_parents"], serde_json::json!(["epic"]));
    assert_eq!(serde_json::from_value::<Violation>(json).unwrap(), v);
    // Small enough to return by value from hot paths.
    assert!(std::mem::size_of::<Violation>() < 128);
}
