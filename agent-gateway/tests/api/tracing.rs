//! Request ids and trace context: one id per request, from the gateway's
//! logs to the task server's.

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::{Backend, ServiceProcess};

use crate::helpers::{Stack, ok, text, token, tool_calls};

#[tokio::test]
async fn a_request_id_and_traceparent_reach_the_task_server_logs() {
    // The default log filter (info,rmcp=warn).
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call_1",
            "add_task",
            json!({"title": "trace me"}),
        )])),
        ok(text("Added.")),
        ok(tool_calls(&[("call_2", "list_tasks", json!({}))])),
        ok(text("Listed.")),
    ]);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = stack
        .http
        .post(stack.url("/api/nora/chat"))
        .bearer_auth(token("nora"))
        .header("x-request-id", "req-test-4711")
        .header("traceparent", traceparent)
        .json(&json!({"message": "add trace me"}))
        .send()
        .await
        .expect("chat");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "req-test-4711");

    // At the default level, the gateway logged the turn and todo-mcp the
    // tool call under the request's id.
    let logged = |service: &ServiceProcess, id: &str, what: &[&str]| {
        service
            .logs()
            .lines()
            .any(|l| l.contains(id) && what.iter().all(|w| l.contains(w)))
    };
    assert!(
        logged(&stack.gateway, "req-test-4711", &["turn finished"]),
        "{}",
        stack.gateway.logs()
    );
    assert!(
        logged(&stack.mcp, "req-test-4711", &["tool call", "add_task"]),
        "{}",
        stack.mcp.logs()
    );
    assert!(
        stack
            .mcp
            .logs()
            .lines()
            .any(|l| l.contains("req-test-4711") && l.contains(traceparent)),
        "{}",
        stack.mcp.logs()
    );

    // No id, or one unfit for logs: a fresh one, used all the way through.
    let response = stack
        .http
        .post(stack.url("/api/nora/chat"))
        .bearer_auth(token("nora"))
        .header("x-request-id", "two words")
        .json(&json!({"message": "what is on my list?"}))
        .send()
        .await
        .expect("chat");
    assert_eq!(response.status(), StatusCode::OK);
    let made = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        stack
            .mcp
            .logs()
            .lines()
            .any(|l| l.contains(&made) && l.contains("list_tasks")),
        "{}",
        stack.mcp.logs()
    );
    assert!(!stack.gateway.logs().contains("two words"));
    // Even a refused request answers with its id.
    let refused = stack
        .http
        .get(stack.url("/api/nora/conversations"))
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().contains_key("x-request-id"));
}
