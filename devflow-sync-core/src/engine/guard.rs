//! A panic below the engine (a provider's bug) turned into an error, so what the engine
//! holds (a lease) is given back on every way out.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;

use crate::error::{Error, Result};

/// Runs `future`; a panic inside it becomes [`Error::Other`] from `provider`, naming
/// `what` and the panic's message.
pub(crate) async fn panics_as_errors<T>(
    future: impl Future<Output = Result<T>>,
    provider: &str,
    what: &str,
) -> Result<T> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            tracing::error!(%what, panic = %message, "panicked; what it held is released");
            Err(Error::Other {
                provider: provider.to_owned(),
                source: format!("{what} panicked: {message}").into(),
            })
        }
    }
}
