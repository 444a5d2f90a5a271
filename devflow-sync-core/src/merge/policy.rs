//! What to do with a field both sides changed: the [`ConflictPolicy`] and its built-ins.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::FieldValue;

/// A side of a sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The host application.
    Local,
    /// The provider.
    Remote,
}

/// Why a field reached a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    /// Both sides set the field to different values.
    BothChanged,
    /// Both sides edited the same lines of a long text.
    TextOverlap,
}

/// One field as a policy sees it: its three versions and when each side last changed.
#[derive(Clone, Copy, Debug)]
pub struct FieldContext<'a> {
    /// The field name.
    pub field: &'a str,
    /// The value both sides last agreed on (`Null` before the first sync).
    pub base: &'a FieldValue,
    /// The host's value.
    pub local: &'a FieldValue,
    /// The provider's value.
    pub remote: &'a FieldValue,
    /// When the host's record last changed, if known.
    pub local_updated_at: Option<DateTime<Utc>>,
    /// When the provider's record last changed, if known.
    pub remote_updated_at: Option<DateTime<Utc>>,
    /// Why the policy is asked (for [`ConflictPolicy::resolve`]).
    pub reason: ConflictReason,
}

/// A policy's answer for one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The host's value goes to both sides.
    TakeLocal,
    /// The provider's value goes to both sides.
    TakeRemote,
    /// This value goes to both sides.
    Take(FieldValue),
    /// Each side keeps its own value and the base stays, so the field keeps being seen
    /// as diverged: nothing is written and nothing is recorded as a conflict.
    KeepBoth,
    /// Nothing is written; the field is recorded as a conflict for a person.
    Conflict,
}

/// Decides fields the merge cannot decide alone.
///
/// [`resolve`](ConflictPolicy::resolve) is asked about every field both sides changed
/// differently (and about long texts whose edits overlap). [`one_sided`] is asked about
/// a field only one side changed; taking that side's value is what every built-in but
/// [`WriteOnce`] answers.
///
/// [`one_sided`]: ConflictPolicy::one_sided
///
/// ```
/// use devflow_sync_core::merge::{ConflictPolicy, Decision, FieldContext};
///
/// /// The higher of two numbers wins (a "story points only go up" rule).
/// #[derive(Debug)]
/// struct Highest;
/// impl ConflictPolicy for Highest {
///     fn resolve(&self, f: &FieldContext<'_>) -> Decision {
///         match (f.local.as_f64(), f.remote.as_f64()) {
///             (Some(l), Some(r)) if l >= r => Decision::TakeLocal,
///             (Some(_), Some(_)) => Decision::TakeRemote,
///             _ => Decision::Conflict,
///         }
///     }
/// }
/// ```
pub trait ConflictPolicy: Send + Sync + fmt::Debug {
    /// Decides a field both sides changed to different values.
    fn resolve(&self, field: &FieldContext<'_>) -> Decision;

    /// Decides a field only `changed` changed. The default takes that side's value.
    fn one_sided(&self, field: &FieldContext<'_>, changed: Side) -> Decision {
        let _ = field;
        match changed {
            Side::Local => Decision::TakeLocal,
            Side::Remote => Decision::TakeRemote,
        }
    }
}

impl<P: ConflictPolicy + ?Sized> ConflictPolicy for Arc<P> {
    fn resolve(&self, field: &FieldContext<'_>) -> Decision {
        (**self).resolve(field)
    }
    fn one_sided(&self, field: &FieldContext<'_>, changed: Side) -> Decision {
        (**self).one_sided(field, changed)
    }
}

impl<P: ConflictPolicy + ?Sized> ConflictPolicy for Box<P> {
    fn resolve(&self, field: &FieldContext<'_>) -> Decision {
        (**self).resolve(field)
    }
    fn one_sided(&self, field: &FieldContext<'_>, changed: Side) -> Decision {
        (**self).one_sided(field, changed)
    }
}

/// The host's value wins.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostWins;

impl ConflictPolicy for HostWins {
    fn resolve(&self, _field: &FieldContext<'_>) -> Decision {
        Decision::TakeLocal
    }
}

/// The provider's value wins.
#[derive(Clone, Copy, Debug, Default)]
pub struct RemoteWins;

impl ConflictPolicy for RemoteWins {
    fn resolve(&self, _field: &FieldContext<'_>) -> Decision {
        Decision::TakeRemote
    }
}

/// Every field both sides changed is a recorded conflict for a person to resolve.
#[derive(Clone, Copy, Debug, Default)]
pub struct Manual;

impl ConflictPolicy for Manual {
    fn resolve(&self, _field: &FieldContext<'_>) -> Decision {
        Decision::Conflict
    }
}

/// The side whose record changed last wins; when the two changes are within
/// `clock_skew` of each other, or a time is unknown, the clocks cannot tell which came
/// last, and the field is a conflict rather than a coin toss.
///
/// ```
/// use std::time::Duration;
/// use devflow_sync_core::merge::LastWriterWins;
/// let lww = LastWriterWins::new(Duration::from_secs(2));
/// assert_eq!(lww.clock_skew(), Duration::from_secs(2));
/// assert_eq!(LastWriterWins::default().clock_skew(), LastWriterWins::DEFAULT_CLOCK_SKEW);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LastWriterWins {
    clock_skew: chrono::Duration,
}

impl LastWriterWins {
    /// The default guard: changes less than five seconds apart are a conflict.
    pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);

    /// Last writer wins with the given clock-skew guard.
    pub fn new(clock_skew: Duration) -> Self {
        Self {
            clock_skew: chrono::Duration::from_std(clock_skew).unwrap_or(chrono::Duration::MAX),
        }
    }

    /// The clock-skew guard.
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew.to_std().unwrap_or(Duration::MAX)
    }
}

impl Default for LastWriterWins {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CLOCK_SKEW)
    }
}

impl ConflictPolicy for LastWriterWins {
    fn resolve(&self, field: &FieldContext<'_>) -> Decision {
        let (Some(local), Some(remote)) = (field.local_updated_at, field.remote_updated_at) else {
            return Decision::Conflict;
        };
        let gap = remote.signed_duration_since(local);
        if gap.abs() <= self.clock_skew {
            Decision::Conflict
        } else if gap > chrono::Duration::zero() {
            Decision::TakeRemote
        } else {
            Decision::TakeLocal
        }
    }
}

/// The value is set by the first import; after that the host keeps its own value and
/// the provider's later changes are left where they are (neither written to the host
/// nor overwritten). Host edits still go out.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOnce;

impl ConflictPolicy for WriteOnce {
    fn resolve(&self, field: &FieldContext<'_>) -> Decision {
        if field.base.is_null() {
            Decision::TakeRemote
        } else {
            Decision::KeepBoth
        }
    }

    fn one_sided(&self, field: &FieldContext<'_>, changed: Side) -> Decision {
        match changed {
            Side::Local => Decision::TakeLocal,
            Side::Remote if field.base.is_null() && field.local.is_null() => Decision::TakeRemote,
            Side::Remote => Decision::KeepBoth,
        }
    }
}

/// Provider changes apply until the host's value diverges from the last imported one;
/// from then on the host keeps its value and the provider keeps its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct PreserveLocal;

impl ConflictPolicy for PreserveLocal {
    fn resolve(&self, _field: &FieldContext<'_>) -> Decision {
        Decision::KeepBoth
    }
}

/// A policy per field, with a default for the rest.
///
/// ```
/// use devflow_sync_core::merge::{HostWins, Manual, PerField, RemoteWins};
/// let policy = PerField::new(Manual)
///     .field("status", RemoteWins)
///     .field("title", HostWins);
/// assert_eq!(policy.len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct PerField {
    fields: HashMap<String, Arc<dyn ConflictPolicy>>,
    default: Arc<dyn ConflictPolicy>,
}

impl PerField {
    /// Every field uses `default` until told otherwise.
    pub fn new(default: impl ConflictPolicy + 'static) -> Self {
        Self {
            fields: HashMap::new(),
            default: Arc::new(default),
        }
    }

    /// `field` uses `policy`.
    #[must_use]
    pub fn field(
        mut self,
        field: impl Into<String>,
        policy: impl ConflictPolicy + 'static,
    ) -> Self {
        self.fields.insert(field.into(), Arc::new(policy));
        self
    }

    /// `field` uses a shared `policy`.
    #[must_use]
    pub fn field_shared(
        mut self,
        field: impl Into<String>,
        policy: Arc<dyn ConflictPolicy>,
    ) -> Self {
        self.fields.insert(field.into(), policy);
        self
    }

    /// The number of fields with their own policy.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether every field uses the default.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn policy_for(&self, field: &str) -> &dyn ConflictPolicy {
        self.fields.get(field).unwrap_or(&self.default).as_ref()
    }
}

impl ConflictPolicy for PerField {
    fn resolve(&self, field: &FieldContext<'_>) -> Decision {
        self.policy_for(field.field).resolve(field)
    }
    fn one_sided(&self, field: &FieldContext<'_>, changed: Side) -> Decision {
        self.policy_for(field.field).one_sided(field, changed)
    }
}
