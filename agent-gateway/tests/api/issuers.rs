//! Tokens bound to their source: the gateway signs the task server's tokens
//! as `todo-gateway`, which a task server bound to an identity provider
//! accepts; user tokens are checked against the configured audience and
//! issuer, HS256 ones too; a JWKS source must say whose tokens it vouches
//! for; the HS256 secret has a name of its own (the former one still works).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use todo_domain::UserId;
use todo_server::Secret;
use todo_server::auth::mint_hs256;
use todo_testkit::{Backend, workspace_binary};

use crate::auth::{fixture_jwks, identity_provider};
use crate::helpers::{Stack, ok, text, tool_calls};

const USER_SECRET: &str = "user-token-secret-of-at-least-32-bytes!!";

#[tokio::test]
async fn a_task_server_bound_to_an_identity_provider_accepts_the_gateways_tokens() {
    let idp = identity_provider(Arc::new(Mutex::new(fixture_jwks()))).await;
    let stack = Stack::start_with(
        Backend::Sqlite,
        &[
            ("MCP_JWKS_URL", &format!("{idp}/api/auth/jwks")),
            ("MCP_ISSUER", &idp),
        ],
        &[],
    )
    .await;
    stack.model.script(vec![
        ok(tool_calls(&[("c1", "add_task", json!({"title": "Bound"}))])),
        ok(text("Added.")),
    ]);
    let (status, body) = stack.chat("sara", json!({"message": "Add Bound"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tool_calls"][0]["is_error"], false, "{body}");
    assert_eq!(stack.tasks("sara").await, [("Bound".to_owned(), false)]);
}

fn user_token(audience: Option<&str>, issuer: Option<&str>) -> String {
    mint_hs256(
        &Secret::new(USER_SECRET),
        &UserId::parse("tom").expect("user"),
        audience,
        issuer,
        Duration::from_secs(600),
    )
    .expect("token")
}

async fn tom_lists(stack: &Stack, token: &str) -> StatusCode {
    stack
        .http
        .get(stack.url("/api/tom/conversations"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn hs256_user_tokens_carry_the_audience_and_issuer_when_they_are_set() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("AUTH_JWT_SECRET", USER_SECRET),
            ("AUTH_AUDIENCE", "todo-web"),
            ("AUTH_ISSUER", "https://login.test"),
        ],
    )
    .await;
    let good = user_token(Some("todo-web"), Some("https://login.test"));
    assert_eq!(tom_lists(&stack, &good).await, StatusCode::OK);
    for (token, case) in [
        (user_token(None, None), "neither"),
        (
            user_token(Some("todo-web"), Some("https://elsewhere.test")),
            "another issuer",
        ),
        (
            user_token(Some("another-app"), Some("https://login.test")),
            "another audience",
        ),
    ] {
        assert_eq!(
            tom_lists(&stack, &token).await,
            StatusCode::UNAUTHORIZED,
            "{case}"
        );
    }

    // Unset, tokens without them keep working (todo-gateway token, existing frontends).
    let open = Stack::start(Backend::Sqlite, &[("AUTH_JWT_SECRET", USER_SECRET)]).await;
    assert_eq!(
        tom_lists(&open, &user_token(None, None)).await,
        StatusCode::OK
    );
}

async fn gateway_output(envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(workspace_binary("todo-gateway"));
    cmd.env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .env("MCP_JWT_SECRET", "mcp-token-secret-of-at-least-32-bytes!!!")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let run = cmd.output();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("refused at once")
        .expect("run todo-gateway")
}

#[tokio::test]
async fn a_jwks_source_without_issuer_and_audience_is_refused_at_start_up() {
    let out = gateway_output(&[("AUTH_JWKS_URL", "https://idp.test/jwks")]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AUTH_JWKS_URL is set without AUTH_ISSUER and AUTH_AUDIENCE"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_former_secret_name_still_works_with_a_warning() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[("AUTH_JWT_SECRET", ""), ("BETTER_AUTH_SECRET", USER_SECRET)],
    )
    .await;
    assert_eq!(
        tom_lists(&stack, &user_token(None, None)).await,
        StatusCode::OK
    );
    assert!(
        stack
            .gateway
            .logs()
            .contains("BETTER_AUTH_SECRET is the former name of AUTH_JWT_SECRET"),
        "{}",
        stack.gateway.logs()
    );
}

/// A cool-down of 0 would let junk tokens make one key fetch each.
#[tokio::test]
async fn a_jwks_refetch_cooldown_under_a_second_is_refused() {
    let out = gateway_output(&[
        ("BETTER_AUTH_URL", "https://idp.test"),
        ("AUTH_JWKS_REFETCH_COOLDOWN", "0"),
    ])
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auth-jwks-refetch-cooldown"), "{stderr}");
}
