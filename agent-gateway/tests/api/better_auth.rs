//! The web chat signing in through a real Better Auth server (the npm
//! package `better-auth` with its JWT plugin, on Node 22, on PostgreSQL:
//! `tests/better-auth`), in Chromium: `tests/browser/signin.mjs`. The
//! gateway verifies Better Auth's EdDSA tokens from its JWKS with
//! `BETTER_AUTH_URL` alone.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use todo_testkit::{Backend, TestDatabase};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::browser::{chromium, run_script};
use crate::helpers::Stack;

/// How long Better Auth's tokens live here: short, to see them refreshed.
const TOKEN_SECONDS: u64 = 20;

fn better_auth_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/better-auth"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A Better Auth server on `port`, trusting `origin`, on a database of its
/// own; killed when dropped.
struct BetterAuth {
    _child: tokio::process::Child,
    _db: TestDatabase,
    url: String,
}

async fn start_better_auth(port: u16, origin: &str) -> BetterAuth {
    let dir = better_auth_dir();
    todo_testkit::npm_ci(&dir, "better-auth").await;
    let db = TestDatabase::new(Backend::Postgres).await;
    let url = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(dir.join("node_modules/.bin/node"))
        .arg(dir.join("server.mjs"))
        .env("PORT", port.to_string())
        .env("DATABASE_URL", db.url())
        .env(
            "BETTER_AUTH_SECRET",
            "better-auth-test-secret-of-32-characters+",
        )
        .env("BETTER_AUTH_URL", &url)
        .env("TRUSTED_ORIGINS", origin)
        .env("JWT_EXPIRES_IN", TOKEN_SECONDS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start Better Auth on Node 22");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let listening = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("listening on") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(listening, Ok(true), "Better Auth did not start");
    BetterAuth {
        _child: child,
        _db: db,
        url,
    }
}

#[tokio::test]
async fn the_web_chat_signs_in_through_better_auth_and_keeps_its_token_fresh() {
    let _turn = crate::helpers::one_at_a_time().await;
    let chromium = chromium().await;
    let port = free_port();
    let auth_url = format!("http://127.0.0.1:{port}");
    let stack = Stack::start(
        Backend::Sqlite,
        &[("BETTER_AUTH_URL", &auth_url), ("AUTH_JWT_SECRET", "")],
    )
    .await;
    stack.model.react();
    let gateway_origin = stack.url("");
    let better_auth = start_better_auth(port, gateway_origin.trim_end_matches('/')).await;

    let (email, password) = ("pia@example.test", "a-long-enough-password");
    let signed_up: Value = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-up/email", better_auth.url))
        .json(&json!({"email": email, "password": password, "name": "Pia"}))
        .send()
        .await
        .expect("sign up")
        .json()
        .await
        .expect("json");
    let user_id = signed_up["user"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no user id in {signed_up}"))
        .to_owned();

    run_script(
        &stack,
        &chromium,
        "signin.mjs",
        &[
            ("EMAIL", email.to_owned()),
            ("PASSWORD", password.to_owned()),
            ("USER_ID", user_id.clone()),
            ("TOKEN_SECONDS", TOKEN_SECONDS.to_string()),
        ],
    )
    .await;
    // The turns were stored for Better Auth's user, read from the database.
    let store = stack.db.store().await;
    let user = todo_domain::UserId::parse(&user_id).expect("user id");
    let stored = todo_domain::conversation::list(&store, &user, 10, None)
        .await
        .expect("conversations");
    assert!(!stored.is_empty(), "no conversation stored for {user_id}");
}
