//! The test kit of todo-mcp (a dev-dependency only, never published):
//! throw-away databases, the services as processes, installed test tools,
//! and readers of the repository's documents.
//!
//! Layout:
//! - [`database`]: [`TestDatabase`] on either [`Backend`], and
//!   [`both_backends!`], which runs a test on each.
//! - [`service`]: [`ServiceProcess`] (a binary running for a test, its logs
//!   captured), [`workspace_binary`], [`rss_kib`].
//! - [`installs`]: [`python_venv`], [`npm_ci`].
//! - [`raw_http`]: HTTP by hand over TCP, and the checks of both services'
//!   connection limits.
//! - [`docs`]: the variables a README table or a `--help` names, and the
//!   test [`fixture`]s (keys and a JWKS).
//! - [`contract`]: [`assert_contract`], published JSON kept in a file.

pub mod contract;
pub mod database;
pub mod docs;
pub mod installs;
pub mod raw_http;
pub mod service;

pub use contract::assert_contract;
pub use database::{Backend, DEFAULT_TEST_POSTGRES_URL, TestDatabase, postgres_admin_url};
pub use docs::{binary_env_vars, fixture, help_env_vars, readme_table_env_vars};
pub use installs::{npm_ci, python_venv};
pub use service::{ServiceProcess, rss_kib, run_on_one_thread, workspace_binary};

/// Define `mod NAME { fn sqlite(); fn postgres(); }` tests that run the async
/// function `NAME(backend)` once on each backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}
