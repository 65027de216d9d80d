//! The per-user rate limit of /mcp: 429 with `Retry-After` past it, per
//! user, counted in memory or in Redis across instances, and off with 0.

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::Backend;

use crate::helpers::{HttpServer, database, token};

async fn tools_list(server: &HttpServer, user: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url())
        .bearer_auth(token(user))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn calls_past_the_per_user_limit_get_429_with_retry_after() {
    let db = database(Backend::Sqlite).await;
    let server = HttpServer::start(&db, &[], &[("MCP_RATE_LIMIT_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        assert_eq!(tools_list(&server, "rita").await.status(), StatusCode::OK);
    }
    let refused = tools_list(&server, "rita").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=20).contains(&wait), "{wait}");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(
        tools_list(&server, "sven").await.status(),
        StatusCode::OK,
        "another user has a count of their own"
    );

    let off = HttpServer::start(&db, &[], &[("MCP_RATE_LIMIT_PER_MINUTE", "0")]).await;
    for _ in 0..10 {
        assert_eq!(tools_list(&off, "rita").await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn instances_share_the_count_in_redis() {
    let db = database(Backend::Sqlite).await;
    let env = [
        ("MCP_RATE_LIMIT_PER_MINUTE", "3"),
        ("RATE_LIMIT_BACKEND", "redis"),
    ];
    let a = HttpServer::start(&db, &[], &env).await;
    let b = HttpServer::start(&db, &[], &env).await;
    // A user of this run only: Redis keeps counts between runs.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let user = format!("shared-{}-{nanos}", std::process::id());
    for server in [&a, &b, &a] {
        assert_eq!(tools_list(server, &user).await.status(), StatusCode::OK);
    }
    assert_eq!(
        tools_list(&b, &user).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
