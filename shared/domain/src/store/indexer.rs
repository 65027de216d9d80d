//! Emptying SQLite's search queue (`tasks_fts_pending`, filled by
//! triggers) into the full-text index, in batches, and the background task
//! that does it a few milliseconds after writes so that many share one
//! transaction. See [`crate::store::search_index`].

use std::sync::Arc;
use std::time::Duration;

use sqlx::SqliteConnection;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::store::writer::{BeginWrite as _, SqliteWriter};

/// How long the background indexer waits after a write for more to share
/// its transaction.
const GATHER: Duration = Duration::from_millis(20);

/// Most queued rows one transaction indexes, so that the single writer is
/// never held long.
const BATCH: i64 = 2_000;

/// The background indexer of one SQLite store: woken by writes, stopped
/// when the last clone of the store is dropped.
#[derive(Debug)]
pub(crate) struct Indexer {
    pub(crate) wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Indexer {
    pub(crate) fn spawn(writer: Arc<SqliteWriter>) -> Self {
        let wake = Arc::new(Notify::new());
        let woken = wake.clone();
        let task = tokio::spawn(async move {
            loop {
                woken.notified().await;
                tokio::time::sleep(GATHER).await;
                match index_all(&writer).await {
                    Ok(_) => {}
                    Err(sqlx::Error::PoolClosed) => return,
                    // Searches retry before they run; nothing is lost.
                    Err(error) => tracing::warn!(%error, "indexing tasks for search failed"),
                }
            }
        });
        Self { wake, task }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Empty the queue, [`BATCH`] rows per turn on the writer. Returns how many
/// rows it indexed or removed.
pub(crate) async fn index_all(writer: &SqliteWriter) -> Result<u64, sqlx::Error> {
    let mut done = 0;
    loop {
        let n = index_queue(&mut *writer.take_turn().await?).await?;
        done += n;
        if n < BATCH as u64 {
            return Ok(done);
        }
    }
}

/// Index up to [`BATCH`] queued rows, oldest first, in one transaction:
/// take out the text the index holds for each, put in the row's text now
/// (if the row still exists and its text is folded), and dequeue them.
async fn index_queue(writer: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
    let mut tx = writer.begin_write().await?;
    let last: Option<i64> = sqlx::query_scalar(
        "select max(id) from (select id from tasks_fts_pending order by id limit $1)",
    )
    .bind(BATCH)
    .fetch_one(&mut *tx)
    .await?;
    let Some(last) = last else {
        return Ok(0);
    };
    sqlx::query(
        "insert into tasks_fts (tasks_fts, rowid, search_title, search_body) \
         select 'delete', id, indexed_title, indexed_body from tasks_fts_pending \
         where id <= $1 and indexed_title is not null",
    )
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into tasks_fts (rowid, search_title, search_body) \
         select t.id, t.search_title, t.search_body \
         from tasks_fts_pending p join tasks t on t.id = p.id \
         where p.id <= $1 and t.search_title is not null",
    )
    .bind(last)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query("delete from tasks_fts_pending where id <= $1")
        .bind(last)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(done)
}
