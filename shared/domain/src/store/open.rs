//! Opening the store: which database a URL names, the pools' settings, the
//! migrations, and the default SQLite file.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, SqliteConnection, SqlitePool};

use crate::store::indexer::Indexer;
use crate::store::pg_connections::PgConnections;
use crate::store::pool::{Backend, Quotas, Store};
use crate::store::writer::SqliteWriter;

/// How long a writer waits for SQLite's lock before giving up. Writes take
/// microseconds; this only matters under heavy contention.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database, and how big a pool.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: String,
    /// Upper bound on open connections.
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the store could not be opened. The cause is the error's source, not
/// part of its message: printed as a chain, each cause shows once.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL must start with sqlite: or postgres:, got {0:?}")]
    UnknownScheme(String),
    #[error("cannot create the database directory {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the database")]
    Connect(#[from] sqlx::Error),
    #[error("cannot apply migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare older tasks for search")]
    Backfill(#[source] sqlx::Error),
}

impl Store {
    /// Open a pool. SQLite files (and their directory) are created on first
    /// use, in WAL mode with a busy timeout so concurrent writers wait for
    /// each other instead of failing with "database is locked".
    pub async fn open(options: &StoreOptions) -> Result<Self, OpenError> {
        let url = options.url.as_str();
        if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL never corrupts and never loses a commit on a
                // process crash; only a power cut can roll back the last few.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let filename = connect.get_filename();
            if let Some(dir) = filename.parent().filter(|d| !d.as_os_str().is_empty())
                && !is_in_memory(url)
            {
                std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            // An in-memory database lives as long as a connection to it (the
            // writer's) and is seen by the readers through the shared cache.
            let connect = if is_in_memory(url) {
                connect.shared_cache(true)
            } else {
                connect
            };
            let writer = Arc::new(SqliteWriter::new(
                sqlite_connection(&connect).await?,
                options.acquire_timeout,
            ));
            let size = options.max_connections.saturating_sub(1).max(1);
            let reader = sqlite_pool(&connect, size, options).await?;
            Ok(Self {
                backend: Backend::Sqlite {
                    indexer: Arc::new(Indexer::spawn(writer.clone())),
                    reader,
                    writer,
                },
                quotas: Quotas::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url)?.application_name("todo-mcp");
            let connections =
                PgConnections::connect(connect, options.max_connections, options.acquire_timeout)
                    .await?;
            Ok(Self {
                backend: Backend::Postgres(Arc::new(connections)),
                quotas: Quotas::default(),
            })
        } else {
            Err(OpenError::UnknownScheme(redact_url(url)))
        }
    }

    /// Apply the embedded migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), OpenError> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                // sqlx takes no lock on SQLite: two processes starting together
                // (the task server and the gateway on one file) can both try
                // to apply a migration, and the second one's transaction fails
                // and rolls back. Running again then finds it applied.
                let mut migrator = sqlx::migrate!("../../migrations/sqlite");
                // A newer release's migrations may already be applied (a
                // rolling upgrade, a rollback): run anyway, as migrations
                // only ever add (migrations/README.md).
                migrator.set_ignore_missing(true);
                let mut attempt: u64 = 0;
                loop {
                    attempt += 1;
                    let mut connection = writer.take_turn().await?;
                    match migrator.run(&mut *connection).await {
                        Ok(()) => break,
                        Err(error) if attempt < 5 => {
                            tracing::debug!(%error, attempt, "migration raced another process; retrying");
                            tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
            }
            Backend::Postgres(connections) => {
                let pool = connections.pool();
                let mut migrator = sqlx::migrate!("../../migrations/postgres");
                migrator.set_ignore_missing(true);
                migrator.run(pool).await?;
            }
        }
        let folded = self.backfill_search().await.map_err(OpenError::Backfill)?;
        if folded > 0 {
            tracing::info!(tasks = folded, "folded the text of older tasks for search");
        }
        self.index_for_search().await.map_err(OpenError::Backfill)?;
        Ok(())
    }
}

/// A SQLite pool for the readers.
async fn sqlite_pool(
    connect: &SqliteConnectOptions,
    size: u32,
    options: &StoreOptions,
) -> Result<SqlitePool, sqlx::Error> {
    while_busy(|| {
        SqlitePoolOptions::new()
            .max_connections(size)
            .acquire_timeout(options.acquire_timeout)
            // A SQLite connection is a file handle in this process: nothing
            // on the other side can drop it.
            .test_before_acquire(false)
            .connect_with(connect.clone())
    })
    .await
}

/// The writer's connection.
async fn sqlite_connection(
    connect: &SqliteConnectOptions,
) -> Result<SqliteConnection, sqlx::Error> {
    while_busy(|| connect.connect()).await
}

/// `open`, retried while the file is busy: a new file's first connections
/// switch it to WAL, which needs the file to themselves, and two processes
/// starting together on a fresh file meet there.
async fn while_busy<T, F>(mut open: impl FnMut() -> F) -> Result<T, sqlx::Error>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        match open().await {
            Err(error) if attempt < 10 && is_busy(&error) => {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6).
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("5" | "6")))
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Query parameters of a database URL whose value is a secret (libpq's
/// `password` and `sslpassword`, and the usual spellings of others).
const SECRET_PARAMETERS: [&str; 6] = [
    "password",
    "sslpassword",
    "passwd",
    "pass",
    "secret",
    "token",
];

/// A database URL without its secrets, for error messages and logs: the
/// password of its user part and the values of secret query parameters
/// (`?password=…`) become `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            match base[scheme_end + 3..at].split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme_end + 3], &base[at..]),
                None => base.to_owned(),
            }
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _))
                    if SECRET_PARAMETERS
                        .iter()
                        .any(|s| key.eq_ignore_ascii_case(s)) =>
                {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// The default database: `todo-mcp/todo.db` in the user's data directory
/// (e.g. `~/.local/share` on Linux, `~/Library/Application Support` on
/// macOS), or the current directory when there is none.
pub fn default_sqlite_url() -> String {
    let path = dirs::data_dir()
        .map(|dir| dir.join("todo-mcp").join("todo.db"))
        .unwrap_or_else(|| PathBuf::from("todo.db"));
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/todo"),
            "postgres://app:***@db:5432/todo"
        );
        assert_eq!(
            redact_url("postgres://app@db/todo"),
            "postgres://app@db/todo"
        );
        assert_eq!(redact_url("sqlite://todo.db"), "sqlite://todo.db");
        assert_eq!(
            redact_url("sqlite://todo.db?mode=rwc"),
            "sqlite://todo.db?mode=rwc"
        );
    }

    #[test]
    fn redact_url_hides_secret_query_parameters() {
        assert_eq!(
            redact_url("postgres://db/todo?user=app&password=s3cret&sslmode=require"),
            "postgres://db/todo?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://app:a@b@db/todo?PASSWORD=x&sslpassword=y"),
            "postgresql://app:***@db/todo?PASSWORD=***&sslpassword=***"
        );
        assert_eq!(
            redact_url("postgres://db/todo?passwordless=1"),
            "postgres://db/todo?passwordless=1",
            "only whole parameter names"
        );
    }

    #[test]
    fn default_url_is_a_sqlite_file() {
        let url = default_sqlite_url();
        assert!(
            url.starts_with("sqlite://") && url.ends_with("todo.db"),
            "{url}"
        );
    }
}
