//! Values to and from their columns and database errors as the core's kinds (see
//! [`devflow_store_sql`]); retried: a busy or locked database (`SQLITE_BUSY`,
//! `SQLITE_LOCKED` and their extended codes).

devflow_store_sql::store_codec!("sqlite store", |code: &str| matches!(
    code,
    "5" | "6" | "261" | "262" | "517"
));
