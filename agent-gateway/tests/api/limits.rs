//! The gateway's limits as a whole service: slow clients are cut off, load
//! past the caps is shed with 503 and `Retry-After` (never queued for ever),
//! turns are capped, and model calls wait for a free place.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::Backend;
use todo_testkit::raw_http::{assert_load_is_shed, assert_slow_clients_are_cut_off};

use crate::helpers::stack::metrics_url;
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
    let metrics = reqwest::get(metrics_url(&stack.gateway))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
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
    let first = {
        let (http, url, token) = (
            stack.http.clone(),
            stack.url("/api/olive/chat"),
            crate::helpers::token("olive"),
        );
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"message": "Hello"}))
                .send()
                .await
                .map(|r| r.status())
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let refused = stack
        .http
        .post(stack.url("/api/paul/chat"))
        .bearer_auth(crate::helpers::token("paul"))
        .json(&json!({"message": "Hello"}))
        .send()
        .await
        .expect("send");
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

    assert_eq!(
        first.await.expect("join").expect("first turn"),
        StatusCode::OK
    );
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
