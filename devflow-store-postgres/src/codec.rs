//! Values to and from their columns and database errors as the core's kinds (see
//! [`devflow_store_sql`]); retried: serialization failures, deadlocks, a lock not
//! available, a statement timeout and the connection exceptions (class 08).

devflow_store_sql::store_codec!("postgres store", |code: &str| {
    matches!(code, "40001" | "40P01" | "55P03" | "57014") || code.starts_with("08")
});
