//! Throw-away databases for tests: a fresh SQLite file or a fresh PostgreSQL
//! database per test, removed when the value is dropped.
//!
//! PostgreSQL comes from `TEST_POSTGRES_URL` (an URL of a role that may
//! create databases; default `postgres://postgres@127.0.0.1:5432/postgres`).
//! There is no silent skip: when PostgreSQL is down, the tests fail.

use std::path::PathBuf;

use rand::Rng as _;
use sqlx::{Connection as _, Executor as _, PgConnection};

/// Define `mod NAME { fn sqlite(); fn postgres(); }` tests that run the async
/// function `NAME(backend)` once on each backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::testing::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::testing::Backend::Postgres).await
            }
        }
    )*};
}

/// A file of `shared/tests/fixtures` (test-only signing keys and their JWKS).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The environment variables a README table names: the second column of the
/// table rows from the line starting with `from` up to the line starting
/// with `until`.
pub fn readme_table_env_vars(
    readme: &str,
    from: &str,
    until: &str,
) -> std::collections::BTreeSet<String> {
    readme
        .lines()
        .skip_while(|l| !l.starts_with(from))
        .skip(1)
        .take_while(|l| !l.starts_with(until))
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| {
            l.split('|')
                .nth(2)
                .map(|c| c.trim().trim_matches('`').to_owned())
        })
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'))
        .collect()
}

/// The environment variables a clap `--help` text names (`[env: NAME]`).
pub fn help_env_vars(help: &str) -> std::collections::BTreeSet<String> {
    // --help wraps lines; "[env: NAME]" may be cut after "env:".
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    help.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split([']', '=']).next().map(str::to_owned))
        .collect()
}

/// The environment variables that `BINARY SUBCOMMAND --help` names, over
/// the subcommands given (`""` for the binary's own `--help`).
///
/// # Panics
/// When a `--help` fails.
#[allow(clippy::expect_used)]
pub async fn binary_env_vars(
    binary: &str,
    subcommands: &[&str],
) -> std::collections::BTreeSet<String> {
    let mut help = String::new();
    for sub in subcommands {
        let out = tokio::process::Command::new(workspace_binary(binary))
            .env_clear()
            .args(sub.split_whitespace())
            .arg("--help")
            .output()
            .await
            .expect("run --help");
        assert!(out.status.success(), "{binary} {sub} --help failed");
        help.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    help_env_vars(&help)
}

/// The two backends every test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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
    pub async fn store(&self) -> crate::Store {
        let store = crate::Store::open(&crate::StoreOptions::new(&self.url))
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

/// A service binary of this workspace (e.g. `todo-mcp`) running for a test,
/// with its stderr captured. Killed when dropped.
pub struct ServiceProcess {
    pub child: tokio::process::Child,
    pub addr: std::net::SocketAddr,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServiceProcess {
    /// Spawn `cmd` (stderr is piped here) and wait until it logs
    /// `listening on http://ADDR/…`. Err carries what it logged.
    pub async fn spawn(
        mut cmd: tokio::process::Command,
        name: &'static str,
    ) -> Result<Self, String> {
        use tokio::io::{AsyncBufReadExt as _, BufReader};
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {name}: {e}"))?;
        let stderr = child.stderr.take().ok_or("stderr is not piped")?;
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut addr_tx = Some(addr_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("[{name}] {line}");
                }
                if let Some(rest) = line.split("listening on http://").nth(1)
                    && let Some(addr) = rest
                        .split('/')
                        .next()
                        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(addr);
                }
                if let Ok(mut logs) = sink.lock() {
                    logs.push_str(&line);
                    logs.push('\n');
                }
            }
        });
        match tokio::time::timeout(std::time::Duration::from_secs(20), addr_rx).await {
            Ok(Ok(addr)) => Ok(Self { child, addr, logs }),
            _ => {
                let _ = child.kill().await;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                Err(logs.lock().map(|l| l.clone()).unwrap_or_default())
            }
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// The path of a binary of this workspace, built for the running test's
/// profile; built with cargo first when it is not there yet (a test of one
/// crate needs the binary of another).
///
/// # Panics
/// When the binary cannot be built.
#[allow(clippy::expect_used)]
pub fn workspace_binary(name: &str) -> PathBuf {
    // target/<profile>/deps/<test-exe>
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps layout")
        .to_owned();
    let binary = profile_dir.join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--bin", name]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build --bin {name} failed");
    }
    binary
}

/// A process's resident memory in KiB (0 when it cannot be read), for the
/// benchmarks.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A Python virtualenv under `target/NAME` with `requirements` installed,
/// made when `probe` (a Python statement, e.g. `import mcp`) fails in it.
/// Returns the venv's `bin` directory. Tools nobody here wrote (the MCP
/// Python SDK, schemathesis) come from there.
///
/// # Panics
/// When Python 3 or pip fails.
#[allow(clippy::expect_used)]
pub async fn python_venv(name: &str, requirements: &std::path::Path, probe: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(name);
    let bin = venv.join("bin");
    let python = bin.join("python");
    let ready = |python: PathBuf| async move {
        python.exists()
            && tokio::process::Command::new(&python)
                .args(["-c", probe])
                .stderr(std::process::Stdio::null())
                .status()
                .await
                .is_ok_and(|s| s.success())
    };
    if ready(python.clone()).await {
        return bin;
    }
    let created = tokio::process::Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .await;
    assert!(
        created.is_ok_and(|s| s.success()),
        "python3 -m venv {} failed: Python 3.10+ is needed",
        venv.display()
    );
    let installed = tokio::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements)
        .status()
        .await;
    assert!(
        installed.is_ok_and(|s| s.success()),
        "pip install -r {} failed",
        requirements.display()
    );
    bin
}

/// `npm ci` in `dir` (a test's own package.json and lock file), unless
/// `dir/node_modules/PACKAGE` is already there. Tools nobody here wrote (the
/// MCP TypeScript SDK, playwright-core) come from there.
///
/// # Panics
/// When npm fails.
pub async fn npm_ci(dir: &std::path::Path, package: &str) {
    if dir.join("node_modules").join(package).exists() {
        return;
    }
    let installed = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(dir)
        .status()
        .await;
    assert!(
        installed.is_ok_and(|s| s.success()),
        "npm ci in {} failed: Node.js 20+ and npm are needed",
        dir.display()
    );
}
