//! The model client against a scripted fake OpenAI-compatible server (the one
//! thing the project fakes): retries, timeouts, errors, what is sent.

use std::time::{Duration, Instant};

use serde_json::json;
use todo_gateway::llm::{ChatMessage, LlmClient, LlmConfig, LlmError, ToolDefinition};
use todo_server::Secret;

use crate::helpers::{FakeModel, Reply, ok, status, text};

async fn fake_model(replies: Vec<Reply>) -> (String, FakeModel) {
    let model = FakeModel::start(replies).await;
    (model.url.clone(), model)
}

fn client(base_url: &str) -> LlmClient {
    let mut config = LlmConfig::new(base_url, "test-model");
    config.api_key = Some(Secret::new("sk-test"));
    config.timeout = Duration::from_millis(500);
    config.initial_backoff = Duration::from_millis(20);
    config.max_backoff = Duration::from_secs(2);
    config.max_total_backoff = Duration::from_secs(3);
    LlmClient::new(config).expect("client")
}

#[tokio::test]
async fn sends_the_model_messages_tools_and_key_and_reads_the_answer() {
    let (url, script) = fake_model(vec![ok(text("Hello!"))]).await;
    let tools = [ToolDefinition::function(
        "list_tasks",
        "List tasks",
        json!({"type": "object", "properties": {}}),
    )];
    let completion = client(&url)
        .complete(
            &[ChatMessage::system("sys"), ChatMessage::user("hi")],
            &tools,
        )
        .await
        .expect("answer");
    assert_eq!(completion.message.content.as_deref(), Some("Hello!"));
    assert_eq!(
        (
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens
        ),
        (12, 3)
    );
    assert_eq!(completion.attempts, 1);
    let received = script.received();
    let (headers, body) = &received[0];
    assert_eq!(
        headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some("Bearer sk-test")
    );
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "hi"})
    );
    assert_eq!(body["tools"][0]["function"]["name"], "list_tasks");
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let (url, script) = fake_model(vec![status(500), status(503), ok(text("ok"))]).await;
    let completion = client(&url)
        .complete(&[ChatMessage::user("hi")], &[])
        .await
        .expect("answer");
    assert_eq!(completion.attempts, 3);
    assert_eq!(script.received().len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let mut limited = status(429);
    limited.retry_after = Some("1");
    let (url, _) = fake_model(vec![limited, ok(text("ok"))]).await;
    let started = Instant::now();
    let completion = client(&url)
        .complete(&[ChatMessage::user("hi")], &[])
        .await
        .expect("answer");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(completion.attempts, 2);
}

#[tokio::test]
async fn a_model_that_stays_down_fails_after_bounded_attempts() {
    let (url, script) = fake_model(vec![status(502); 10]).await;
    let error = client(&url)
        .complete(&[ChatMessage::user("hi")], &[])
        .await
        .err();
    assert!(
        matches!(error, Some(LlmError::Status { status: 502, ref message }) if message == "scripted 502"),
        "{error:?}"
    );
    assert_eq!(script.received().len(), 4, "max_attempts");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (url, script) = fake_model(vec![status(400), ok(text("never"))]).await;
    let error = client(&url)
        .complete(&[ChatMessage::user("hi")], &[])
        .await
        .err();
    assert!(
        matches!(error, Some(LlmError::Status { status: 400, .. })),
        "{error:?}"
    );
    assert_eq!(script.received().len(), 1);
}

#[tokio::test]
async fn a_slow_model_is_a_timeout_and_is_not_retried() {
    let mut slow = ok(text("too late"));
    slow.delay = Duration::from_secs(3);
    let (url, script) = fake_model(vec![slow, ok(text("never"))]).await;
    let started = Instant::now();
    let error = client(&url)
        .complete(&[ChatMessage::user("hi")], &[])
        .await
        .err();
    assert!(matches!(error, Some(LlmError::Timeout(_))), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(script.received().len(), 1);
}

#[tokio::test]
async fn an_unreachable_model_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    drop(listener);
    let error = client(&url)
        .complete(&[ChatMessage::user("hi")], &[])
        .await
        .err();
    assert!(matches!(error, Some(LlmError::Unreachable(_))), "{error:?}");
}

#[tokio::test]
async fn tool_call_history_goes_back_as_it_came() {
    let call = json!({
        "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [{
            "id": "abc", "type": "function",
            "function": {"name": "add_task", "arguments": "{\"title\":\"milk\"}"},
            "extra_content": {"google": {"thought_signature": "sig"}}
        }]}, "finish_reason": "tool_calls"}]
    });
    let (url, script) = fake_model(vec![ok(call), ok(text("Added milk."))]).await;
    let model = client(&url);
    let mut history = vec![ChatMessage::user("add milk")];
    let first = model.complete(&history, &[]).await.expect("tool call");
    history.push(first.message.clone());
    history.push(ChatMessage::tool_result(
        "abc",
        r#"{"task_id":1,"status":"created"}"#,
    ));
    let second = model.complete(&history, &[]).await.expect("answer");
    assert_eq!(second.message.content.as_deref(), Some("Added milk."));
    let sent = script.sent(1);
    assert_eq!(
        sent[1].raw["tool_calls"][0]["extra_content"],
        json!({"google": {"thought_signature": "sig"}})
    );
    assert_eq!(
        sent[2].raw,
        json!({"role": "tool", "content": "{\"task_id\":1,\"status\":\"created\"}", "tool_call_id": "abc"})
    );
}
