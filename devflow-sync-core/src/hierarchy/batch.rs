//! Validation and ordering of a batch of items at once.

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;

use super::HierarchyRules;
use super::validate::{Candidate, ParentLookup};
use super::violation::{Facts, Violation, ViolationKind};
use crate::model::ItemKind;

/// One item of a batch: like a [`Candidate`], with owned ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchItem<I> {
    /// The item's id; unique within the batch.
    pub id: I,
    /// The item's kind.
    pub kind: ItemKind,
    /// The item's parent: another item of the batch or one the lookup knows.
    pub parent: Option<I>,
    /// The kind the item had before this change, for an update.
    pub previous_kind: Option<ItemKind>,
    /// Whether the item was created in a provider rather than in the host.
    pub created_outside_host: bool,
}

impl<I> BatchItem<I> {
    /// An item of `kind` at the root.
    pub fn new(id: impl Into<I>, kind: ItemKind) -> Self {
        Self {
            id: id.into(),
            kind,
            parent: None,
            previous_kind: None,
            created_outside_host: false,
        }
    }

    /// Sets the parent.
    #[must_use]
    pub fn with_parent(mut self, parent: impl Into<I>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Sets the kind the item had before.
    #[must_use]
    pub fn with_previous_kind(mut self, kind: ItemKind) -> Self {
        self.previous_kind = Some(kind);
        self
    }

    /// Marks the item as created in a provider.
    #[must_use]
    pub fn created_outside_host(mut self) -> Self {
        self.created_outside_host = true;
        self
    }
}

/// The outcome of [`HierarchyRules::plan_batch`]: which items can go, in which order,
/// and why the others cannot. Indices point into the batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchPlan {
    /// The valid items, parents before children, siblings in batch order.
    pub order: Vec<usize>,
    /// The items that broke a rule, with the rule, in batch order.
    pub violations: Vec<(usize, Violation)>,
    /// Valid items that cannot go because an ancestor in the batch broke a rule.
    pub blocked: Vec<usize>,
}

impl BatchPlan {
    /// Whether every item can go.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty() && self.blocked.is_empty()
    }

    /// The items on a loop of parent links.
    pub fn cycles(&self) -> impl Iterator<Item = usize> + '_ {
        self.of_kind(ViolationKind::Cycle)
    }

    /// The items with no parent where one is needed, or a parent that was not found.
    pub fn orphans(&self) -> impl Iterator<Item = usize> + '_ {
        self.violations
            .iter()
            .filter(|(_, v)| {
                matches!(
                    v.kind,
                    ViolationKind::MissingParent | ViolationKind::ParentNotFound
                )
            })
            .map(|(i, _)| *i)
    }

    fn of_kind(&self, kind: ViolationKind) -> impl Iterator<Item = usize> + '_ {
        self.violations
            .iter()
            .filter(move |(_, v)| v.kind == kind)
            .map(|(i, _)| *i)
    }
}

/// The items of a batch that sit on a loop of parent links within it, as indices.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} item(s) of the batch form a loop of parent links", .items.len())]
pub struct CycleError {
    /// The items on a loop, in batch order.
    pub items: Vec<usize>,
}

/// Looks parents up in the batch first, then outside it.
struct BatchLookup<'a, I, L: ?Sized> {
    items: &'a [BatchItem<I>],
    index: &'a HashMap<&'a I, usize>,
    outside: &'a L,
}

impl<I, L> ParentLookup<I> for BatchLookup<'_, I, L>
where
    I: Hash + Eq + Clone,
    L: ParentLookup<I> + ?Sized,
{
    fn kind_of(&self, id: &I) -> Option<ItemKind> {
        match self.index.get(id) {
            Some(&i) => Some(self.items[i].kind),
            None => self.outside.kind_of(id),
        }
    }
    fn parent_of(&self, id: &I) -> Option<I> {
        match self.index.get(id) {
            Some(&i) => self.items[i].parent.clone(),
            None => self.outside.parent_of(id),
        }
    }
}

fn index_of<I: Hash + Eq>(items: &[BatchItem<I>]) -> HashMap<&I, usize> {
    let mut index = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        index.entry(&item.id).or_insert(i);
    }
    index
}

/// Marks the items that sit on a loop of parent links inside the batch.
fn on_cycle<I: Hash + Eq>(items: &[BatchItem<I>], index: &HashMap<&I, usize>) -> Vec<bool> {
    const NEW: u8 = 0;
    const ACTIVE: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; items.len()];
    let mut cyclic = vec![false; items.len()];
    let mut path = Vec::new();
    for start in 0..items.len() {
        let mut current = start;
        path.clear();
        // Walk up until leaving the batch, reaching a finished item, or closing a loop.
        loop {
            match state[current] {
                DONE => break,
                ACTIVE => {
                    // The loop is the part of the path from `current` on.
                    let from = path.iter().position(|&i| i == current).unwrap_or(0);
                    for &i in &path[from..] {
                        cyclic[i] = true;
                    }
                    break;
                }
                _ => {}
            }
            state[current] = ACTIVE;
            path.push(current);
            match items[current]
                .parent
                .as_ref()
                .and_then(|p| index.get(p).copied())
            {
                Some(parent) => current = parent,
                None => break,
            }
        }
        for &i in &path {
            state[i] = DONE;
        }
    }
    cyclic
}

/// Children of each item within the batch, and the items whose parent is outside it.
fn forest<I: Hash + Eq>(
    items: &[BatchItem<I>],
    index: &HashMap<&I, usize>,
) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut tops = Vec::new();
    let mut children = vec![Vec::new(); items.len()];
    for (i, item) in items.iter().enumerate() {
        match item.parent.as_ref().and_then(|p| index.get(p).copied()) {
            Some(parent) if parent != i => children[parent].push(i),
            Some(_) => {}
            None => tops.push(i),
        }
    }
    (tops, children)
}

/// Orders a batch parents first (depth first, siblings in batch order), or says which
/// items sit on a loop. Parents outside the batch count as already there.
///
/// ```
/// use devflow_sync_core::hierarchy::{order_parents_first, BatchItem};
/// use devflow_sync_core::model::ItemKind;
/// let batch: Vec<BatchItem<String>> = vec![
///     BatchItem::new("task", ItemKind::Task).with_parent("story"),
///     BatchItem::new("story", ItemKind::Story).with_parent("epic"),
///     BatchItem::new("epic", ItemKind::Epic),
/// ];
/// assert_eq!(order_parents_first(&batch).unwrap(), vec![2, 1, 0]);
/// ```
pub fn order_parents_first<I: Hash + Eq>(items: &[BatchItem<I>]) -> Result<Vec<usize>, CycleError> {
    let index = index_of(items);
    let cyclic = on_cycle(items, &index);
    if cyclic.iter().any(|c| *c) {
        return Err(CycleError {
            items: (0..items.len()).filter(|&i| cyclic[i]).collect(),
        });
    }
    let (tops, children) = forest(items, &index);
    let mut order = Vec::with_capacity(items.len());
    let mut stack: Vec<usize> = tops.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        order.push(i);
        stack.extend(children[i].iter().rev());
    }
    Ok(order)
}

impl HierarchyRules {
    /// Validates a whole batch (a tree to push, a page of imports): finds loops of parent
    /// links, orphans and every other broken rule, and orders the items that can go
    /// parents first. Parents are looked up in the batch, then in `outside`. An item
    /// below one that broke a rule is blocked, not pushed.
    ///
    /// ```
    /// use devflow_sync_core::hierarchy::{BatchItem, HierarchyRules, NoLookup};
    /// use devflow_sync_core::model::ItemKind;
    /// let batch: Vec<BatchItem<String>> = vec![
    ///     BatchItem::new("story", ItemKind::Story).with_parent("epic"),
    ///     BatchItem::new("epic", ItemKind::Epic).with_parent("prd"),
    ///     BatchItem::new("prd", ItemKind::Prd),
    ///     BatchItem::new("orphan", ItemKind::Task),
    /// ];
    /// let plan = HierarchyRules::devflow().plan_batch(&batch, &NoLookup);
    /// assert_eq!(plan.order, vec![2, 1, 0]);
    /// assert_eq!(plan.orphans().collect::<Vec<_>>(), vec![3]);
    /// ```
    pub fn plan_batch<I, L>(&self, items: &[BatchItem<I>], outside: &L) -> BatchPlan
    where
        I: Hash + Eq + Clone + Display,
        L: ParentLookup<I> + ?Sized,
    {
        let index = index_of(items);
        let cyclic = on_cycle(items, &index);
        let lookup = BatchLookup {
            items,
            index: &index,
            outside,
        };

        let mut violations = Vec::new();
        let mut valid = vec![true; items.len()];
        for (i, item) in items.iter().enumerate() {
            let result = if cyclic[i] {
                Err(Facts {
                    item: Some(item.id.to_string()),
                    item_kind: item.kind,
                    parent: item.parent.as_ref().map(ToString::to_string),
                    parent_kind: item.parent.as_ref().and_then(|p| lookup.kind_of(p)),
                    valid_parents: self.parent_set(item.kind),
                    root_allowed: self.may_be_root(item.kind),
                }
                .cycle(item.parent.as_ref() == Some(&item.id)))
            } else {
                let candidate = Candidate::new(item.kind)
                    .id(&item.id)
                    .parent(item.parent.as_ref())
                    .previous_kind(item.previous_kind)
                    .created_outside_host(item.created_outside_host);
                self.validate(&candidate, &lookup)
            };
            if let Err(violation) = result {
                valid[i] = false;
                violations.push((i, violation));
            }
        }

        let (tops, children) = forest(items, &index);
        let mut order = Vec::with_capacity(items.len());
        let mut ordered = vec![false; items.len()];
        let mut stack: Vec<usize> = tops.into_iter().rev().collect();
        while let Some(i) = stack.pop() {
            if valid[i] {
                ordered[i] = true;
                order.push(i);
                stack.extend(children[i].iter().rev());
            }
        }
        // Everything valid that was not ordered hangs below a broken item or a loop.
        let blocked = (0..items.len())
            .filter(|&i| valid[i] && !ordered[i])
            .collect();
        BatchPlan {
            order,
            violations,
            blocked,
        }
    }
}
