//! What is wrong with an item's place in the hierarchy, said for a person.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::KindSet;
use crate::model::ItemKind;

/// The kind of a [`Violation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// The item has no parent but its kind needs one.
    MissingParent,
    /// The parent's kind is not one this kind may sit under.
    WrongParentType,
    /// The parent id points at nothing known.
    ParentNotFound,
    /// The item was created in a provider, not in the host, and the rules want the host
    /// to create items.
    CreatedOutsideHost,
    /// The item's kind changed after it was created.
    TypeChanged,
    /// Following parents from the item comes back to it.
    Cycle,
}

impl ViolationKind {
    /// The snake_case name, as stored in journals.
    pub const fn as_str(self) -> &'static str {
        match self {
            ViolationKind::MissingParent => "missing_parent",
            ViolationKind::WrongParentType => "wrong_parent_type",
            ViolationKind::ParentNotFound => "parent_not_found",
            ViolationKind::CreatedOutsideHost => "created_outside_host",
            ViolationKind::TypeChanged => "type_changed",
            ViolationKind::Cycle => "cycle",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A broken hierarchy rule: what is wrong (`message`) and what a person can do about it
/// (`suggested_action`), plus the facts behind both for programs.
///
/// ```
/// use devflow_sync_core::hierarchy::{Candidate, HierarchyRules, NoLookup, ViolationKind};
/// use devflow_sync_core::model::{ItemId, ItemKind};
/// let rules = HierarchyRules::devflow();
/// let v = rules
///     .validate(&Candidate::<ItemId>::new(ItemKind::Story), &NoLookup)
///     .unwrap_err();
/// assert_eq!(v.kind, ViolationKind::MissingParent);
/// assert_eq!(v.message, "Story requires a parent");
/// assert_eq!(v.suggested_action, "Link to an epic");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct Violation {
    /// What kind of rule was broken.
    pub kind: ViolationKind,
    /// The item's id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The item's kind.
    pub item_kind: ItemKind,
    /// The parent's id, when the item names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The parent's kind, when it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_kind: Option<ItemKind>,
    /// The kinds the item may sit under.
    pub valid_parents: KindSet,
    /// What is wrong, e.g. "Story cannot have task as parent. Valid parents: epic".
    pub message: String,
    /// What a person can do, e.g. "Move it under an epic".
    pub suggested_action: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(item) = &self.item {
            write!(f, "{item}: ")?;
        }
        write!(
            f,
            "{} (suggested action: {})",
            self.message, self.suggested_action
        )
    }
}

/// "an epic or a story".
fn with_articles(kinds: KindSet) -> String {
    join(kinds.iter().map(ItemKind::with_article), " or ")
}

fn join<'a>(parts: impl Iterator<Item = &'a str>, sep: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part);
    }
    out
}

/// The facts of one violation, from which its texts are written.
pub(crate) struct Facts {
    pub(crate) item: Option<String>,
    pub(crate) item_kind: ItemKind,
    pub(crate) parent: Option<String>,
    pub(crate) parent_kind: Option<ItemKind>,
    pub(crate) valid_parents: KindSet,
    pub(crate) root_allowed: bool,
}

impl Facts {
    fn into_violation(self, kind: ViolationKind, message: String, action: String) -> Violation {
        Violation {
            kind,
            item: self.item,
            item_kind: self.item_kind,
            parent: self.parent,
            parent_kind: self.parent_kind,
            valid_parents: self.valid_parents,
            message,
            suggested_action: action,
        }
    }

    pub(crate) fn missing_parent(self) -> Violation {
        let label = self.item_kind.label();
        let (message, action) = if self.valid_parents.is_empty() {
            (
                format!("{label} items are not allowed by these hierarchy rules"),
                "Change the item's type".to_owned(),
            )
        } else {
            (
                format!("{label} requires a parent"),
                format!("Link to {}", with_articles(self.valid_parents)),
            )
        };
        self.into_violation(ViolationKind::MissingParent, message, action)
    }

    pub(crate) fn wrong_parent_type(self, parent_kind: ItemKind) -> Violation {
        let mut valid: Vec<&str> = self.valid_parents.iter().map(ItemKind::noun).collect();
        if self.root_allowed || valid.is_empty() {
            valid.push("none");
        }
        let message = format!(
            "{} cannot have {} as parent. Valid parents: {}",
            self.item_kind.label(),
            parent_kind.noun(),
            join(valid.into_iter(), ", ")
        );
        let action = match (self.valid_parents.is_empty(), self.root_allowed) {
            (true, true) => "Remove the parent link".to_owned(),
            (true, false) => "Change the item's type".to_owned(),
            (false, true) => format!(
                "Move it under {} or make it a root item",
                with_articles(self.valid_parents)
            ),
            (false, false) => format!("Move it under {}", with_articles(self.valid_parents)),
        };
        self.into_violation(ViolationKind::WrongParentType, message, action)
    }

    pub(crate) fn parent_not_found(self) -> Violation {
        let parent = self.parent.as_deref().unwrap_or("?");
        let message = format!(
            "{} has parent {parent}, which was not found",
            self.item_kind.label()
        );
        let action = if self.valid_parents.is_empty() {
            "Remove the parent link".to_owned()
        } else {
            format!(
                "Link to an existing {}, or sync the parent first",
                join(self.valid_parents.iter().map(ItemKind::noun), " or ")
            )
        };
        self.into_violation(ViolationKind::ParentNotFound, message, action)
    }

    pub(crate) fn created_outside_host(self) -> Violation {
        let message = format!("{} was created outside the host", self.item_kind.label());
        let action = format!(
            "Import it into the host, or link it to an existing {}",
            self.item_kind.noun()
        );
        self.into_violation(ViolationKind::CreatedOutsideHost, message, action)
    }

    pub(crate) fn type_changed(self, previous: ItemKind) -> Violation {
        let message = format!(
            "Type changed from {} to {}, which these rules do not allow",
            previous.noun(),
            self.item_kind.noun()
        );
        let action = format!(
            "Change the type back to {}, or create a new {} instead",
            previous.noun(),
            self.item_kind.noun()
        );
        self.into_violation(ViolationKind::TypeChanged, message, action)
    }

    pub(crate) fn cycle(self, own_parent: bool) -> Violation {
        let label = self.item_kind.label();
        let (message, action) = if own_parent {
            (
                format!("{label} cannot be its own parent"),
                "Choose another parent".to_owned(),
            )
        } else {
            (
                format!("{label} would be its own ancestor: its parent links form a loop"),
                "Remove the parent link that closes the loop".to_owned(),
            )
        };
        self.into_violation(ViolationKind::Cycle, message, action)
    }

    pub(crate) fn below_cycle(self) -> Violation {
        let message = format!(
            "{} sits below a loop of parent links",
            self.item_kind.label()
        );
        let action = "Remove the parent link that closes the loop above it".to_owned();
        self.into_violation(ViolationKind::Cycle, message, action)
    }
}
