//! Values to and from their columns: times as fixed-width RFC 3339 text (so text order
//! is time order), documents as JSON, and database errors as the core's error kinds.

use chrono::{DateTime, SecondsFormat, Utc};
use devflow_sync_core::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The store's name in errors.
pub(crate) const STORE: &str = "postgres store";

/// A time as stored: UTC, nine fractional digits.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// A stored time back; a malformed one is an error naming the column.
pub(crate) fn parse_time(text: &str, column: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::invalid_input(column, format!("{STORE}: stored time {text:?}: {e}")))
}

/// A value as a JSON document.
pub(crate) fn json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Other {
        provider: STORE.into(),
        source: Box::new(e),
    })
}

/// The name a unit enum serializes to (`ConflictStatus::Pending` -> `pending`).
pub(crate) fn name<T: Serialize>(value: &T) -> Result<String, Error> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(Error::Other {
            provider: STORE.into(),
            source: Box::new(e),
        }),
    }
}

/// A JSON document back; a malformed one is an error naming the table.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, table: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::invalid_input(
            table,
            format!("{STORE}: stored document does not read: {e}"),
        )
    })
}

/// A count from the database as a `usize` (never negative, never truncated).
pub(crate) fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A database error as the core's kinds: a unique violation is
/// [`Error::AlreadyExists`], a serialization failure, a deadlock, a statement timeout, a lost connection or a pool
/// timeout is [`Error::Transient`] (retried), anything else [`Error::Other`].
pub(crate) fn db_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::already_exists(format!("{STORE}: {}", d.message()))
        }
        // Serialization failure, deadlock, lock not available, statement timeout, and
        // the connection exceptions (class 08): retried.
        sqlx::Error::Database(d)
            if d.code().is_some_and(|c| {
                matches!(c.as_ref(), "40001" | "40P01" | "55P03" | "57014") || c.starts_with("08")
            }) =>
        {
            Error::transient(format!("{STORE}: {}", d.message()))
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            Error::transient(format!("{STORE}: {e}"))
        }
        _ => Error::Other {
            provider: STORE.into(),
            source: Box::new(e),
        },
    }
}

/// `?` on a database result.
pub(crate) trait Db<T> {
    /// The result with the error as the core's.
    fn db(self) -> Result<T, Error>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, Error> {
        self.map_err(db_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_sort_as_text_and_round_trip() {
        let a = DateTime::from_timestamp(1_780_000_000, 5).unwrap();
        let b = DateTime::from_timestamp(1_780_000_000, 40).unwrap();
        let c = DateTime::from_timestamp(1_780_000_001, 0).unwrap();
        assert!(time(a) < time(b) && time(b) < time(c));
        assert_eq!(parse_time(&time(b), "t").unwrap(), b);
        assert!(
            parse_time("yesterday", "t")
                .unwrap_err()
                .to_string()
                .contains("yesterday")
        );
    }
}
