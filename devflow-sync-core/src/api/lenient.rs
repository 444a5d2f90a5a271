//! Lenient field readers for wire structs: a value of an unexpected type reads as
//! absent instead of failing the whole response, the way a provider's optional fields
//! are read by hand from a generic value. Used with `#[serde(default, deserialize_with)]`
//! on borrowed fields, so the fast typed parse keeps the tolerance of the old one.
//!
//! ```
//! use std::borrow::Cow;
//! use devflow_sync_core::api::lenient;
//! #[derive(serde::Deserialize)]
//! struct Issue<'a> {
//!     #[serde(default, borrow, deserialize_with = "lenient::text")]
//!     title: Option<Cow<'a, str>>,
//!     #[serde(default, borrow, deserialize_with = "label_names")]
//!     labels: Vec<Cow<'a, str>>,
//!     #[serde(default, deserialize_with = "milestone_number")]
//!     milestone: Option<i64>,
//! }
//! fn label_names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Cow<'de, str>>, D::Error> {
//!     lenient::names(d, "name")
//! }
//! fn milestone_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
//!     lenient::field_signed(d, "number")
//! }
//! let body = r#"{"title": 5, "labels": [{"name": "bug"}, "ui", 3], "milestone": {"number": 2}}"#;
//! let issue: Issue = serde_json::from_str(body).unwrap();
//! assert_eq!(issue.title, None);
//! assert_eq!(issue.labels, ["bug", "ui"]);
//! assert_eq!(issue.milestone, Some(2));
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What a reader keeps of one value.
trait Keep<'de>: Sized {
    type Out: Default;
    fn text(self, _: Cow<'de, str>) -> Self::Out {
        Self::Out::default()
    }
    fn signed(self, _: i64) -> Self::Out {
        Self::Out::default()
    }
    fn unsigned(self, _: u64) -> Self::Out {
        Self::Out::default()
    }
    fn seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Out, A::Error> {
        drain_seq(seq).map(|()| Self::Out::default())
    }
    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Out, A::Error> {
        drain_map(map).map(|()| Self::Out::default())
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A visitor over any value, handing the kinds `K` keeps to it.
struct Any<K>(K);

impl<'de, K: Keep<'de>> Visitor<'de> for Any<K> {
    type Value = K::Out;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<K::Out, E> {
        Ok(K::Out::default())
    }
    fn visit_i64<E>(self, v: i64) -> Result<K::Out, E> {
        Ok(self.0.signed(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<K::Out, E> {
        Ok(self.0.unsigned(v))
    }
    fn visit_f64<E>(self, _: f64) -> Result<K::Out, E> {
        Ok(K::Out::default())
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<K::Out, E> {
        Ok(self.0.text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<K::Out, E> {
        Ok(self.0.text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<K::Out, E> {
        Ok(self.0.text(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<K::Out, E> {
        Ok(K::Out::default())
    }
    fn visit_none<E>(self) -> Result<K::Out, E> {
        Ok(K::Out::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<K::Out, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<K::Out, A::Error> {
        self.0.seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<K::Out, A::Error> {
        self.0.map(map)
    }
}

impl<'de, K: Keep<'de>> DeserializeSeed<'de> for Any<K> {
    type Value = K::Out;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Out, D::Error> {
        d.deserialize_any(self)
    }
}

#[derive(Clone, Copy)]
struct Text;
impl<'de> Keep<'de> for Text {
    type Out = Option<Cow<'de, str>>;
    fn text(self, v: Cow<'de, str>) -> Self::Out {
        Some(v)
    }
}

#[derive(Clone, Copy)]
struct Signed;
impl Keep<'_> for Signed {
    type Out = Option<i64>;
    fn signed(self, v: i64) -> Self::Out {
        Some(v)
    }
    fn unsigned(self, v: u64) -> Self::Out {
        i64::try_from(v).ok()
    }
}

#[derive(Clone, Copy)]
struct Unsigned;
impl Keep<'_> for Unsigned {
    type Out = Option<u64>;
    fn signed(self, v: i64) -> Self::Out {
        u64::try_from(v).ok()
    }
    fn unsigned(self, v: u64) -> Self::Out {
        Some(v)
    }
}

/// The value at `key` of an object, read by `inner`; anything else reads as absent.
#[derive(Clone, Copy)]
struct Field<K> {
    key: &'static str,
    inner: K,
    /// Whether a bare string stands for the value itself (`"bug"` for `{"name": "bug"}`).
    bare: bool,
}

impl<'de, K: Keep<'de, Out = Option<Cow<'de, str>>> + Copy> Keep<'de> for Field<K> {
    type Out = Option<Cow<'de, str>>;
    fn text(self, v: Cow<'de, str>) -> Self::Out {
        self.bare.then_some(v)
    }
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Out, A::Error> {
        let mut out = None;
        while let Some(key) = map.next_key_seed(Any(Text))? {
            if key.as_deref() == Some(self.key) {
                out = map.next_value_seed(Any(self.inner))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Copy)]
struct SignedField(&'static str);
impl<'de> Keep<'de> for SignedField {
    type Out = Option<i64>;
    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Out, A::Error> {
        let mut out = None;
        while let Some(key) = map.next_key_seed(Any(Text))? {
            if key.as_deref() == Some(self.0) {
                out = map.next_value_seed(Any(Signed))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// The names in an array of strings or objects.
#[derive(Clone, Copy)]
struct Names(Field<Text>);
impl<'de> Keep<'de> for Names {
    type Out = Vec<Cow<'de, str>>;
    fn seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Out, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(name) = seq.next_element_seed(Any(self.0))? {
            out.extend(name);
        }
        Ok(out)
    }
}

/// A string; any other value (a number, an object, `null`) reads as `None`.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_any(Any(Text))
}

/// An integer that fits `i64`; any other value reads as `None`.
pub fn signed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(Any(Signed))
}

/// A non-negative integer; any other value reads as `None`.
pub fn unsigned<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(Any(Unsigned))
}

/// The string at `key` of an object (`{"name": "Bug"}` -> `Bug`); anything else reads
/// as `None`.
pub fn field_text<'de, D: Deserializer<'de>>(
    d: D,
    key: &'static str,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_any(Any(Field {
        key,
        inner: Text,
        bare: false,
    }))
}

/// The integer at `key` of an object (`{"number": 3}` -> 3); anything else reads as
/// `None`.
pub fn field_signed<'de, D: Deserializer<'de>>(
    d: D,
    key: &'static str,
) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(Any(SignedField(key)))
}

/// The names in an array whose members are strings or objects with a string at `key`
/// (labels by `name`, people by `login`); other members are left out, and anything
/// but an array reads as empty.
pub fn names<'de, D: Deserializer<'de>>(
    d: D,
    key: &'static str,
) -> Result<Vec<Cow<'de, str>>, D::Error> {
    d.deserialize_any(Any(Names(Field {
        key,
        inner: Text,
        bare: true,
    })))
}
