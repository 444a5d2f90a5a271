//! Progress of long operations (backfill pulls, tree pushes), told to an observer the
//! host gives the builder ([`SyncEngineBuilder::progress`](super::SyncEngineBuilder::progress)):
//! a progress bar in a terminal, a percentage in a dashboard.

use std::fmt;

use crate::model::{ConnectionId, ObjectType};

/// What a long operation has done so far.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// `pull` or `push_tree`.
    pub operation: &'static str,
    /// The connection worked on.
    pub connection: ConnectionId,
    /// The provider object.
    pub object: ObjectType,
    /// Pages read so far (a pull).
    pub pages: usize,
    /// Records read so far (a pull) or items pushed (a tree push).
    pub done: usize,
    /// How many there are in all, when known (a tree push knows; a pull does not).
    pub total: Option<usize>,
    /// Whether the operation ended.
    pub finished: bool,
}

/// Told of every step of a long operation. Called on the engine's task: keep it quick.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use devflow_sync_core::engine::{Progress, ProgressObserver, SyncEngine};
/// #[derive(Debug, Default)]
/// struct Last(Mutex<Option<Progress>>);
/// impl ProgressObserver for Last {
///     fn progress(&self, p: &Progress) {
///         *self.0.lock().unwrap() = Some(p.clone());
///     }
/// }
/// let engine = SyncEngine::builder().progress(Arc::new(Last::default())).build().unwrap();
/// # let _ = engine;
/// ```
pub trait ProgressObserver: Send + Sync + fmt::Debug {
    /// Another step was done.
    fn progress(&self, progress: &Progress);
}
