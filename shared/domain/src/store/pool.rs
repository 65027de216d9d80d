//! The connection pools behind [`Store`], and the macro that runs one
//! statement on whichever backend they are.

use std::sync::Arc;

use sqlx::{PgPool, SqlitePool};

use crate::store::search_index::Indexer;

/// One connection pool's use at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub name: &'static str,
    /// Connections open (idle or in use).
    pub open: u32,
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// The task store: connection pools to SQLite or PostgreSQL. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) backend: Backend,
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// SQLite admits one writer at a time, and a writer that finds the lock
    /// taken polls it with sleeps of 1 ms and more, which wrecks tail
    /// latency. So writes go through a pool of exactly one connection, where
    /// they queue fairly without touching SQLite's lock, and reads through
    /// their own pool, which WAL mode lets run alongside the writer. The busy
    /// timeout still covers other processes on the same file. The indexer
    /// keeps the full-text index up to date in batches.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
        indexer: Arc<Indexer>,
    },
    Postgres(PgPool),
}

/// One pool of the store, chosen for a read or a write.
pub(crate) enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// Run the same code on whichever pool this is. The body is compiled once
/// per backend, so it stays fully typed.
macro_rules! on_pool {
    ($pool_ref:expr, |$pool:ident| $body:expr) => {
        match $pool_ref {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

impl Store {
    /// `sqlite` or `postgres`, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    pub(crate) fn reader(&self) -> Pool<'_> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => Pool::Sqlite(reader),
            Backend::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    pub(crate) fn writer(&self) -> Pool<'_> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => Pool::Sqlite(writer),
            Backend::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// Is the database answering?
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self.reader(), |pool| sqlx::query("select 1")
            .execute(pool)
            .await
            .map(drop))
    }

    /// Connections of each pool, for metrics: (pool name, open, idle, most).
    /// SQLite has a `writer` (one connection) and a `reader` pool.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        fn stats<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolStats {
            PoolStats {
                name,
                open: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }
        match &self.backend {
            Backend::Sqlite { reader, writer, .. } => {
                vec![stats("reader", reader), stats("writer", writer)]
            }
            Backend::Postgres(pool) => vec![stats("main", pool)],
        }
    }

    /// Close every connection, waiting for queries in flight.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
