//! Validation of one item against the rules and a parent lookup.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Display;
use std::hash::{BuildHasher, Hash};

use super::HierarchyRules;
use super::violation::{Facts, Violation};
use crate::model::ItemKind;

/// Where an item sits: its kind and its parent. The value type of the maps that serve
/// as a [`ParentLookup`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement<I> {
    /// The item's kind.
    pub kind: ItemKind,
    /// The item's parent, if any.
    pub parent: Option<I>,
}

impl<I> Placement<I> {
    /// A placement of `kind` with an optional parent.
    pub fn new(kind: ItemKind, parent: Option<I>) -> Self {
        Self { kind, parent }
    }
}

/// Finds the kind (and, for cycle checks, the parent) of items referred to as parents.
///
/// Maps from id to [`Placement`] implement it; so does [`FnLookup`] around a closure,
/// and [`NoLookup`], which knows no item.
pub trait ParentLookup<I> {
    /// The kind of the item `id`, or `None` when it is unknown.
    fn kind_of(&self, id: &I) -> Option<ItemKind>;
    /// The parent of the item `id`, when known.
    fn parent_of(&self, id: &I) -> Option<I>;
}

impl<I, S> ParentLookup<I> for HashMap<I, Placement<I>, S>
where
    I: Hash + Eq + Clone,
    S: BuildHasher,
{
    fn kind_of(&self, id: &I) -> Option<ItemKind> {
        self.get(id).map(|p| p.kind)
    }
    fn parent_of(&self, id: &I) -> Option<I> {
        self.get(id).and_then(|p| p.parent.clone())
    }
}

impl<I: Ord + Clone> ParentLookup<I> for BTreeMap<I, Placement<I>> {
    fn kind_of(&self, id: &I) -> Option<ItemKind> {
        self.get(id).map(|p| p.kind)
    }
    fn parent_of(&self, id: &I) -> Option<I> {
        self.get(id).and_then(|p| p.parent.clone())
    }
}

/// A [`ParentLookup`] that knows each item's kind through a closure, and no parents.
#[derive(Clone, Copy, Debug)]
pub struct FnLookup<F>(pub F);

impl<I, F: Fn(&I) -> Option<ItemKind>> ParentLookup<I> for FnLookup<F> {
    fn kind_of(&self, id: &I) -> Option<ItemKind> {
        (self.0)(id)
    }
    fn parent_of(&self, _id: &I) -> Option<I> {
        None
    }
}

/// A [`ParentLookup`] that knows no item.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLookup;

impl<I> ParentLookup<I> for NoLookup {
    fn kind_of(&self, _id: &I) -> Option<ItemKind> {
        None
    }
    fn parent_of(&self, _id: &I) -> Option<I> {
        None
    }
}

/// An item to validate: its kind and parent, and what else the rules look at.
///
/// ```
/// use devflow_sync_core::hierarchy::Candidate;
/// use devflow_sync_core::model::{ItemId, ItemKind};
/// let (id, epic) = (ItemId::new("s-1"), ItemId::new("e-1"));
/// let c = Candidate::new(ItemKind::Story).id(&id).parent(Some(&epic));
/// assert_eq!(c.parent, Some(&epic));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate<'a, I> {
    /// The item's id, when it has one yet (a new item may not).
    pub id: Option<&'a I>,
    /// The item's kind.
    pub kind: ItemKind,
    /// The item's parent, if any.
    pub parent: Option<&'a I>,
    /// The kind the item had before this change, for an update.
    pub previous_kind: Option<ItemKind>,
    /// Whether the item was created in a provider rather than in the host.
    pub created_outside_host: bool,
}

impl<'a, I> Candidate<'a, I> {
    /// A new item of `kind`, at the root, created in the host.
    pub fn new(kind: ItemKind) -> Self {
        Self {
            id: None,
            kind,
            parent: None,
            previous_kind: None,
            created_outside_host: false,
        }
    }

    /// Sets the item's id.
    #[must_use]
    pub fn id(mut self, id: &'a I) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the parent.
    #[must_use]
    pub fn parent(mut self, parent: Option<&'a I>) -> Self {
        self.parent = parent;
        self
    }

    /// Sets the kind the item had before.
    #[must_use]
    pub fn previous_kind(mut self, kind: Option<ItemKind>) -> Self {
        self.previous_kind = kind;
        self
    }

    /// Marks the item as created in a provider.
    #[must_use]
    pub fn created_outside_host(mut self, outside: bool) -> Self {
        self.created_outside_host = outside;
        self
    }
}

/// The most ancestors followed when looking for a loop; deeper chains are reported as a
/// loop too, since no sane tree is that deep.
const MAX_DEPTH: usize = 4096;

impl HierarchyRules {
    /// Checks one item: its kind did not change (unless allowed), its parent exists and
    /// has a kind it may sit under (or it may be a root), it is not its own ancestor,
    /// and it was created in the host (unless external creation is allowed). Returns the
    /// first broken rule.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use devflow_sync_core::hierarchy::{Candidate, HierarchyRules, Placement, ViolationKind};
    /// use devflow_sync_core::model::{ItemId, ItemKind};
    /// let rules = HierarchyRules::devflow();
    /// let task = ItemId::new("t-1");
    /// let known = HashMap::from([(task.clone(), Placement::new(ItemKind::Task, None))]);
    /// let story = ItemId::new("s-1");
    /// let v = rules
    ///     .validate(&Candidate::new(ItemKind::Story).id(&story).parent(Some(&task)), &known)
    ///     .unwrap_err();
    /// assert_eq!(v.kind, ViolationKind::WrongParentType);
    /// assert_eq!(v.message, "Story cannot have task as parent. Valid parents: epic");
    /// assert_eq!(v.suggested_action, "Move it under an epic");
    /// ```
    pub fn validate<I, L>(&self, item: &Candidate<'_, I>, lookup: &L) -> Result<(), Violation>
    where
        I: PartialEq + Eq + Hash + Clone + Display,
        L: ParentLookup<I> + ?Sized,
    {
        let facts = || Facts {
            item: item.id.map(ToString::to_string),
            item_kind: item.kind,
            parent: item.parent.map(ToString::to_string),
            parent_kind: None,
            valid_parents: self.parent_set(item.kind),
            root_allowed: self.may_be_root(item.kind),
        };

        if let Some(previous) = item.previous_kind {
            if previous != item.kind && !self.allow_kind_change {
                return Err(facts().type_changed(previous));
            }
        }

        match item.parent {
            None => {
                if !self.may_be_root(item.kind) {
                    return Err(facts().missing_parent());
                }
            }
            Some(parent) => {
                if item.id == Some(parent) {
                    return Err(facts().cycle(true));
                }
                let Some(parent_kind) = lookup.kind_of(parent) else {
                    return Err(facts().parent_not_found());
                };
                if !self.parent_set(item.kind).contains(parent_kind) {
                    let mut f = facts();
                    f.parent_kind = Some(parent_kind);
                    return Err(f.wrong_parent_type(parent_kind));
                }
                if self.kinds_cyclic {
                    if let Some(id) = item.id {
                        if let Some(through_item) = ancestors_loop(id, parent, lookup) {
                            let mut f = facts();
                            f.parent_kind = Some(parent_kind);
                            return Err(if through_item {
                                f.cycle(false)
                            } else {
                                f.below_cycle()
                            });
                        }
                    }
                }
            }
        }

        if item.created_outside_host && !self.allow_external_creation {
            return Err(facts().created_outside_host());
        }
        Ok(())
    }
}

/// Whether walking up from `parent` comes back to `id` (`Some(true)`), or loops among
/// the ancestors or never ends (`Some(false)`).
fn ancestors_loop<I, L>(id: &I, parent: &I, lookup: &L) -> Option<bool>
where
    I: Eq + Hash + Clone,
    L: ParentLookup<I> + ?Sized,
{
    let mut seen: HashSet<I> = HashSet::new();
    let mut current = parent.clone();
    for _ in 0..MAX_DEPTH {
        if current == *id {
            return Some(true);
        }
        if !seen.insert(current.clone()) {
            return Some(false);
        }
        match lookup.parent_of(&current) {
            Some(next) => current = next,
            None => return None,
        }
    }
    Some(false)
}
