//! Throw-away databases for tests: a fresh SQLite file or a fresh PostgreSQL
//! database per test, removed when the value is dropped.
//!
//! PostgreSQL comes from `TEST_POSTGRES_URL` (an URL of a role that may
//! create databases; default `postgres://postgres@127.0.0.1:5432/postgres`).
//! There is no silent skip: when PostgreSQL is down, the tests fail.

use std::path::PathBuf;

use rand::Rng as _;
use sqlx::{Connection as _, Executor as _, PgConnection};
use todo_domain::{Store, StoreOptions};

/// The two backends every test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as benchmarks print it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// A comma-separated list such as `sqlite,postgres` (a benchmark's
    /// `--backends`); unknown names are left out.
    pub fn parse_list(raw: &str) -> Vec<Self> {
        raw.split(',')
            .filter_map(|name| match name.trim() {
                "sqlite" => Some(Self::Sqlite),
                "postgres" => Some(Self::Postgres),
                _ => None,
            })
            .collect()
    }
}

pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The admin URL for test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

/// A database that exists for the life of this value.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A new, empty SQLite file in a fresh temporary directory (the file
    /// itself is created by whoever opens it first).
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("todo-mcp-test-{}", random_suffix()));
        let url = format!("sqlite://{}", dir.join("todo.db").display());
        Self {
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A new, empty PostgreSQL database.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached: tests must not pass without it.
    #[allow(clippy::expect_used)]
    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("todo_test_{}", random_suffix());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL must be reachable at TEST_POSTGRES_URL for the test suite");
        admin
            .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
            .await
            .expect("the test role must be allowed to create databases");
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .unwrap_or(admin_url.clone());
        Self {
            url: format!("{base}/{name}"),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A store on this database, migrated.
    ///
    /// # Panics
    /// When the database cannot be opened or migrated.
    #[allow(clippy::expect_used)]
    pub async fn store(&self) -> Store {
        let store = Store::open(&StoreOptions::new(&self.url))
            .await
            .expect("open the test database");
        store.migrate().await.expect("migrate the test database");
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop runs outside async; use a throw-away runtime on its own
                // thread so this works inside and outside a tokio runtime.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async move {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let _ = admin
                                .execute(sqlx::AssertSqlSafe(format!(
                                    "drop database if exists {name} with (force)"
                                )))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
