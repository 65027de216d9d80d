//! Failures and refusals: a model that is down, slow or unreachable, a task
//! server that is down, and bad input; none leaves a half-stored turn.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::{Backend, both_backends};

use crate::helpers::{Stack, ok, roles, status, text, token};

async fn upstream_failures_keep_the_users_message_and_leave_no_orphans(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    stack
        .model
        .script(vec![status(500), status(500), status(500), status(500)]);
    let (status_code, body) = stack.chat("bob", json!({"message": "Add milk"})).await;
    assert_eq!(status_code, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "llm_unavailable");
    let id = *stack
        .conversation_ids("bob")
        .await
        .first()
        .expect("the conversation exists");
    assert_eq!(
        roles(&stack.messages("bob", id).await),
        ["user"],
        "the user's message is kept, nothing else"
    );

    // The same message again, once the model is back: a clean turn.
    stack.model.script(vec![ok(text("Done."))]);
    let (status_code, body) = stack
        .chat("bob", json!({"conversation_id": id, "message": "Add milk"}))
        .await;
    assert_eq!(status_code, StatusCode::OK, "{body}");
}

both_backends!(upstream_failures_keep_the_users_message_and_leave_no_orphans);

#[tokio::test]
async fn a_model_that_cannot_be_reached_is_a_502_and_keeps_the_message() {
    // Nothing listens on port 1 of the loopback.
    let stack = Stack::start(
        Backend::Sqlite,
        &[("LLM_BASE_URL", "http://127.0.0.1:1/v1")],
    )
    .await;
    let (status, body) = stack.chat("olga", json!({"message": "Add milk"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "llm_unavailable");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("try again")),
        "{body}"
    );
    let id = *stack.conversation_ids("olga").await.first().expect("kept");
    assert_eq!(stack.messages("olga", id).await.len(), 1);
    assert!(stack.gateway.logs().contains("model call failed"));
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let cases = [
        (
            json!({"message": "   "}).to_string(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"message": "x".repeat(10_001)}).to_string(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"message": "hi", "conversation_id": "seven"}).to_string(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"message": "hi", "conversation_id": -1}).to_string(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "{not json".to_owned(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"message": "hi"}).to_string(),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            format!("{{\"message\":\"{}\"}}", "x".repeat(100_000)),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (body, content_type, expected) in cases {
        let response = stack
            .http
            .post(stack.url("/api/alice/chat"))
            .bearer_auth(token("alice"))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .expect("post");
        let status = response.status();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(
            status,
            expected,
            "{}: {json}",
            body.chars().take(60).collect::<String>()
        );
        assert!(
            json["error"].is_string() && json["message"].is_string(),
            "{json}"
        );
    }
    let (status, _) = stack.get("alice", "/api/alice/conversations/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        stack.model.requests().is_empty(),
        "nothing reached the model"
    );
}

#[tokio::test]
async fn a_task_server_that_is_down_is_a_503() {
    let mut stack = Stack::start(Backend::Sqlite, &[("TOOL_TIMEOUT_SECS", "2")]).await;
    let ready = stack.http.get(stack.url("/ready"));
    let probe = || async {
        ready
            .try_clone()
            .expect("a GET")
            .send()
            .await
            .expect("ready")
    };
    assert_eq!(probe().await.status(), StatusCode::OK);
    stack.mcp.child.kill().await.expect("kill");
    let _ = stack.mcp.child.wait().await;
    stack.model.script(vec![ok(text("unused"))]);
    let (status, body) = stack
        .chat("dave", json!({"message": "Show me all my tasks"}))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "tasks_unavailable");
    // The last answer is reused for 2 s: the next check finds it down.
    let mut ready = probe().await;
    for _ in 0..30 {
        if ready.status() == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        ready = probe().await;
    }
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(
        (ready["database"].as_str(), ready["tasks"].as_str()),
        (Some("ok"), Some("unavailable"))
    );
}

#[tokio::test]
async fn a_slow_model_is_a_504() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let mut slow = ok(text("too late"));
    slow.delay = Duration::from_secs(4);
    stack.model.script(vec![slow]);
    let (status, body) = stack.chat("erin", json!({"message": "hello"})).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["error"], "llm_timeout");
}

#[tokio::test]
async fn a_model_500_then_success_is_one_good_turn() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack
        .model
        .script(vec![status(500), ok(text("Here I am."))]);
    let (status_code, body) = stack.chat("jack", json!({"message": "hello?"})).await;
    assert_eq!(status_code, StatusCode::OK, "{body}");
    assert_eq!(body["response"], "Here I am.");
    assert_eq!(stack.model.requests().len(), 2);
}
