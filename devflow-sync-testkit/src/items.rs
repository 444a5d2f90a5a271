//! Ready-made records and trees for tests and benches.

use devflow_sync_core::hierarchy::BatchItem;
use devflow_sync_core::model::{FieldValue, Fields, ItemId, ItemKind, UserRef};

/// A markdown description of about `bytes` bytes: headings, paragraphs and a list, one
/// line per sentence, as hosts and providers store them.
pub fn markdown_description(bytes: usize) -> String {
    let mut text = String::from("# Checkout redesign\n\n## Goal\n");
    let mut n = 0;
    while text.len() < bytes {
        n += 1;
        match n % 7 {
            0 => text.push_str(&format!("\n## Section {n}\n")),
            1..=3 => text.push_str(&format!(
                "- Step {n}: the shopper reviews the cart and confirms the order.\n"
            )),
            _ => text.push_str(&format!(
                "Paragraph {n} explains why this matters to the payment team.\n"
            )),
        }
    }
    text
}

/// A typical work item: 12 fields, among them a 2 KB markdown description, 5 labels,
/// two assignees, a status, a priority, dates and numbers.
pub fn typical_fields() -> Fields {
    Fields::new()
        .with("title", "Let shoppers pay with a saved card")
        .with(
            "description",
            FieldValue::long_text(markdown_description(2048)),
        )
        .with("status", FieldValue::enumeration("in_progress"))
        .with("priority", FieldValue::enumeration("high"))
        .with(
            "labels",
            FieldValue::set(["backend", "payments", "q3", "web", "customer-request"]),
        )
        .with("assignees", FieldValue::set(["mia", "noah"]))
        .with(
            "reporter",
            FieldValue::from(UserRef::new("5b10ac8d82e05b22cc7d4ef5").with_display_name("Mia")),
        )
        .with("story_points", 5)
        .with(
            "estimate_hours",
            FieldValue::float(12.5).unwrap_or(FieldValue::Null),
        )
        .with(
            "due",
            FieldValue::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 18).unwrap_or_default()),
        )
        .with("blocked", false)
        .with("component", FieldValue::enumeration("checkout"))
}

/// `fields` with three of the typical item's fields changed (title, status, points), as
/// one side of a sync typically changes a record between two syncs.
pub fn edit_three_fields(fields: &Fields) -> Fields {
    let mut edited = fields.clone();
    edited.insert("title", "Let shoppers pay with a saved card or wallet");
    edited.insert("status", FieldValue::enumeration("in_review"));
    edited.insert("story_points", 8);
    edited
}

/// A full DevFlow tree as a batch, children before parents (the worst order for a
/// push): one PRD, `width` epics under it, `width` stories under each epic, and so on
/// down to subtasks. Ids are `prd`, `prd.e0`, `prd.e0.s1`, ...
pub fn devflow_tree(width: usize) -> Vec<BatchItem<ItemId>> {
    let mut items = vec![BatchItem::new("prd", ItemKind::Prd)];
    let mut level = vec![ItemId::new("prd")];
    for kind in &ItemKind::ALL[1..] {
        let tag = kind.as_str().chars().next().unwrap_or('x');
        let mut next = Vec::with_capacity(level.len() * width);
        for parent in &level {
            for i in 0..width {
                let id = ItemId::new(format!("{parent}.{tag}{i}"));
                items.push(BatchItem::new(id.clone(), *kind).with_parent(parent.clone()));
                next.push(id);
            }
        }
        level = next;
    }
    items.reverse();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_item_has_the_documented_shape() {
        let fields = typical_fields();
        assert_eq!(fields.len(), 12);
        let description = fields.get("description").as_str().unwrap();
        assert!((2048..2200).contains(&description.len()));
        assert_eq!(fields.get("labels").as_set().unwrap().len(), 5);
        let edited = edit_three_fields(&fields);
        assert_eq!(devflow_sync_core::merge::diff(&fields, &edited).len(), 3);
    }

    #[test]
    fn tree_has_every_level() {
        let tree = devflow_tree(2);
        assert_eq!(tree.len(), 1 + 2 + 4 + 8 + 16);
        assert_eq!(tree.last().unwrap().kind, ItemKind::Prd);
        assert_eq!(tree[0].kind, ItemKind::Subtask);
    }
}
