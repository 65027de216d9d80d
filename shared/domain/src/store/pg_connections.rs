//! PostgreSQL connections kept between statements, in front of sqlx's pool.
//!
//! sqlx's pool tests every connection given back to it with a round trip (a
//! `Sync` and its `ReadyForQuery`), with no switch to turn it off: for a
//! one-statement call that doubles the messages PostgreSQL handles. Here a
//! connection whose statement succeeded goes back onto a stack of our own
//! instead, and is handed out again without a test, until it has been out
//! of sqlx's pool for [`HOLD_FOR`] (then sqlx gets it back and applies its
//! test, idle timeout and lifetime). A lease that is dropped without
//! [`PgLease::keep`] (an error, a cancelled request) returns its connection
//! to sqlx, which tests it, rolls back what is left open, or closes it.
//! A semaphore of the pool's size bounds the leases, so that a lease never
//! waits in sqlx's pool for a connection that sits on the stack.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, PgPool, Postgres};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a connection stays out of sqlx's pool.
const HOLD_FOR: Duration = Duration::from_secs(60);

/// A connection in steady use is tested by its statements (one that fails
/// goes back to sqlx, which closes it); only one idle this long, which a
/// restart, a proxy or a firewall may have dropped meanwhile, is tested
/// before use, on the stack and in sqlx's pool alike.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub(crate) struct PgConnections {
    pool: PgPool,
    idle: Mutex<Vec<Held>>,
    permits: Semaphore,
}

#[derive(Debug)]
struct Held {
    connection: PoolConnection<Postgres>,
    /// When it was taken from sqlx's pool.
    taken: Instant,
    /// When its last statement ended.
    used: Instant,
}

/// One connection, for one statement or transaction.
pub(crate) struct PgLease<'a> {
    held: Held,
    home: &'a PgConnections,
    _permit: SemaphorePermit<'a>,
}

impl PgConnections {
    /// sqlx's pool of at most `size` connections to `connect`, with the
    /// stack in front. sqlx would test each connection with a round trip
    /// before every use too; it tests only those idle for
    /// [`PING_WHEN_IDLE_FOR`].
    pub(crate) async fn connect(
        connect: PgConnectOptions,
        size: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let size = size.max(1);
        // The pool retries a failed connection until its acquire timeout and
        // then only says it timed out: one attempt first names the cause
        // (connection refused, wrong password, no such database).
        match tokio::time::timeout(acquire_timeout, connect.connect()).await {
            Ok(Ok(first)) => drop(first.close().await),
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the database server did not answer within {} s",
                        acquire_timeout.as_secs()
                    ),
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_WHEN_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(connect)
            .await?;
        Ok(Self {
            permits: Semaphore::new(size as usize),
            idle: Mutex::new(Vec::new()),
            pool,
        })
    }

    /// sqlx's pool, for what runs outside leases (migrations, metrics).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Connections on the stack.
    pub(crate) fn idle_count(&self) -> usize {
        self.stack().len()
    }

    /// A connection: the most recently used one on the stack, else one from
    /// sqlx's pool. Waits at most the pool's acquire timeout.
    pub(crate) async fn acquire(&self) -> Result<PgLease<'_>, sqlx::Error> {
        let timeout = self.pool.options().get_acquire_timeout();
        let permit = tokio::time::timeout(timeout, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            // Popped apart from the test below: the stack's lock is not held
            // across an await.
            let popped = self.stack().pop();
            let Some(mut held) = popped else {
                let connection = self.pool.acquire().await?;
                let now = Instant::now();
                let held = Held {
                    connection,
                    taken: now,
                    used: now,
                };
                return Ok(self.lease(held, permit));
            };
            if held.used.elapsed() < PING_WHEN_IDLE_FOR || held.connection.ping().await.is_ok() {
                return Ok(self.lease(held, permit));
            }
            // Broken: dropping it hands it to sqlx, which closes it.
        }
    }

    fn lease<'a>(&'a self, held: Held, permit: SemaphorePermit<'a>) -> PgLease<'a> {
        PgLease {
            held,
            home: self,
            _permit: permit,
        }
    }

    /// Give every connection on the stack back to sqlx's pool and close it.
    pub(crate) async fn close(&self) {
        self.permits.close();
        drop(std::mem::take(&mut *self.stack()));
        self.pool.close().await;
    }

    fn stack(&self) -> std::sync::MutexGuard<'_, Vec<Held>> {
        // The stack is only pushed and popped: a panic elsewhere cannot
        // leave it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PgLease<'_> {
    /// The statement succeeded: put the connection back on the stack (or,
    /// once held for [`HOLD_FOR`], back into sqlx's pool).
    pub(crate) fn keep(self) {
        let PgLease { mut held, home, .. } = self;
        if held.taken.elapsed() < HOLD_FOR && !home.permits.is_closed() {
            held.used = Instant::now();
            home.stack().push(held);
        }
    }
}

impl Deref for PgLease<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.held.connection
    }
}

impl DerefMut for PgLease<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.held.connection
    }
}
