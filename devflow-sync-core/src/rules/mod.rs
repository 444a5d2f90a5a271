//! Integration rules: which records of which object sync, which way, how often, and
//! what happens on conflict and deletion — validated on save and on load, with schedule
//! maths for the host's scheduler.

mod cron;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
pub use cron::Cron;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::JitterSource;
use crate::merge::{
    ConflictPolicy, HostWins, LastWriterWins, Manual, PerField, PreserveLocal, RemoteWins,
    WriteOnce,
};
use crate::registry::{CatalogError, SchemaViolation, check, typed};
use crate::store::SyncCursor;

/// The JSON Schema every rule is checked against.
pub const RULE_SCHEMA: &str = include_str!("rule.schema.json");

/// Which way a rule syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleDirection {
    /// Provider to host.
    Pull,
    /// Host to provider.
    Push,
    /// Both.
    Bidirectional,
}

/// How often a rule runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Interval {
    /// Every so many minutes.
    Minutes {
        /// The minutes.
        minutes: u32,
    },
    /// On a five-field cron schedule (UTC).
    Cron {
        /// The expression.
        cron: String,
    },
}

/// Whether a run lists everything or only changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Every record, every run.
    Full,
    /// Changes since the cursor.
    #[default]
    Delta,
}

/// A conflict policy by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// [`HostWins`].
    HostWins,
    /// [`RemoteWins`].
    RemoteWins,
    /// [`LastWriterWins`].
    LastWriterWins,
    /// [`Manual`].
    Manual,
    /// [`WriteOnce`].
    WriteOnce,
    /// [`PreserveLocal`].
    PreserveLocal,
}

/// The conflict policy of a rule: a default and per-field choices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictPolicySpec {
    /// The policy of fields not listed (default: manual).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<PolicyName>,
    /// Policies by field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, PolicyName>,
    /// The clock-skew guard of last-writer-wins, in seconds (default: 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_seconds: Option<u64>,
}

/// What to do with the host item when its provider record is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleDeletionPolicy {
    /// Mark it inactive, keep the link.
    #[default]
    MarkInactiveKeepLink,
    /// Mark it deleted (inactive) in the host, keep the link.
    SoftDelete,
    /// Leave it.
    Ignore,
    /// Delete it.
    Propagate,
}

/// Where the first run of a rule starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialSyncMode {
    /// Everything, once; changes after that.
    #[default]
    FullOnce,
    /// Only changes after `initialSyncSince`.
    DeltaOnlyAfterDate,
    /// Only changes from the moment the rule is saved.
    DeltaOnlyFromNow,
}

/// How BQE client names follow (BQE rules).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSyncPolicy {
    /// Keep the host's value once it diverged.
    #[default]
    PreserveLocal,
    /// Always take the provider's value.
    FollowRemote,
    /// Set at the first import only.
    WriteOnce,
}

/// Record filters; pushed into the provider's query where it can take them.
pub type RuleFilters = crate::provider::RecordFilter;

/// One integration rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationRule {
    /// The provider.
    pub provider: String,
    /// The provider object.
    pub object: String,
    /// The host fields synced (empty: every mapped field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Which records.
    #[serde(default)]
    pub filters: RuleFilters,
    /// Which way.
    pub direction: RuleDirection,
    /// How often.
    pub interval: Interval,
    /// Full or delta.
    #[serde(default)]
    pub behaviour: Behaviour,
    /// Conflict handling.
    #[serde(default)]
    pub conflict_policy: ConflictPolicySpec,
    /// Deletion handling.
    #[serde(default)]
    pub deletion_policy: RuleDeletionPolicy,
    /// Whether child records (sub-projects) are included; a provider's catalog may
    /// forbid it (BQE imports parent projects only).
    #[serde(default)]
    pub include_children: bool,
    /// Where the first run starts.
    #[serde(default)]
    pub initial_sync_mode: InitialSyncMode,
    /// The start for `delta_only_after_date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_sync_since: Option<DateTime<Utc>>,
    /// Names of related records the provider keeps (BQE client names): whose wins.
    #[serde(default)]
    pub client_sync_policy: ClientSyncPolicy,
    /// Run a stale mapping with its valid entries instead of refusing.
    #[serde(default)]
    pub allow_partial_mapping: bool,
    /// Plan only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Bumped by every save.
    #[serde(default)]
    pub revision: u64,
}

static RULE_VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();

impl IntegrationRule {
    /// Loads and checks a rule document. `file` names it in errors, which give the JSON
    /// pointer and the broken rule, one per line.
    ///
    /// ```
    /// use devflow_sync_core::rules::IntegrationRule;
    /// let rule = IntegrationRule::load("rule.json", r#"{"provider":"github","object":"issue",
    ///   "direction":"bidirectional","interval":{"minutes":15},
    ///   "conflictPolicy":{"default":"manual","fields":{"status":"remote_wins"}}}"#).unwrap();
    /// assert_eq!(rule.provider, "github");
    /// let err = IntegrationRule::load("rule.json", r#"{"provider":"github","object":"issue",
    ///   "direction":"sideways","interval":{"minutes":60}}"#).unwrap_err();
    /// assert!(err.to_string().starts_with("rule.json: /direction: "), "{err}");
    /// ```
    pub fn load(file: &str, text: &str) -> std::result::Result<Self, CatalogError> {
        let value = check(file, text, RULE_SCHEMA, &RULE_VALIDATOR)?;
        let rule: IntegrationRule = typed(file, &value)?;
        rule.check_semantics(file)?;
        Ok(rule)
    }

    /// Checks a rule built in code, as [`IntegrationRule::load`] does.
    pub fn validate(&self) -> std::result::Result<(), CatalogError> {
        let text = serde_json::to_string(self).map_err(|e| CatalogError {
            file: "rule".into(),
            violations: vec![SchemaViolation {
                pointer: String::new(),
                message: e.to_string(),
                rule: "serialize".into(),
            }],
        })?;
        Self::load("rule", &text).map(|_| ())
    }

    /// Checks the rule against its provider's catalog: the provider and object exist
    /// and every [`RuleConstraint`](crate::registry::RuleConstraint) holds. Errors name
    /// the file, the pointer and the catalog's reason.
    pub fn check_for(
        &self,
        file: &str,
        catalog: &crate::registry::ProviderCatalog,
    ) -> std::result::Result<(), CatalogError> {
        let mut violations = Vec::new();
        if catalog.key.as_str() != self.provider {
            violations.push(SchemaViolation {
                pointer: "/provider".into(),
                message: format!("the catalog is {}'s, not {}'s", catalog.key, self.provider),
                rule: "catalog-provider".into(),
            });
        } else if catalog.object(&self.object).is_none() {
            violations.push(SchemaViolation {
                pointer: "/object".into(),
                message: format!("{} offers no object {:?}", catalog.key, self.object),
                rule: "catalog-object".into(),
            });
        }
        let document = serde_json::to_value(self).unwrap_or_default();
        for constraint in &catalog.rule_constraints {
            let value = document
                .pointer(&constraint.pointer)
                .unwrap_or(&serde_json::Value::Null);
            if value != &constraint.equals {
                violations.push(SchemaViolation {
                    pointer: constraint.pointer.clone(),
                    message: format!(
                        "must be {} for {}: {}",
                        constraint.equals, catalog.display_name, constraint.message
                    ),
                    rule: format!("{}-rule-constraint", catalog.key),
                });
            }
        }
        CatalogError::check(file, violations)
    }

    fn check_semantics(&self, file: &str) -> std::result::Result<(), CatalogError> {
        let mut violations = Vec::new();
        if let Interval::Cron { cron } = &self.interval {
            if let Err(e) = Cron::parse(cron) {
                violations.push(SchemaViolation {
                    pointer: "/interval/cron".into(),
                    message: e.to_string(),
                    rule: "cron".into(),
                });
            }
        }
        CatalogError::check(file, violations)
    }

    /// The rule's conflict policy.
    pub fn conflict_policy(&self) -> Arc<dyn ConflictPolicy> {
        let skew = Duration::from_secs(self.conflict_policy.clock_skew_seconds.unwrap_or(5));
        let make = |name: PolicyName| -> Arc<dyn ConflictPolicy> {
            match name {
                PolicyName::HostWins => Arc::new(HostWins),
                PolicyName::RemoteWins => Arc::new(RemoteWins),
                PolicyName::LastWriterWins => Arc::new(LastWriterWins::new(skew)),
                PolicyName::Manual => Arc::new(Manual),
                PolicyName::WriteOnce => Arc::new(WriteOnce),
                PolicyName::PreserveLocal => Arc::new(PreserveLocal),
            }
        };
        let default = self.conflict_policy.default.unwrap_or(PolicyName::Manual);
        if self.conflict_policy.fields.is_empty() {
            return make(default);
        }
        let mut per_field = PerField::new(make(default));
        for (field, name) in &self.conflict_policy.fields {
            per_field = per_field.field_shared(field.clone(), make(*name));
        }
        Arc::new(per_field)
    }

    /// The cursor a rule's first run starts from: everything (`full_once`), changes
    /// after the given date, or changes from `now`.
    pub fn initial_cursor(&self, now: DateTime<Utc>) -> Result<SyncCursor> {
        let high_water = match self.initial_sync_mode {
            InitialSyncMode::FullOnce => None,
            InitialSyncMode::DeltaOnlyAfterDate => Some(self.initial_sync_since.ok_or_else(
                || Error::InvalidConfig {
                    pointer: "/initialSyncSince".into(),
                    message: "is required by delta_only_after_date".into(),
                },
            )?),
            InitialSyncMode::DeltaOnlyFromNow => Some(now),
        };
        Ok(SyncCursor {
            high_water,
            ..SyncCursor::default()
        })
    }

    /// When the rule runs next after `last_run` (or `now` for a rule that never ran),
    /// moved by up to ±10% of the interval with `jitter`, so rules saved together do not
    /// all fire together. The same seed gives the same times.
    pub fn next_run(
        &self,
        last_run: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        jitter: &mut dyn JitterSource,
    ) -> Result<DateTime<Utc>> {
        let from = last_run.unwrap_or(now);
        let beyond = || Error::InvalidInput {
            pointer: Some("/interval".into()),
            message: format!("the next run after {from} is beyond representable time"),
        };
        let (base, period) = match &self.interval {
            Interval::Minutes { minutes } => {
                let period = chrono::Duration::minutes(i64::from(*minutes));
                (from.checked_add_signed(period).ok_or_else(beyond)?, period)
            }
            Interval::Cron { cron } => {
                let cron = Cron::parse(cron)?;
                let next = cron.next_after(from).ok_or_else(|| Error::InvalidConfig {
                    pointer: "/interval/cron".into(),
                    message: "never fires".into(),
                })?;
                let after = cron.next_after(next).unwrap_or(crate::clock::after(
                    next,
                    std::time::Duration::from_secs(86_400),
                ));
                (next, after - next)
            }
        };
        let spread = period.num_milliseconds() as f64 * 0.1;
        let offset = (jitter.next_unit().clamp(0.0, 1.0) * 2.0 - 1.0) * spread;
        base.checked_add_signed(chrono::Duration::milliseconds(offset as i64))
            .ok_or_else(beyond)
    }
}

/// The rules due at `now`: those whose stored next run has come, and those that never
/// ran (`None`). Returns their indices.
pub fn due(next_runs: &[Option<DateTime<Utc>>], now: DateTime<Utc>) -> Vec<usize> {
    next_runs
        .iter()
        .enumerate()
        .filter(|(_, next)| next.is_none_or(|t| t <= now))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests;
