//! The five levels of the DevFlow hierarchy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The level of a work item: PRD -> Epic -> Story -> Task -> Subtask.
///
/// Parsing is case-insensitive and accepts the spellings providers use
/// (`"Sub-task"` in Jira); serde writes the lowercase name.
///
/// ```
/// use devflow_sync_core::model::ItemKind;
/// assert_eq!("STORY".parse::<ItemKind>().unwrap(), ItemKind::Story);
/// assert_eq!("Sub-task".parse::<ItemKind>().unwrap(), ItemKind::Subtask);
/// assert_eq!(serde_json::to_string(&ItemKind::Prd).unwrap(), "\"prd\"");
/// assert!("milestone".parse::<ItemKind>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// A product requirements document: the root of a tree.
    Prd,
    /// A large body of work under a PRD, or on its own.
    Epic,
    /// A user-facing piece of an epic.
    Story,
    /// A unit of work of a story.
    Task,
    /// A step of a task.
    Subtask,
}

impl ItemKind {
    /// Every kind, from the root level down.
    pub const ALL: [ItemKind; 5] = [
        ItemKind::Prd,
        ItemKind::Epic,
        ItemKind::Story,
        ItemKind::Task,
        ItemKind::Subtask,
    ];

    /// The lowercase name used in serde and on the wire: `prd`, `epic`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::Prd => "prd",
            ItemKind::Epic => "epic",
            ItemKind::Story => "story",
            ItemKind::Task => "task",
            ItemKind::Subtask => "subtask",
        }
    }

    /// The name at the start of a sentence: `PRD`, `Epic`, `Story`, ...
    pub const fn label(self) -> &'static str {
        match self {
            ItemKind::Prd => "PRD",
            ItemKind::Epic => "Epic",
            ItemKind::Story => "Story",
            ItemKind::Task => "Task",
            ItemKind::Subtask => "Subtask",
        }
    }

    /// The name inside a sentence: `PRD`, `epic`, `story`, ...
    pub const fn noun(self) -> &'static str {
        match self {
            ItemKind::Prd => "PRD",
            ItemKind::Epic => "epic",
            ItemKind::Story => "story",
            ItemKind::Task => "task",
            ItemKind::Subtask => "subtask",
        }
    }

    /// The noun with its indefinite article: `a PRD`, `an epic`, `a story`, ...
    pub const fn with_article(self) -> &'static str {
        match self {
            ItemKind::Prd => "a PRD",
            ItemKind::Epic => "an epic",
            ItemKind::Story => "a story",
            ItemKind::Task => "a task",
            ItemKind::Subtask => "a subtask",
        }
    }

    /// Depth in the default hierarchy: 0 for a PRD, 4 for a subtask.
    pub const fn level(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`ItemKind`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown item kind {input:?}; expected one of prd, epic, story, task, subtask")]
pub struct ParseItemKindError {
    /// The text that failed to parse.
    pub input: String,
}

impl FromStr for ItemKind {
    type Err = ParseItemKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let kind = if trimmed.eq_ignore_ascii_case("prd") {
            ItemKind::Prd
        } else if trimmed.eq_ignore_ascii_case("epic") {
            ItemKind::Epic
        } else if trimmed.eq_ignore_ascii_case("story") {
            ItemKind::Story
        } else if trimmed.eq_ignore_ascii_case("task") {
            ItemKind::Task
        } else if trimmed.eq_ignore_ascii_case("subtask")
            || trimmed.eq_ignore_ascii_case("sub-task")
            || trimmed.eq_ignore_ascii_case("sub_task")
        {
            ItemKind::Subtask
        } else {
            return Err(ParseItemKindError {
                input: s.to_owned(),
            });
        };
        Ok(kind)
    }
}

impl Serialize for ItemKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ItemKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl serde::de::Visitor<'_> for KindVisitor {
            type Value = ItemKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of prd, epic, story, task, subtask")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ItemKind, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(KindVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_rejects_unknown() {
        for kind in ItemKind::ALL {
            assert_eq!(kind.as_str().parse::<ItemKind>().unwrap(), kind);
            assert_eq!(kind.label().parse::<ItemKind>().unwrap(), kind);
            assert_eq!(
                kind.as_str().to_uppercase().parse::<ItemKind>().unwrap(),
                kind
            );
        }
        assert_eq!(" Epic ".parse::<ItemKind>().unwrap(), ItemKind::Epic);
        let err = "bug".parse::<ItemKind>().unwrap_err();
        assert_eq!(err.input, "bug");
        assert!(err.to_string().contains("\"bug\""));
    }

    #[test]
    fn serde_is_lowercase_and_round_trips() {
        for kind in ItemKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ItemKind>(&json).unwrap(), kind);
        }
        assert_eq!(
            serde_json::from_str::<ItemKind>("\"Story\"").unwrap(),
            ItemKind::Story
        );
        let err = serde_json::from_str::<ItemKind>("\"bug\"").unwrap_err();
        assert!(err.to_string().contains("unknown item kind"));
    }

    #[test]
    fn levels_follow_the_hierarchy() {
        let levels: Vec<usize> = ItemKind::ALL.iter().map(|k| k.level()).collect();
        assert_eq!(levels, vec![0, 1, 2, 3, 4]);
    }
}
