//! SQLite's one writing connection, and how a write begins on either
//! database.

use std::time::Duration;

use sqlx::{PgConnection, SqliteConnection};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// Start a transaction that will write. On SQLite it takes the write lock
/// at once (`begin immediate`): a transaction that reads first and writes
/// later fails at once with "database is locked" when another process
/// committed in between, whatever the busy timeout.
pub(crate) trait BeginWrite<'c> {
    type Database: sqlx::Database;
    fn begin_write(
        self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'c, Self::Database>, sqlx::Error>> + Send;
}

impl<'c> BeginWrite<'c> for &'c mut SqliteConnection {
    type Database = sqlx::Sqlite;
    fn begin_write(
        self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'c, sqlx::Sqlite>, sqlx::Error>> + Send {
        sqlx::Connection::begin_with(self, "begin immediate")
    }
}

impl<'c> BeginWrite<'c> for &'c mut PgConnection {
    type Database = sqlx::Postgres;
    fn begin_write(
        self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'c, sqlx::Postgres>, sqlx::Error>> + Send
    {
        sqlx::Connection::begin(self)
    }
}

/// SQLite's one writing connection, taken in turn (first come, first
/// served). Not a pool of one: sqlx's pool tests a connection with a round
/// trip each time it is given back, and on the single writer that round
/// trip is time no other write can use.
#[derive(Debug)]
pub(crate) struct SqliteWriter {
    connection: Mutex<Option<SqliteConnection>>,
    /// How long a write waits for its turn before failing.
    wait: Duration,
}

impl SqliteWriter {
    pub(crate) fn new(connection: SqliteConnection, wait: Duration) -> Self {
        Self {
            connection: Mutex::new(Some(connection)),
            wait,
        }
    }

    /// The connection, once the writes before have finished.
    pub(crate) async fn take_turn(
        &self,
    ) -> Result<MappedMutexGuard<'_, SqliteConnection>, sqlx::Error> {
        let guard = tokio::time::timeout(self.wait, self.connection.lock())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| sqlx::Error::PoolClosed)
    }

    /// (open, idle): 1 or 0 each.
    pub(crate) fn in_use(&self) -> (u32, u32) {
        match self.connection.try_lock() {
            Ok(guard) => (u32::from(guard.is_some()), u32::from(guard.is_some())),
            Err(_) => (1, 0),
        }
    }

    /// Close the connection after the write in progress; later writes fail.
    pub(crate) async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = sqlx::Connection::close(connection).await;
        }
    }
}
