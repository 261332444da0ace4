//! A database phase of the worker (a claim, a read, a commit): one pooled connection, or one
//! transaction, bounded by [`DB_DEADLINE`]. No phase holds its connection across a creator-API
//! call, so a batch's records share the container's small pool.

use std::{future::Future, time::Duration};

use db::{PoolClient, Transaction};

use super::Worker;

/// The longest one database phase of the worker (a claim, a read, a commit) may take: a server
/// that stops answering (frozen, or a network path lost without a reset) fails the phase
/// client-side instead of holding the record until the invocation ends. Above the 5 s
/// `statement_timeout`, which a live server enforces first.
pub const DB_DEADLINE: Duration = Duration::from_secs(6);

/// `work` within `limit`; running out of it is an error like the database's own. The same
/// bound as [`db::within`], written out here: one more `async fn` layer in the worker's future
/// puts the process-scraping binary's future type past the compiler's query-depth limit.
pub(super) async fn within<T>(
    limit: Duration,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!(
            "the database did not answer within {limit:?}"
        )),
    }
}

impl<Q> Worker<Q> {
    /// `work` on a pooled connection, the wait for the connection included, within
    /// [`DB_DEADLINE`].
    pub(super) async fn phase<T>(
        &self,
        work: impl AsyncFnOnce(&PoolClient) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        within(DB_DEADLINE, async {
            let client = self.pool.get().await?;
            work(&client).await
        })
        .await
    }

    /// `work` in one transaction, committed when it succeeds and rolled back when it fails, within
    /// [`DB_DEADLINE`]. A `work` that finds its lease lost returns early having only read.
    pub(super) async fn transaction<T>(
        &self,
        work: impl AsyncFnOnce(&Transaction<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        within(DB_DEADLINE, async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let value = work(&tx).await?;
            tx.commit().await?;
            Ok(value)
        })
        .await
    }

    /// A pooled connection, waited for at most [`DB_DEADLINE`], for work whose own bound is not
    /// one phase's.
    pub(super) async fn connection(&self) -> anyhow::Result<PoolClient> {
        within(DB_DEADLINE, async { Ok(self.pool.get().await?) }).await
    }
}
