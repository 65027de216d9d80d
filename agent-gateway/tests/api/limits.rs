//! The gateway's limits as a whole service: slow clients are cut off, load
//! past the caps is shed with 503 and `Retry-After` (never queued for ever),
//! turns are capped, and model calls wait for a free place.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::Backend;
use todo_testkit::raw_http::{assert_load_is_shed, assert_slow_clients_are_cut_off};

use crate::helpers::stack::metrics_text;
use crate::helpers::{Reply, Stack, ok, text};

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("HTTP_HEADER_TIMEOUT_SECS", "1"),
            ("HTTP_BODY_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    assert_slow_clients_are_cut_off(stack.gateway.addr, "/api/nora/chat").await;
}

#[tokio::test]
async fn requests_and_connections_past_the_caps_are_shed_and_counted() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("MAX_CONCURRENT_REQUESTS", "1"),
            ("MAX_CONNECTIONS", "3"),
            ("METRICS_BIND", "127.0.0.1:0"),
        ],
    )
    .await;
    assert_load_is_shed(stack.gateway.addr, "/api/nora/chat").await;
    let metrics = metrics_text(&stack.gateway).await;
    for what in ["requests", "connections"] {
        assert!(
            metrics.contains(&format!("todo_load_shed_total{{reason=\"{what}\"}} 1")),
            "{what}: {metrics}"
        );
    }
}

#[tokio::test]
async fn turns_past_the_cap_are_shed_with_retry_after() {
    let stack = Stack::start(Backend::Sqlite, &[("MAX_CONCURRENT_TURNS", "1")]).await;
    stack.model.script(vec![Reply {
        delay: Duration::from_millis(1_500),
        ..ok(text("Slow answer."))
    }]);
    let first = stack.chat_in_background("olive", json!({"message": "Hello"}));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let refused = stack
        .chat_response("paul", json!({"message": "Hello"}))
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"2"[..])
    );
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "overloaded", "{body}");
    assert!(
        stack.conversation_ids("paul").await.is_empty(),
        "nothing stored"
    );

    assert_eq!(first.await.expect("first turn"), StatusCode::OK);
    stack.model.script(vec![ok(text("Now there is room."))]);
    let (status, body) = stack.chat("paul", json!({"message": "Hello"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn model_calls_past_the_cap_wait_for_a_free_place() {
    let stack = Stack::start(Backend::Sqlite, &[("MAX_CONCURRENT_MODEL_CALLS", "1")]).await;
    let slow = |answer: &str| Reply {
        delay: Duration::from_millis(800),
        ..ok(text(answer))
    };
    stack.model.script(vec![slow("One."), slow("Two.")]);
    let started = Instant::now();
    let (a, b) = tokio::join!(
        stack.chat("quinn", json!({"message": "Hello"})),
        stack.chat("rosa", json!({"message": "Hello"})),
    );
    assert_eq!(
        (a.0, b.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.1,
        b.1
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1_600),
        "one model call at a time: {:?}",
        started.elapsed()
    );
}

/// The task server's per-user limit reaches the user as what it is: 429
/// with `Retry-After`, not "the task service is unavailable".
#[tokio::test]
async fn the_task_servers_rate_limit_is_passed_on_as_a_429() {
    let stack =
        Stack::start_with(Backend::Sqlite, &[("MCP_RATE_LIMIT_PER_MINUTE", "2")], &[]).await;
    let (first, _) = stack.get("uma", "/api/uma/tasks").await;
    assert_eq!(first, StatusCode::OK);
    let mut last = StatusCode::OK;
    for _ in 0..3 {
        let response = stack
            .http
            .get(stack.url("/api/uma/tasks"))
            .bearer_auth(crate::helpers::token("uma"))
            .send()
            .await
            .expect("request");
        last = response.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body["error"], "rate_limited", "{body}");
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// What one user may keep: conversations, and messages in one; past them a
/// new one is refused with 429 `quota_exceeded`, before anything is stored.
#[tokio::test]
async fn conversations_and_messages_past_their_quotas_are_refused() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("MAX_CONVERSATIONS_PER_USER", "2"),
            ("MAX_MESSAGES_PER_CONVERSATION", "3"),
        ],
    )
    .await;
    stack.model.react();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = stack.chat("vic", json!({"message": "Hello"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(body["conversation_id"].as_i64().expect("id"));
    }
    let (status, body) = stack.chat("vic", json!({"message": "A third"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "quota_exceeded", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("2 conversations")),
        "{body}"
    );
    assert_eq!(stack.conversation_ids("vic").await.len(), 2);

    // Two messages so far: one more turn fits (then four), the next not.
    let next = json!({"conversation_id": ids[0], "message": "Again"});
    assert_eq!(stack.chat("vic", next.clone()).await.0, StatusCode::OK);
    let (status, body) = stack.chat("vic", next).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "quota_exceeded", "{body}");
    assert_eq!(
        stack.messages("vic", ids[0]).await.len(),
        4,
        "nothing stored"
    );

    // Deleting makes room.
    let path = format!("/api/vic/conversations/{}", ids[1]);
    assert_eq!(stack.delete("vic", &path).await, StatusCode::NO_CONTENT);
    let (status, _) = stack.chat("vic", json!({"message": "Room again"})).await;
    assert_eq!(status, StatusCode::OK);
}
