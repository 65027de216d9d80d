//! The connection pools behind [`Store`], and the macro that runs one
//! statement on whichever backend they are.

use std::sync::Arc;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::MappedMutexGuard;

use crate::store::indexer::Indexer;
use crate::store::pg_connections::{PgConnections, PgLease};
use crate::store::writer::SqliteWriter;

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
    /// What one user may keep.
    pub(crate) quotas: Quotas,
}

/// How much one user may keep (None: no limit).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quotas {
    pub tasks: Option<i64>,
    pub conversations: Option<i64>,
    pub messages_per_conversation: Option<i64>,
}

impl Quotas {
    /// From limits where 0 means none.
    pub fn new(tasks: u32, conversations: u32, messages_per_conversation: u32) -> Self {
        let limit = |n: u32| (n > 0).then_some(i64::from(n));
        Self {
            tasks: limit(tasks),
            conversations: limit(conversations),
            messages_per_conversation: limit(messages_per_conversation),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// SQLite admits one writer at a time, and a writer that finds the lock
    /// taken polls it with sleeps of 1 ms and more, which wrecks tail
    /// latency. So writes go through exactly one connection, taken in turn
    /// (see [`SqliteWriter`]), where they queue fairly without touching
    /// SQLite's lock, and reads through their own pool, which WAL mode lets
    /// run alongside the writer. The busy timeout still covers other
    /// processes on the same file. The indexer keeps the full-text index up
    /// to date in batches.
    Sqlite {
        reader: SqlitePool,
        writer: Arc<SqliteWriter>,
        indexer: Arc<Indexer>,
    },
    /// Connections kept between statements, in front of sqlx's pool.
    Postgres(Arc<PgConnections>),
}

/// One pool of the store, chosen for a read.
pub(crate) enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgConnections),
}

/// Where a write runs: SQLite's one writing connection, held until the
/// write is done, or a PostgreSQL connection (call [`PgLease::keep`] after
/// a success).
pub(crate) enum Writer<'a> {
    Sqlite(MappedMutexGuard<'a, SqliteConnection>),
    Postgres(PgLease<'a>),
}

/// Run the same code on whichever pool this is: the body gets a
/// `&SqlitePool` or a `&mut PgConnection` (a lease, kept when the body's
/// result is `Ok`). It is compiled once per backend, so it stays fully
/// typed. Waiting for a connection can fail (`?`, into the function's
/// error type).
macro_rules! on_pool {
    ($pool_ref:expr, |$pool:ident| $body:expr) => {
        match $pool_ref {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres(connections) => on_lease!(connections.acquire().await?, |$pool| $body),
        }
    };
}

/// Run `body` on a PostgreSQL lease's connection and keep the lease when
/// the body's result is `Ok` (else, or when the body returns early, the
/// lease goes back to sqlx's pool: see [`PgLease`]).
macro_rules! on_lease {
    ($lease:expr, |$pool:ident| $body:expr) => {{
        let mut lease = $lease;
        let $pool: &mut sqlx::PgConnection = &mut lease;
        let result = $body;
        if result.is_ok() {
            lease.keep();
        }
        result
    }};
}

/// Run a write on the store's writer: the body gets `&mut SqliteConnection`
/// (SQLite: its turn on the one writing connection) or `&mut PgConnection`
/// (a lease, kept when the body's result is `Ok`), and
/// starts a transaction with `Acquire::begin`. Waiting for the turn can
/// fail (`?`, into the function's error type).
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store.writer().await? {
            $crate::store::pool::Writer::Sqlite(mut connection) => {
                let $pool: &mut sqlx::SqliteConnection = &mut connection;
                $body
            }
            $crate::store::pool::Writer::Postgres(lease) => on_lease!(lease, |$pool| $body),
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
            Backend::Postgres(connections) => Pool::Postgres(connections),
        }
    }

    /// The writer, once it is this write's turn (SQLite).
    pub(crate) async fn writer(&self) -> Result<Writer<'_>, sqlx::Error> {
        Ok(match &self.backend {
            Backend::Sqlite { writer, .. } => Writer::Sqlite(writer.take_turn().await?),
            Backend::Postgres(connections) => Writer::Postgres(connections.acquire().await?),
        })
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
                let (open, idle) = writer.in_use();
                let writer = PoolStats {
                    name: "writer",
                    open,
                    idle,
                    max: 1,
                };
                vec![stats("reader", reader), writer]
            }
            Backend::Postgres(connections) => {
                let mut main = stats("main", connections.pool());
                let kept = u32::try_from(connections.idle_count()).unwrap_or(u32::MAX);
                main.idle = main.idle.saturating_add(kept);
                vec![main]
            }
        }
    }

    /// Close every connection, waiting for queries in flight.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(connections) => connections.close().await,
        }
    }
}
