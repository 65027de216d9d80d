//! The command line: help, migrate, refusals.

use std::process::Stdio;

use todo_testkit::{Backend, TestDatabase};

use crate::helpers::*;
use todo_testkit::both_backends;

async fn output(db_url: &str, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = command(db_url);
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().await.expect("run todo-mcp")
}

#[tokio::test]
async fn help_documents_every_option_with_its_env_var() {
    let out = output("sqlite::memory:", &["--help"], &[]).await;
    let top = String::from_utf8_lossy(&out.stdout).into_owned();
    let out = output("sqlite::memory:", &["http", "--help"], &[]).await;
    let http = String::from_utf8_lossy(&out.stdout).into_owned();
    for var in [
        "DATABASE_URL",
        "DATABASE_MAX_CONNECTIONS",
        "TODO_USER_ID",
        "RUST_LOG",
        "LOG_FORMAT",
    ] {
        assert!(top.contains(var), "--help lacks {var}:\n{top}");
    }
    for var in [
        "MCP_BIND",
        "MCP_JWT_SECRET",
        "MCP_JWKS_URL",
        "MCP_JWKS_REFETCH_COOLDOWN",
        "MCP_AUDIENCE",
        "MCP_ISSUER",
        "MCP_PUBLIC_URL",
        "MCP_AUTHORIZATION_SERVERS",
        "MCP_ALLOWED_HOSTS",
        "MCP_ALLOWED_ORIGINS",
        "MCP_NO_AUTH",
    ] {
        assert!(http.contains(var), "http --help lacks {var}:\n{http}");
    }
    let secret = output(
        "sqlite::memory:",
        &["http", "--help"],
        &[("MCP_JWT_SECRET", "do-not-print-me-0123456789abcdef")],
    )
    .await;
    assert!(!String::from_utf8_lossy(&secret.stdout).contains("do-not-print-me"));
}

async fn migrate_applies_the_schema_and_exits(backend: Backend) {
    let db = database(backend).await;
    let out = output(db.url(), &["migrate"], &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let again = output(db.url(), &["migrate"], &[]).await;
    assert!(again.status.success(), "migrate is idempotent");
    // Opened without migrating: the table must be the binary's doing.
    let store = todo_domain::Store::open(&todo_domain::StoreOptions::new(db.url()))
        .await
        .expect("open");
    let user = todo_domain::UserId::parse("nobody").expect("user");
    assert_eq!(
        store.count_tasks(&user).await.expect("tasks table exists"),
        0
    );
    store.close().await;
}

both_backends!(migrate_applies_the_schema_and_exits);

#[tokio::test]
async fn no_auth_is_refused_off_loopback_and_works_on_it() {
    let db = TestDatabase::sqlite();
    let out = output(db.url(), &["http", "--no-auth", "--bind", "0.0.0.0:0"], &[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only allowed on a loopback"));

    let server = HttpServer::start(
        &db,
        &["--no-auth", "--user", "dev"],
        &[("MCP_JWT_SECRET", "")],
    )
    .await;
    let client = server.client("").await;
    let task = ok(call(
        &client,
        "add_task",
        serde_json::json!({"title": "no token needed"}),
    )
    .await);
    assert_eq!(task["title"], "no token needed");
    assert!(server.logs().contains("authentication is OFF"));
}

#[tokio::test]
async fn http_without_any_key_is_refused_with_a_hint() {
    let db = TestDatabase::sqlite();
    let out = output(db.url(), &["http", "--bind", "127.0.0.1:0"], &[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MCP_JWT_SECRET"));
    let weak = output(
        db.url(),
        &["http", "--bind", "127.0.0.1:0"],
        &[("MCP_JWT_SECRET", "short")],
    )
    .await;
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 32 bytes"));
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let out = output("mysql://localhost/x", &["migrate"], &[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must start with sqlite: or postgres:"));
}

#[tokio::test]
async fn the_default_database_is_created_in_the_data_directory() {
    let home = std::env::temp_dir().join(format!("todo-mcp-home-{}", std::process::id()));
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.env_clear()
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .arg("migrate")
        .current_dir(std::env::temp_dir());
    let out = cmd.output().await.expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(home.join("data/todo-mcp/todo.db").exists());
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn a_dotenv_file_in_the_working_directory_is_read() {
    let dir = std::env::temp_dir().join(format!("todo-mcp-dotenv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("from-dotenv.db");
    std::fs::write(
        dir.join(".env"),
        format!("# comment\nDATABASE_URL=sqlite://{}\n", db.display()),
    )
    .expect(".env");
    let out = tokio::process::Command::new(BIN)
        .env_clear()
        .arg("migrate")
        .current_dir(&dir)
        .output()
        .await
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists(), "DATABASE_URL from .env was used");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `MCP_JWT_SECRET` equal to the gateway's `BETTER_AUTH_SECRET` in the same
/// environment: a user's token would open the task server. Refused.
#[tokio::test]
async fn http_refuses_the_gateways_user_secret_as_its_own() {
    let db = TestDatabase::sqlite();
    let secret = "one-secret-for-everything-0123456789abcdef";
    let out = output(
        db.url(),
        &["http", "--bind", "127.0.0.1:0"],
        &[("MCP_JWT_SECRET", secret), ("BETTER_AUTH_SECRET", secret)],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("are the same"), "{stderr}");
    assert!(
        !stderr.contains(secret),
        "the secret is not printed: {stderr}"
    );
}

/// A `.env` in a directory above the working one is not read: it could be
/// anybody's (a shared parent, a home directory).
#[tokio::test]
async fn a_dotenv_file_above_the_working_directory_is_not_read() {
    let dir = std::env::temp_dir().join(format!("todo-mcp-dotenv-up-{}", std::process::id()));
    let below = dir.join("project");
    std::fs::create_dir_all(&below).expect("dir");
    // Read, it would turn the logs into JSON.
    std::fs::write(dir.join(".env"), "LOG_FORMAT=json\n").expect(".env");
    let db = TestDatabase::sqlite();
    let out = tokio::process::Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .arg("migrate")
        .current_dir(&below)
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.is_empty(), "migrate logs");
    assert!(
        stderr.lines().all(|line| !line.starts_with('{')),
        "the .env above was read: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_on_stderr() {
    let db = TestDatabase::sqlite();
    let out = output(db.url(), &["migrate"], &[("LOG_FORMAT", "json")]).await;
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().count() >= 1);
    for line in stderr.lines() {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            parsed["level"].is_string() && parsed["fields"].is_object(),
            "{line}"
        );
    }
}

/// The README's way to get a token for the Inspector: `todo-mcp token`.
#[tokio::test]
async fn minted_tokens_open_the_http_server() {
    let db = TestDatabase::sqlite();
    let out = output(
        db.url(),
        &["token", "--user", "inspector", "--ttl", "15m"],
        &[("MCP_JWT_SECRET", SECRET)],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "one JWT on stdout: {token}");
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.client(&token).await;
    let task = ok(call(
        &client,
        "add_task",
        serde_json::json!({"title": "via a minted token"}),
    )
    .await);
    assert_eq!(task["status"], "created");

    let refused = output(db.url(), &["token", "--user", "x"], &[]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("MCP_JWT_SECRET"));
}

/// A cool-down of 0 would let junk tokens make one key fetch each.
#[tokio::test]
async fn a_jwks_refetch_cooldown_under_a_second_is_refused() {
    let db = TestDatabase::sqlite();
    let out = output(
        db.url(),
        &[
            "http",
            "--jwks-url",
            "https://idp.test/jwks",
            "--issuer",
            "https://idp.test",
        ],
        &[("MCP_JWKS_REFETCH_COOLDOWN", "0")],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jwks-refetch-cooldown"), "{stderr}");
}

/// A database that cannot be opened is reported with each cause once, and
/// for PostgreSQL with the real cause at once (not "pool timed out" after
/// the acquire timeout).
#[tokio::test]
async fn a_database_that_cannot_be_opened_is_reported_with_its_real_cause_once() {
    let unused_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let admin = todo_testkit::postgres_admin_url();
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    let cases = [
        ("sqlite:///tmp".to_owned(), "unable to open database file"),
        (
            format!("postgres://postgres@127.0.0.1:{unused_port}/todo"),
            "Connection refused",
        ),
        (
            format!("{base}/todo_no_such_database"),
            "database \"todo_no_such_database\" does not exist",
        ),
    ];
    for (url, cause) in cases {
        let started = std::time::Instant::now();
        let out = output(&url, &["http"], &[("MCP_JWT_SECRET", SECRET)]).await;
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches(cause).count(), 1, "{url}: {stderr}");
        assert!(!stderr.contains("pool timed out"), "{url}: {stderr}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{url}"
        );
    }
}
