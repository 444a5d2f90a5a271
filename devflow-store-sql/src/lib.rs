//! What the SQL stores of devflow-sync (SQLite, Postgres) share, so each keeps only its
//! SQL: values to and from their columns (times as fixed-width RFC 3339 text, so text
//! order is time order; documents as JSON) and database errors as the core's error
//! kinds. [`store_codec!`] writes a store's `codec` module over these with its name and
//! its database's transient error codes.
//!
//! ```
//! use chrono::DateTime;
//! let a = DateTime::from_timestamp(1_780_000_000, 5).unwrap();
//! let b = DateTime::from_timestamp(1_780_000_001, 0).unwrap();
//! assert!(devflow_store_sql::time(a) < devflow_store_sql::time(b));
//! assert_eq!(devflow_store_sql::parse_time("a store", &devflow_store_sql::time(a), "at").unwrap(), a);
//! assert!(devflow_store_sql::parse_time("a store", "yesterday", "at").is_err());
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use devflow_sync_core::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[doc(hidden)]
pub use sqlx;

/// A time as stored: UTC, nine fractional digits.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// A stored time back; a malformed one is an error naming `store` and the column.
pub fn parse_time(store: &str, text: &str, column: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::invalid_input(column, format!("{store}: stored time {text:?}: {e}")))
}

/// A value as a JSON document.
pub fn json<T: Serialize>(store: &str, value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Other {
        provider: store.into(),
        source: Box::new(e),
    })
}

/// The name a unit enum serializes to (`ConflictStatus::Pending` -> `pending`).
pub fn name<T: Serialize>(store: &str, value: &T) -> Result<String, Error> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(Error::Other {
            provider: store.into(),
            source: Box::new(e),
        }),
    }
}

/// A JSON document back; a malformed one is an error naming the table.
pub fn from_json<T: DeserializeOwned>(store: &str, text: &str, table: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::invalid_input(
            table,
            format!("{store}: stored document does not read: {e}"),
        )
    })
}

/// A count from the database as a `usize` (never negative, never truncated).
pub fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A database error as the core's kinds: a unique violation is
/// [`Error::AlreadyExists`]; a database error whose code `transient` accepts, a lost
/// connection or a pool timeout is [`Error::Transient`] (retried); anything else
/// [`Error::Other`] from `store`.
pub fn db_error(store: &str, e: sqlx::Error, transient: fn(&str) -> bool) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::already_exists(format!("{store}: {}", d.message()))
        }
        sqlx::Error::Database(d) if d.code().is_some_and(|c| transient(c.as_ref())) => {
            Error::transient(format!("{store}: {}", d.message()))
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            Error::transient(format!("{store}: {e}"))
        }
        _ => Error::Other {
            provider: store.into(),
            source: Box::new(e),
        },
    }
}

/// Writes a store's `codec` module: `STORE` (its name in errors), and `time`,
/// `parse_time`, `json`, `name`, `from_json`, `count`, `db_error` and the `Db` trait
/// (`.db()` on a database result) bound to that name and to `transient`, which says
/// which database error codes are retried.
#[macro_export]
macro_rules! store_codec {
    ($store:literal, $transient:expr) => {
        /// The store's name in errors.
        pub(crate) const STORE: &str = $store;

        pub(crate) use $crate::{count, time};

        /// A stored time back; a malformed one is an error naming the column.
        pub(crate) fn parse_time(
            text: &str,
            column: &str,
        ) -> ::std::result::Result<::chrono::DateTime<::chrono::Utc>, ::devflow_sync_core::Error> {
            $crate::parse_time(STORE, text, column)
        }

        /// A value as a JSON document.
        pub(crate) fn json<T: ::serde::Serialize>(
            value: &T,
        ) -> ::std::result::Result<String, ::devflow_sync_core::Error> {
            $crate::json(STORE, value)
        }

        /// The name a unit enum serializes to.
        pub(crate) fn name<T: ::serde::Serialize>(
            value: &T,
        ) -> ::std::result::Result<String, ::devflow_sync_core::Error> {
            $crate::name(STORE, value)
        }

        /// A JSON document back; a malformed one is an error naming the table.
        pub(crate) fn from_json<T: ::serde::de::DeserializeOwned>(
            text: &str,
            table: &str,
        ) -> ::std::result::Result<T, ::devflow_sync_core::Error> {
            $crate::from_json(STORE, text, table)
        }

        /// A database error as the core's kinds.
        pub(crate) fn db_error(e: $crate::sqlx::Error) -> ::devflow_sync_core::Error {
            $crate::db_error(STORE, e, $transient)
        }

        /// `?` on a database result.
        pub(crate) trait Db<T> {
            /// The result with the error as the core's.
            fn db(self) -> ::std::result::Result<T, ::devflow_sync_core::Error>;
        }

        impl<T> Db<T> for ::std::result::Result<T, $crate::sqlx::Error> {
            fn db(self) -> ::std::result::Result<T, ::devflow_sync_core::Error> {
                self.map_err(db_error)
            }
        }
    };
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
        assert_eq!(parse_time("s", &time(b), "t").unwrap(), b);
        let err = parse_time("s", "yesterday", "t").unwrap_err().to_string();
        assert!(err.contains("yesterday"), "{err}");
    }

    #[test]
    fn documents_and_names() {
        assert_eq!(json("s", &vec![1, 2]).unwrap(), "[1,2]");
        assert_eq!(name("s", &"pending").unwrap(), "pending");
        assert_eq!(from_json::<Vec<u8>>("s", "[1]", "t").unwrap(), vec![1]);
        let err = from_json::<Vec<u8>>("s", "{", "links").unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert_eq!(
            count(u64::MAX),
            usize::try_from(u64::MAX).unwrap_or(usize::MAX)
        );
    }

    #[test]
    fn a_pool_timeout_is_transient() {
        let e = db_error("s", sqlx::Error::PoolTimedOut, |_| false);
        assert!(matches!(e, Error::Transient(_)), "{e}");
        let e = db_error("s", sqlx::Error::RowNotFound, |_| true);
        assert!(matches!(e, Error::Other { .. }), "{e}");
    }
}
