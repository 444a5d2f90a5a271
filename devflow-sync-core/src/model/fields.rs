//! The fields of a record and the changes between two versions of them.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::FieldValue;

static NULL: FieldValue = FieldValue::Null;
static EMPTY: Fields = Fields(None);

/// An iterator over fields in name order.
pub type Iter<'a> = std::iter::Map<
    std::slice::Iter<'a, (Name, FieldValue)>,
    fn(&'a (Name, FieldValue)) -> (&'a str, &'a FieldValue),
>;

fn pair(entry: &(Name, FieldValue)) -> (&str, &FieldValue) {
    (&entry.0, &entry.1)
}

/// A field name, shared by every record that has the field.
type Name = Arc<str>;

/// The most distinct field names kept shared; names beyond it (a schema with that many
/// fields is unusual) are stored per record, so the table cannot grow without bound.
const SHARED_NAMES: usize = 4096;

/// The one shared copy of `name`. Field names come from a small, fixed schema, so
/// records holding the same names point at one allocation instead of one each.
fn intern(name: &str) -> Name {
    static NAMES: OnceLock<Mutex<HashSet<Name>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    // A poisoned table still holds valid names.
    let mut names = names
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(shared) = names.get(name) {
        return shared.clone();
    }
    let fresh: Name = Arc::from(name);
    if names.len() < SHARED_NAMES {
        names.insert(fresh.clone());
    }
    fresh
}

/// The fields of a record: field name -> value, ordered by name so that diffs, hashes
/// and serialized forms are deterministic.
///
/// A field that is absent reads as [`FieldValue::Null`], and two `Fields` are equal
/// when every name reads the same, so `{"due": null}` equals `{}`.
///
/// ```
/// use devflow_sync_core::model::{FieldValue, Fields};
/// let mut fields = Fields::new();
/// fields.insert("title", "Checkout flow");
/// fields.insert("labels", FieldValue::set(["web"]));
/// assert_eq!(fields.get("title").as_str(), Some("Checkout flow"));
/// assert!(fields.get("due").is_null());
/// let mut same = fields.clone();
/// same.insert("due", FieldValue::Null);
/// assert_eq!(fields, same);
/// ```
///
/// Kept as one shared vector sorted by name: a record's few fields cost little memory,
/// and copies (a stored item, its sync base, the record in flight) share one allocation
/// until one of them changes, which matters to stores holding many records.
#[derive(Clone, Default, Eq)]
pub struct Fields(Option<Arc<Vec<(Name, FieldValue)>>>);

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, FieldValue>::deserialize(deserializer)?;
        Ok(Self::from_sorted(map))
    }
}

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self(None)
    }

    fn from_sorted(entries: BTreeMap<String, FieldValue>) -> Self {
        let entries: Vec<(Name, FieldValue)> =
            entries.into_iter().map(|(k, v)| (intern(&k), v)).collect();
        Self((!entries.is_empty()).then(|| Arc::new(entries)))
    }

    fn entries(&self) -> &[(Name, FieldValue)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The entries to change, copied first when another copy shares them.
    fn entries_mut(&mut self) -> &mut Vec<(Name, FieldValue)> {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries().binary_search_by(|(k, _)| (**k).cmp(name))
    }

    /// Releases spare capacity left by inserts, when no other copy shares the fields.
    /// Stores call it before keeping a record, so that many stored records cost only
    /// what their fields hold.
    ///
    /// ```
    /// use devflow_sync_core::model::Fields;
    /// let mut fields = Fields::new().with("a", 1).with("b", 2).with("c", 3);
    /// fields.shrink_to_fit();
    /// assert_eq!(fields.len(), 3);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        if let Some(entries) = self.0.as_mut().and_then(Arc::get_mut) {
            entries.shrink_to_fit();
        }
    }

    /// A shared empty set of fields.
    pub(crate) fn empty() -> &'static Fields {
        &EMPTY
    }

    /// The value of `name`, [`FieldValue::Null`] when absent.
    pub fn get(&self, name: &str) -> &FieldValue {
        match self.position(name) {
            Ok(i) => &self.entries()[i].1,
            Err(_) => &NULL,
        }
    }

    /// Whether `name` is present (even with a null value).
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name` to `value`, returning the previous value when there was one.
    pub fn insert(
        &mut self,
        name: impl AsRef<str>,
        value: impl Into<FieldValue>,
    ) -> Option<FieldValue> {
        let name = name.as_ref();
        match self.position(name) {
            Ok(i) => Some(std::mem::replace(
                &mut self.entries_mut()[i].1,
                value.into(),
            )),
            Err(i) => {
                self.entries_mut().insert(i, (intern(name), value.into()));
                None
            }
        }
    }

    /// Sets `name` to `value` and returns `self`, for building literals.
    #[must_use]
    pub fn with(mut self, name: impl AsRef<str>, value: impl Into<FieldValue>) -> Self {
        self.insert(name, value);
        self
    }

    /// Removes `name`, returning its value when it was present.
    pub fn remove(&mut self, name: &str) -> Option<FieldValue> {
        let i = self.position(name).ok()?;
        Some(self.entries_mut().remove(i).1)
    }

    /// The number of present fields (nulls included).
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether no field is present.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The fields in name order.
    pub fn iter(&self) -> Iter<'_> {
        self.entries().iter().map(pair)
    }

    /// The field names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries().iter().map(|(k, _)| &**k)
    }

    /// Applies changes: each change sets its field to `new` (a null `new` is kept as an
    /// explicit null, which providers read as "clear this field").
    pub fn apply<'a>(&mut self, changes: impl IntoIterator<Item = &'a FieldChange>) {
        for change in changes {
            match self.position(&change.field) {
                Ok(i) => {
                    if self.entries()[i].1 != change.new {
                        self.entries_mut()[i].1 = change.new.clone();
                    }
                }
                Err(i) => self
                    .entries_mut()
                    .insert(i, (intern(&change.field), change.new.clone())),
            }
        }
    }

    /// Applies changes only if every field still holds the change's `old` value, so a
    /// change computed against a stale copy cannot silently overwrite a newer edit.
    /// Nothing is applied when one does not match.
    ///
    /// ```
    /// use devflow_sync_core::model::{FieldChange, Fields};
    /// let mut fields = Fields::new().with("title", "B");
    /// let stale = FieldChange::new("title", "A", "C");
    /// let err = fields.try_apply([&stale]).unwrap_err();
    /// assert_eq!(err.field, "title");
    /// assert_eq!(fields.get("title").as_str(), Some("B"));
    /// ```
    pub fn try_apply<'a, I>(&mut self, changes: I) -> Result<(), StaleChange>
    where
        I: IntoIterator<Item = &'a FieldChange>,
        I::IntoIter: Clone,
    {
        let changes = changes.into_iter();
        for change in changes.clone() {
            let current = self.get(&change.field);
            if *current != change.old {
                return Err(StaleChange {
                    field: change.field.clone(),
                    expected: change.old.clone(),
                    found: current.clone(),
                });
            }
        }
        self.apply(changes);
        Ok(())
    }
}

/// Walks three `Fields` at once in name order, yielding each name present in any of
/// them with its three values (`Null` where absent). One pass, no lookups.
pub(crate) fn zip3<'a>(
    a: &'a Fields,
    b: &'a Fields,
    c: &'a Fields,
) -> impl Iterator<Item = (&'a str, [&'a FieldValue; 3])> {
    let mut iters = [
        a.entries().iter().peekable(),
        b.entries().iter().peekable(),
        c.entries().iter().peekable(),
    ];
    std::iter::from_fn(move || {
        let name = iters
            .iter_mut()
            .filter_map(|it| it.peek().map(|(k, _)| &**k))
            .min()?;
        let mut values = [&NULL; 3];
        for (slot, it) in values.iter_mut().zip(iters.iter_mut()) {
            if let Some((_, v)) = it.next_if(|(k, _)| &**k == name) {
                *slot = v;
            }
        }
        Some((name, values))
    })
}

impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.iter().all(|(k, v)| other.get(k) == v) && other.iter().all(|(k, v)| self.get(k) == v)
    }
}

impl<K: Into<String>, V: Into<FieldValue>> FromIterator<(K, V)> for Fields {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        // Later duplicates win, as with a map.
        let map: BTreeMap<String, FieldValue> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::from_sorted(map)
    }
}

impl<K: AsRef<str>, V: Into<FieldValue>> Extend<(K, V)> for Fields {
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for Fields {
    type Item = (String, FieldValue);
    type IntoIter = std::iter::Map<
        std::vec::IntoIter<(Name, FieldValue)>,
        fn((Name, FieldValue)) -> (String, FieldValue),
    >;
    fn into_iter(self) -> Self::IntoIter {
        let entries = self.0.map(Arc::unwrap_or_clone).unwrap_or_default();
        entries.into_iter().map(|(k, v)| (k.to_string(), v))
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a str, &'a FieldValue);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One field going from `old` to `new`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field name.
    pub field: String,
    /// The value before ([`FieldValue::Null`] when it was absent).
    pub old: FieldValue,
    /// The value after.
    pub new: FieldValue,
}

impl FieldChange {
    /// A change of `field` from `old` to `new`.
    pub fn new(
        field: impl Into<String>,
        old: impl Into<FieldValue>,
        new: impl Into<FieldValue>,
    ) -> Self {
        Self {
            field: field.into(),
            old: old.into(),
            new: new.into(),
        }
    }
}

/// A change whose `old` value no longer matches the field (see [`Fields::try_apply`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field {field:?} changed underneath: expected {expected:?}, found {found:?}")]
pub struct StaleChange {
    /// The field that moved on.
    pub field: String,
    /// What the change expected to replace.
    pub expected: FieldValue,
    /// What the field holds now.
    pub found: FieldValue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_share_one_copy_of_each_field_name() {
        let a = Fields::new().with("title", "A").with("status", "todo");
        let mut b = Fields::new();
        b.insert(String::from("status"), "done");
        b.apply([&FieldChange::new("title", FieldValue::Null, "B")]);
        let c: Fields = [("title", "C")].into_iter().collect();
        let name = |f: &Fields, i: usize| f.entries()[i].0.clone();
        assert!(Arc::ptr_eq(&name(&a, 0), &name(&b, 0)), "status");
        assert!(Arc::ptr_eq(&name(&a, 1), &name(&b, 1)), "title");
        assert!(Arc::ptr_eq(&name(&a, 1), &name(&c, 0)), "title, collected");
        assert_eq!(b.get("title").as_str(), Some("B"));
    }

    #[test]
    fn shrinking_keeps_the_fields_and_leaves_shared_copies_alone() {
        let mut fields = Fields::new();
        for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
            fields.insert(name, FieldValue::int(i as i64));
        }
        let copy = fields.clone();
        fields.shrink_to_fit();
        assert_eq!(fields, copy);
        drop(copy);
        fields.shrink_to_fit();
        assert_eq!(fields.0.as_ref().map(|e| e.capacity()), Some(5));
        assert_eq!(fields.get("e"), &FieldValue::int(4));
    }
}
