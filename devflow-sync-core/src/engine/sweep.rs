//! Deletions no change feed reports: after a complete listing of a binding, a linked
//! record that was not in it (and that the provider confirms is gone) is handled per
//! the deletion policy. Never after a partial listing: a listing that fails or is cut
//! short deletes nothing.

use std::collections::HashSet;

use super::{Outcome, SyncEngine, SyncReport, sync};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ObjectType};
use crate::provider::ChangeQuery;
use crate::store::Trigger;

/// The most pages a sweep reads before it gives up (and deletes nothing).
const MAX_PAGES: usize = 100_000;

impl SyncEngine {
    /// Lists every record of `connection`'s `object` binding; each linked record the
    /// complete listing did not hold, and that the provider no longer has (a read
    /// answers not found), is a deletion, handled per the engine's deletion policy.
    /// A listing that fails or does not end deletes nothing.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use devflow_sync_core::clock::SystemClock;
    /// use devflow_sync_core::engine::{ImportMode, PullBudget, SyncEngine};
    /// use devflow_sync_core::memory_provider::MemoryProvider;
    /// use devflow_sync_core::model::{ConnectionId, Fields, ObjectType};
    /// let remote = Arc::new(MemoryProvider::new("memory", Arc::new(SystemClock)));
    /// let object = ObjectType::new("project");
    /// remote.remote_create(&object, None, None, Fields::new().with("name", "Kept"));
    /// let engine = SyncEngine::builder().provider(remote.clone()).bind("c", "memory", "project")
    ///     .import_mode(ImportMode::Import).build().unwrap();
    /// let conn = ConnectionId::new("c");
    /// engine.pull(&conn, &object, PullBudget::UNLIMITED).await.unwrap();
    /// // Everything linked is still listed: nothing is taken for deleted.
    /// let report = engine.sweep(&conn, &object).await.unwrap();
    /// assert_eq!((report.deleted, report.outcomes.len()), (0, 0));
    /// # });
    /// ```
    pub async fn sweep(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
    ) -> Result<SyncReport> {
        let e = &*self.inner;
        let t = e.target(connection, object)?;
        let mut seen = HashSet::new();
        let mut token = None;
        let mut complete = false;
        for _ in 0..MAX_PAGES {
            let query = ChangeQuery {
                since: None,
                page_token: token.take(),
                limit: e.config.page_size,
                filter: t.filter.clone(),
            };
            let page = t
                .provider
                .list_changed(&t.connection, &t.object, &query)
                .await?;
            seen.extend(
                page.records
                    .into_iter()
                    .filter(|r| !r.deleted)
                    .map(|r| r.id),
            );
            match page.next_page_token {
                Some(next) => token = Some(next),
                None => {
                    complete = true;
                    break;
                }
            }
        }
        if !complete {
            return Err(Error::precondition(format!(
                "the listing of {connection}/{object} did not end: no deletions taken from it"
            )));
        }
        let links = e.mappings.links(connection, object).await?;
        let missing: Vec<_> = links
            .into_iter()
            .filter(|l| !l.base.remote_deleted && !seen.contains(&l.remote.id))
            .collect();
        self.run(
            "sweep",
            Some(connection),
            Trigger::Poll,
            false,
            |mut ctx| async move {
                for link in missing {
                    let result = async {
                        // Gone for sure only when the provider cannot read it either.
                        if ctx
                            .get_remote_opt(&t, &link.remote.id)
                            .await?
                            .is_some_and(|r| !r.deleted)
                        {
                            return Ok(Outcome::Unchanged);
                        }
                        let local = ctx.item(&link.item).await?;
                        sync::remote_deleted(&mut ctx, &t, &link, local.as_ref()).await
                    }
                    .await;
                    match result {
                        Ok(outcome) => ctx.report.record(
                            Some(&link.item),
                            Some(&link.remote.id),
                            outcome,
                            None,
                        ),
                        Err(err) => {
                            ctx.report.record(
                                Some(&link.item),
                                Some(&link.remote.id),
                                Outcome::Failed,
                                Some(err.to_string()),
                            );
                        }
                    }
                }
                (ctx, Ok(()))
            },
        )
        .await
        .map(|(report, _)| report)
    }
}
