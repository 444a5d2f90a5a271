//! ADF nodes read leniently from a body: only what Markdown can hold is kept, strings
//! borrow from the body, and a value of an unexpected type reads as absent (an object
//! where a list belongs, a number for a type), so a description never fails an issue.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One ADF node (a block, an inline, or a mark).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node<'a> {
    /// `doc`, `paragraph`, `text`, `link`...
    pub kind: Cow<'a, str>,
    /// A text node's text.
    pub text: Option<Cow<'a, str>>,
    /// The attributes Markdown can hold.
    pub attrs: Attrs<'a>,
    /// A text node's marks.
    pub marks: Vec<Node<'a>>,
    /// The children.
    pub content: Vec<Node<'a>>,
}

/// The attributes kept: a heading's level, a list's start, a code block's language, a
/// link's `href`, a mention's `id` and `text`, an emoji's `text`/`shortName`, a card's `url`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs<'a> {
    /// `level`, `order`.
    pub number: Option<u64>,
    /// `language`, `href`, `id`, `url`.
    pub target: Option<Cow<'a, str>>,
    /// `text`, `shortName`.
    pub label: Option<Cow<'a, str>>,
}

struct Text;
impl<'de> Visitor<'de> for Text {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

struct LenientText<'a>(Option<Cow<'a, str>>);
impl<'de> Deserialize<'de> for LenientText<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Text).map(LenientText)
    }
}

struct LenientNumber(Option<u64>);
impl<'de> Deserialize<'de> for LenientNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(u64::try_from(v).ok())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Text.visit_seq(seq).map(|_| None)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Text.visit_map(map).map(|_| None)
            }
        }
        d.deserialize_any(V).map(LenientNumber)
    }
}

impl<'de> Deserialize<'de> for Attrs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attrs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("ADF attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut attrs = Attrs::default();
                while let Some(LenientText(key)) = map.next_key::<LenientText<'de>>()? {
                    match key.as_deref() {
                        Some("level" | "order") => {
                            attrs.number = map.next_value::<LenientNumber>()?.0;
                        }
                        Some("language" | "href" | "id" | "url") => {
                            attrs.target = map.next_value::<LenientText<'de>>()?.0;
                        }
                        Some("text" | "shortName") => {
                            let v = map.next_value::<LenientText<'de>>()?.0;
                            if attrs.label.is_none() || key.as_deref() == Some("text") {
                                attrs.label = v;
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(attrs)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Text.visit_seq(seq).map(|_| Attrs::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Attrs::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Attrs::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Attrs::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Attrs::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Attrs::default())
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Attrs::default())
            }
        }
        d.deserialize_any(V)
    }
}

struct Nodes<'a>(Vec<Node<'a>>);
impl<'de> Deserialize<'de> for Nodes<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<Node<'de>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("ADF nodes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(node) = seq.next_element::<Node<'de>>()? {
                    if !node.kind.is_empty() {
                        out.push(node);
                    }
                }
                Ok(out)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Text.visit_map(map).map(|_| Vec::new())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
        }
        d.deserialize_any(V).map(Nodes)
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ADF node")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut node = Node::default();
                while let Some(LenientText(key)) = map.next_key::<LenientText<'de>>()? {
                    match key.as_deref() {
                        Some("type") => {
                            node.kind = map.next_value::<LenientText<'de>>()?.0.unwrap_or_default();
                        }
                        Some("text") => node.text = map.next_value::<LenientText<'de>>()?.0,
                        Some("attrs") => node.attrs = map.next_value()?,
                        Some("marks") => node.marks = map.next_value::<Nodes<'de>>()?.0,
                        Some("content") => node.content = map.next_value::<Nodes<'de>>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(node)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Text.visit_seq(seq).map(|_| Node::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Node::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Node::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Node::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Node::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Node::default())
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Node::default())
            }
        }
        d.deserialize_any(V)
    }
}
