//! Clients nobody here wrote: the official MCP Python SDK and the official
//! MCP TypeScript SDK client, each over stdio and over HTTP with a bearer
//! token.
//!
//! The Python SDK lives in a virtualenv: `SMOKE_PYTHON` names its
//! interpreter, else one is created under `target/smoke-venv` from
//! `tests/smoke/requirements.txt`. The TypeScript client is installed with
//! `npm ci` into `tests/smoke/node_modules` when it is not there yet.

use std::path::{Path, PathBuf};

use todo_testkit::TestDatabase;

use crate::helpers::*;

fn smoke_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smoke")
}

async fn python_with_sdk() -> PathBuf {
    if let Some(python) = std::env::var_os("SMOKE_PYTHON") {
        return PathBuf::from(python);
    }
    let requirements = smoke_dir().join("requirements.txt");
    todo_testkit::python_venv("smoke-venv", &requirements, "import mcp")
        .await
        .join("python")
}

async fn typescript_sdk() {
    todo_testkit::npm_ci(&smoke_dir(), "@modelcontextprotocol/client").await;
}

/// Run one smoke client (`program script args…`) and check that all its
/// `checks` ran.
async fn run_client(program: &Path, script: &str, args: &[&str]) {
    let checks = if script.ends_with(".py") { 12 } else { 10 };
    let out = tokio::process::Command::new(program)
        .arg(smoke_dir().join(script))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed ({args:?}):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), checks, "all checks ran:\n{stdout}");
}

#[tokio::test]
async fn the_official_python_sdk_works_over_stdio_and_http() {
    let python = python_with_sdk().await;
    let db = TestDatabase::sqlite();
    run_client(&python, "python_client.py", &["stdio", BIN, db.url()]).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    run_client(
        &python,
        "python_client.py",
        &["http", &server.url(), &token("python-smoke")],
    )
    .await;
}

#[tokio::test]
async fn the_official_typescript_sdk_works_over_stdio_and_http() {
    typescript_sdk().await;
    let node = Path::new("node");
    let db = TestDatabase::sqlite();
    run_client(node, "ts_client.mjs", &["stdio", BIN, db.url()]).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    run_client(
        node,
        "ts_client.mjs",
        &["http", &server.url(), &token("ts-smoke")],
    )
    .await;
}
