//! Which parent kinds each kind may have.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::ItemKind;

/// A set of [`ItemKind`]s, as small as a byte; serialized as a list in hierarchy order.
///
/// ```
/// use devflow_sync_core::hierarchy::KindSet;
/// use devflow_sync_core::model::ItemKind;
/// let set: KindSet = [ItemKind::Story, ItemKind::Prd].into_iter().collect();
/// assert_eq!(set.to_vec(), vec![ItemKind::Prd, ItemKind::Story]);
/// assert_eq!(serde_json::to_string(&set).unwrap(), r#"["prd","story"]"#);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u8);

impl KindSet {
    const fn bit(kind: ItemKind) -> u8 {
        1 << kind.level()
    }

    /// No kinds.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Whether `kind` is in the set.
    pub const fn contains(self, kind: ItemKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    /// Adds `kind`.
    pub fn insert(&mut self, kind: ItemKind) {
        self.0 |= Self::bit(kind);
    }

    /// Removes `kind`.
    pub fn remove(&mut self, kind: ItemKind) {
        self.0 &= !Self::bit(kind);
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of kinds in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The kinds, from the root level down.
    pub fn iter(self) -> impl Iterator<Item = ItemKind> {
        ItemKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }

    /// The kinds as a vector, from the root level down.
    pub fn to_vec(self) -> Vec<ItemKind> {
        self.iter().collect()
    }
}

impl FromIterator<ItemKind> for KindSet {
    fn from_iter<T: IntoIterator<Item = ItemKind>>(iter: T) -> Self {
        let mut set = KindSet::empty();
        for kind in iter {
            set.insert(kind);
        }
        set
    }
}

impl fmt::Debug for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for KindSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for KindSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<ItemKind>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The legal parent-child links between kinds.
///
/// [`HierarchyRules::devflow`] (also the [`Default`]) is the DevFlow hierarchy: a PRD is a
/// root only; an epic sits under a PRD or at the root; a story needs an epic, a task a
/// story, a subtask a task; no level is skipped. Other rule sets are built with
/// [`HierarchyRules::builder`].
///
/// ```
/// use devflow_sync_core::hierarchy::HierarchyRules;
/// use devflow_sync_core::model::ItemKind;
/// let rules = HierarchyRules::devflow();
/// assert!(rules.may_be_root(ItemKind::Epic));
/// assert!(!rules.may_be_root(ItemKind::Story));
/// assert_eq!(rules.allowed_parents(ItemKind::Task), vec![ItemKind::Story]);
///
/// // A tracker without PRDs, where stories may also stand alone:
/// let custom = HierarchyRules::builder()
///     .root(ItemKind::Epic)
///     .root(ItemKind::Story)
///     .parent(ItemKind::Story, ItemKind::Epic)
///     .parent(ItemKind::Task, ItemKind::Story)
///     .build();
/// assert!(custom.may_be_root(ItemKind::Story));
/// assert!(!custom.is_allowed(ItemKind::Prd, None));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HierarchyRules {
    pub(crate) parents: [KindSet; 5],
    pub(crate) roots: KindSet,
    pub(crate) allow_kind_change: bool,
    pub(crate) allow_external_creation: bool,
    /// Whether the kind graph has a cycle (a kind may sit below itself, directly or not);
    /// only then can valid-looking links form a cycle of items, so only then does
    /// validation walk the ancestors.
    pub(crate) kinds_cyclic: bool,
}

impl HierarchyRules {
    /// The DevFlow hierarchy: PRD -> Epic -> Story -> Task -> Subtask, with epics also
    /// allowed at the root.
    pub fn devflow() -> Self {
        Self::builder()
            .root(ItemKind::Prd)
            .root(ItemKind::Epic)
            .parent(ItemKind::Epic, ItemKind::Prd)
            .parent(ItemKind::Story, ItemKind::Epic)
            .parent(ItemKind::Task, ItemKind::Story)
            .parent(ItemKind::Subtask, ItemKind::Task)
            .build()
    }

    /// Rules that allow every kind at the root and under every other kind, for hosts
    /// that keep no hierarchy. Cycles are still rejected.
    pub fn permissive() -> Self {
        let mut builder = Self::builder();
        for child in ItemKind::ALL {
            builder = builder.root(child);
            for parent in ItemKind::ALL {
                builder = builder.parent(child, parent);
            }
        }
        builder.allow_kind_change(true).build()
    }

    /// An empty rule set to build on: no kind allowed anywhere yet.
    pub fn builder() -> HierarchyRulesBuilder {
        HierarchyRulesBuilder {
            rules: HierarchyRules {
                parents: [KindSet::default(); 5],
                roots: KindSet::default(),
                allow_kind_change: false,
                allow_external_creation: false,
                kinds_cyclic: false,
            },
        }
    }

    /// A builder starting from these rules.
    pub fn to_builder(&self) -> HierarchyRulesBuilder {
        HierarchyRulesBuilder {
            rules: self.clone(),
        }
    }

    /// Whether `kind` may have no parent.
    pub fn may_be_root(&self, kind: ItemKind) -> bool {
        self.roots.contains(kind)
    }

    /// The kinds `kind` may sit under, from the root level down.
    pub fn allowed_parents(&self, kind: ItemKind) -> Vec<ItemKind> {
        self.parents[kind.level()].iter().collect()
    }

    /// Whether `child` may sit under a parent of kind `parent` (`None`: at the root).
    pub fn is_allowed(&self, child: ItemKind, parent: Option<ItemKind>) -> bool {
        match parent {
            None => self.roots.contains(child),
            Some(parent) => self.parents[child.level()].contains(parent),
        }
    }

    /// Whether an item may change its kind after it was created.
    pub fn allows_kind_change(&self) -> bool {
        self.allow_kind_change
    }

    /// Whether items created in a provider (not in the host) are accepted as they are.
    pub fn allows_external_creation(&self) -> bool {
        self.allow_external_creation
    }

    /// Whether some kind may sit below itself (directly or through others), so that
    /// links each legal on their own can still form a loop.
    pub fn may_nest(&self) -> bool {
        self.kinds_cyclic
    }

    /// The kinds `kind` may sit under, as a set.
    pub fn parent_set(&self, kind: ItemKind) -> KindSet {
        self.parents[kind.level()]
    }
}

impl Default for HierarchyRules {
    fn default() -> Self {
        Self::devflow()
    }
}

impl fmt::Debug for HierarchyRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for kind in ItemKind::ALL {
            let mut parents: Vec<&str> =
                self.parent_set(kind).iter().map(ItemKind::as_str).collect();
            if self.roots.contains(kind) {
                parents.insert(0, "(root)");
            }
            map.entry(&kind.as_str(), &parents);
        }
        map.finish()
    }
}

/// Builds a [`HierarchyRules`]; start from [`HierarchyRules::builder`] (nothing allowed)
/// or [`HierarchyRules::to_builder`].
#[derive(Clone, Debug)]
pub struct HierarchyRulesBuilder {
    rules: HierarchyRules,
}

impl HierarchyRulesBuilder {
    /// Allows `kind` at the root (without a parent).
    #[must_use]
    pub fn root(mut self, kind: ItemKind) -> Self {
        self.rules.roots.insert(kind);
        self
    }

    /// Forbids `kind` at the root: it must have a parent.
    #[must_use]
    pub fn not_root(mut self, kind: ItemKind) -> Self {
        self.rules.roots.remove(kind);
        self
    }

    /// Allows `child` under a parent of kind `parent`.
    #[must_use]
    pub fn parent(mut self, child: ItemKind, parent: ItemKind) -> Self {
        self.rules.parents[child.level()].insert(parent);
        self
    }

    /// Forbids `child` under a parent of kind `parent`.
    #[must_use]
    pub fn forbid_parent(mut self, child: ItemKind, parent: ItemKind) -> Self {
        self.rules.parents[child.level()].remove(parent);
        self
    }

    /// Whether an item may change kind after creation (default: no).
    #[must_use]
    pub fn allow_kind_change(mut self, allow: bool) -> Self {
        self.rules.allow_kind_change = allow;
        self
    }

    /// Whether items created in a provider are accepted as they are (default: no, they
    /// are reported as created outside the host).
    #[must_use]
    pub fn allow_external_creation(mut self, allow: bool) -> Self {
        self.rules.allow_external_creation = allow;
        self
    }

    /// The finished rules.
    pub fn build(mut self) -> HierarchyRules {
        self.rules.kinds_cyclic = kind_graph_has_cycle(&self.rules.parents);
        self.rules
    }
}

/// Whether following "may sit under" from some kind can come back to it.
fn kind_graph_has_cycle(parents: &[KindSet; 5]) -> bool {
    // Depth-first search with three colours over five nodes.
    fn visit(kind: ItemKind, parents: &[KindSet; 5], state: &mut [u8; 5]) -> bool {
        match state[kind.level()] {
            1 => return true,
            2 => return false,
            _ => {}
        }
        state[kind.level()] = 1;
        for parent in parents[kind.level()].iter() {
            if visit(parent, parents, state) {
                return true;
            }
        }
        state[kind.level()] = 2;
        false
    }
    let mut state = [0u8; 5];
    ItemKind::ALL
        .into_iter()
        .any(|kind| visit(kind, parents, &mut state))
}
