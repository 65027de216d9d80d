//! SQLite's full-text index, brought up to date in batches. Writes queue
//! the rows whose text changed (`tasks_fts_pending`, filled by triggers);
//! the queue is emptied into the index a few milliseconds after a write, in
//! the background ([`crate::store::indexer`]), so that many writes share one
//! transaction, and before every search, so that a search sees every
//! committed change. PostgreSQL needs none of it (its GIN index batches by
//! itself).

use crate::store::indexer::index_all;
use crate::store::pool::{Backend, Store};

impl Store {
    /// A write may have queued rows for the index: index them soon.
    pub(crate) fn queue_changed(&self) {
        if let Backend::Sqlite { indexer, .. } = &self.backend {
            indexer.wake.notify_one();
        }
    }

    /// Bring the full-text index up to date with every committed change
    /// (SQLite; nothing to do on PostgreSQL). Returns how many rows it
    /// indexed or removed.
    pub async fn index_for_search(&self) -> Result<u64, sqlx::Error> {
        let Backend::Sqlite { reader, writer, .. } = &self.backend else {
            return Ok(0);
        };
        let queued: bool = sqlx::query_scalar("select exists (select 1 from tasks_fts_pending)")
            .fetch_one(reader)
            .await?;
        if !queued {
            return Ok(0);
        }
        index_all(writer).await
    }
}
