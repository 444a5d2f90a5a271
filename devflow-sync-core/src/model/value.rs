//! The value of one field of a record.

use std::collections::BTreeSet;
use std::fmt;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A person in a provider or in the host, compared by `id` only: a changed display name
/// is not a change of assignee.
///
/// ```
/// use devflow_sync_core::model::UserRef;
/// let a = UserRef::new("5b10ac8d82e05b22cc7d4ef5").with_display_name("Mia Krystof");
/// assert_eq!(a, UserRef::new("5b10ac8d82e05b22cc7d4ef5"));
/// ```
#[derive(Clone, Debug, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The stable id: a Jira `accountId`, a GitHub login, a host team member id.
    pub id: String,
    /// The name a person reads; informative only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl UserRef {
    /// A user with only an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            display_name: None,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
}

impl PartialEq for UserRef {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Hash for UserRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// The type of a [`FieldValue`], as named in provider catalogs and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// No value.
    Null,
    /// One line of plain text.
    Text,
    /// Multi-line markdown; merged line by line.
    LongText,
    /// An integer or a finite float.
    Number,
    /// True or false.
    Bool,
    /// A calendar date.
    Date,
    /// An instant in UTC.
    DateTime,
    /// One option out of a fixed list (a status, a priority).
    Enum,
    /// An unordered set of strings (labels, assignees); merged by adds and removes.
    Set,
    /// A person.
    User,
    /// Any JSON, kept as it came.
    Json,
}

impl FieldType {
    /// The snake_case name used in serde and catalogs.
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldType::Null => "null",
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Number => "number",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::DateTime => "date_time",
            FieldType::Enum => "enum",
            FieldType::Set => "set",
            FieldType::User => "user",
            FieldType::Json => "json",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of one field.
///
/// Serialized with an explicit type tag, so every variant round-trips through JSON
/// unchanged (a date stays a date, a number keeps being an integer or a float):
///
/// ```
/// use devflow_sync_core::model::FieldValue;
/// let labels = FieldValue::set(["backend", "p1"]);
/// let json = serde_json::to_string(&labels).unwrap();
/// assert_eq!(json, r#"{"type":"set","value":["backend","p1"]}"#);
/// assert_eq!(serde_json::from_str::<FieldValue>(&json).unwrap(), labels);
/// assert_eq!(FieldValue::float(f64::NAN), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// No value. A field that is absent from [`Fields`](super::Fields) reads as `Null`.
    #[default]
    Null,
    /// One line of plain text (a title, a key).
    Text(String),
    /// Multi-line markdown (a description, a page body); merged line by line.
    LongText(String),
    /// A number; never NaN or infinite.
    Number(serde_json::Number),
    /// True or false.
    Bool(bool),
    /// A calendar date (a due date).
    Date(NaiveDate),
    /// An instant (a resolution time).
    DateTime(DateTime<Utc>),
    /// One option of a fixed list, by key (a status, a priority).
    Enum(String),
    /// A set of strings (labels, assignees, components); merged by adds and removes.
    Set(BTreeSet<String>),
    /// A person (boxed: people are rarer than text, and every value is as large as the
    /// largest variant).
    User(Box<UserRef>),
    /// Any JSON, kept as it came from the provider.
    Json(serde_json::Value),
}

impl FieldValue {
    /// A [`FieldValue::Text`].
    pub fn text(value: impl Into<String>) -> Self {
        FieldValue::Text(value.into())
    }

    /// A [`FieldValue::LongText`].
    pub fn long_text(value: impl Into<String>) -> Self {
        FieldValue::LongText(value.into())
    }

    /// A [`FieldValue::Enum`].
    pub fn enumeration(key: impl Into<String>) -> Self {
        FieldValue::Enum(key.into())
    }

    /// A [`FieldValue::Set`] of the given members.
    pub fn set<I, S>(members: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FieldValue::Set(members.into_iter().map(Into::into).collect())
    }

    /// An integer [`FieldValue::Number`].
    pub fn int(value: i64) -> Self {
        FieldValue::Number(value.into())
    }

    /// A float [`FieldValue::Number`], or `None` for NaN and infinities.
    pub fn float(value: f64) -> Option<Self> {
        serde_json::Number::from_f64(value).map(FieldValue::Number)
    }

    /// A [`FieldValue::User`] with only an id.
    pub fn user(id: impl Into<String>) -> Self {
        FieldValue::User(Box::new(UserRef::new(id)))
    }

    /// The type of this value.
    pub const fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Null => FieldType::Null,
            FieldValue::Text(_) => FieldType::Text,
            FieldValue::LongText(_) => FieldType::LongText,
            FieldValue::Number(_) => FieldType::Number,
            FieldValue::Bool(_) => FieldType::Bool,
            FieldValue::Date(_) => FieldType::Date,
            FieldValue::DateTime(_) => FieldType::DateTime,
            FieldValue::Enum(_) => FieldType::Enum,
            FieldValue::Set(_) => FieldType::Set,
            FieldValue::User(_) => FieldType::User,
            FieldValue::Json(_) => FieldType::Json,
        }
    }

    /// Whether this is [`FieldValue::Null`].
    pub const fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }

    /// The string of a text, long text or enum value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) | FieldValue::LongText(s) | FieldValue::Enum(s) => Some(s),
            _ => None,
        }
    }

    /// The members of a set value.
    pub fn as_set(&self) -> Option<&BTreeSet<String>> {
        match self {
            FieldValue::Set(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a number as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

impl From<&str> for FieldValue {
    fn from(value: &str) -> Self {
        FieldValue::Text(value.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(value: String) -> Self {
        FieldValue::Text(value)
    }
}

impl From<bool> for FieldValue {
    fn from(value: bool) -> Self {
        FieldValue::Bool(value)
    }
}

impl From<i64> for FieldValue {
    fn from(value: i64) -> Self {
        FieldValue::int(value)
    }
}

impl From<NaiveDate> for FieldValue {
    fn from(value: NaiveDate) -> Self {
        FieldValue::Date(value)
    }
}

impl From<DateTime<Utc>> for FieldValue {
    fn from(value: DateTime<Utc>) -> Self {
        FieldValue::DateTime(value)
    }
}

impl From<UserRef> for FieldValue {
    fn from(value: UserRef) -> Self {
        FieldValue::User(Box::new(value))
    }
}

impl<T: Into<FieldValue>> From<Option<T>> for FieldValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(FieldValue::Null, Into::into)
    }
}
