//! How much work one chat message can start: tool calls per model step,
//! bytes of a tool result, bytes of a prompt, and the turn's deadline. Each
//! bound cuts the work, says so, and stores a consistent conversation.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::Backend;

use crate::helpers::stack::metrics_text;
use crate::helpers::{Reply, Stack, ok, retry_after, roles, text, tool_calls};

fn adds(count: usize) -> Value {
    let calls: Vec<(String, Value)> = (0..count)
        .map(|i| (format!("call-{i}"), json!({"title": format!("Task {i}")})))
        .collect();
    let calls: Vec<(&str, &str, Value)> = calls
        .iter()
        .map(|(id, args)| (id.as_str(), "add_task", args.clone()))
        .collect();
    tool_calls(&calls)
}

#[tokio::test]
async fn one_step_runs_at_most_the_bound_of_tool_calls() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack
        .model
        .script(vec![ok(adds(40)), ok(text("Added what I could."))]);
    let (status, body) = stack.chat("ivan", json!({"message": "Add 40 tasks"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stack.tasks("ivan").await.len(), 16, "the default bound");

    // Every call has its answer: the spare ones an error naming the bound.
    let calls = body["tool_calls"].as_array().expect("tool calls");
    assert_eq!(calls.len(), 40);
    assert!(calls[..16].iter().all(|c| c["is_error"] == false));
    assert!(calls[16..].iter().all(|c| {
        c["is_error"] == true
            && c["result"]
                .as_str()
                .is_some_and(|r| r.contains("at most 16 tool calls"))
    }));
    let sent = stack.model.sent(1);
    assert_eq!(sent.iter().filter(|m| m.role == "tool").count(), 40);
    let id = body["conversation_id"].as_i64().expect("id");
    assert_eq!(
        roles(&stack.messages("ivan", id).await),
        ["user", "assistant", "assistant"]
    );
}

#[tokio::test]
async fn a_long_tool_result_is_cut_with_a_note_before_the_model_and_the_store() {
    let stack = Stack::start(Backend::Sqlite, &[("MAX_TOOL_RESULT_BYTES", "600")]).await;
    let description = "d".repeat(300);
    let many: Vec<Value> = (0..5)
        .map(|i| json!({"title": format!("Task {i}"), "description": description}))
        .collect();
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call-add",
            "add_tasks",
            json!({"tasks": many}),
        )])),
        ok(tool_calls(&[("call-list", "list_tasks", json!({}))])),
        ok(text("Here they are.")),
    ]);
    let (status, body) = stack.chat("judy", json!({"message": "Add and list"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        stack.tasks("judy").await.len(),
        5,
        "the calls themselves ran"
    );

    let listed = stack
        .model
        .sent(2)
        .into_iter()
        .find(|m| m.raw["tool_call_id"] == "call-list")
        .and_then(|m| m.content)
        .expect("the list's result reached the model");
    let (kept, note) = listed
        .split_once("\n[cut: this result was ")
        .expect("a note");
    assert_eq!(kept.len(), 600, "{listed}");
    assert!(note.contains("only the first 600 are shown"), "{note}");
    let reported = body["tool_calls"][1]["result"].as_str().expect("cut text");
    assert_eq!(reported, listed, "the API reports what the model read");

    let id = body["conversation_id"].as_i64().expect("id");
    let stored = stack.messages("judy", id).await;
    let stored_result = &stored[2].raw["tool_calls"][0]["result"];
    assert!(
        stored_result.to_string().len() < 1_000,
        "stored cut: {stored_result}"
    );
}

#[tokio::test]
async fn the_prompt_holds_as_much_history_as_fits_in_its_bytes() {
    let stack = Stack::start(Backend::Sqlite, &[("MAX_PROMPT_BYTES", "6000")]).await;
    stack.model.react();
    let long = "w".repeat(1_500);
    let (status, body) = stack.chat("kate", json!({"message": long})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["conversation_id"].as_i64().expect("id");
    for _ in 0..3 {
        let (status, body) = stack
            .chat("kate", json!({"conversation_id": id, "message": long}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let last = stack.model.requests().len() - 1;
    let sent = stack.model.sent(last);
    let bytes: usize = sent
        .iter()
        .map(|m| m.content.as_deref().map_or(0, str::len))
        .sum();
    assert!(bytes <= 6_000, "{bytes} bytes sent");
    assert_eq!(sent.last().map(|m| m.role.as_str()), Some("user"));
    assert!(
        sent.iter().filter(|m| m.role == "user").count() < 4,
        "older messages were left out"
    );
    assert_eq!(sent[1].role, "user", "the window starts at a user message");
}

#[tokio::test]
async fn tool_calls_that_outgrow_the_prompt_end_the_turn_saying_so() {
    let stack = Stack::start(Backend::Sqlite, &[("MAX_PROMPT_BYTES", "3000")]).await;
    let many: Vec<Value> = (0..8)
        .map(|i| json!({"title": format!("Task {i}"), "description": "d".repeat(300)}))
        .collect();
    stack.model.script(vec![ok(tool_calls(&[(
        "a",
        "add_tasks",
        json!({"tasks": many}),
    )]))]);
    let (status, body) = stack.chat("liam", json!({"message": "Add them"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["response"]
            .as_str()
            .is_some_and(|r| r.contains("grew larger than I can read")),
        "{body}"
    );
    assert_eq!(stack.model.requests().len(), 1, "no second model call");
    assert_eq!(
        stack.tasks("liam").await.len(),
        8,
        "the step that ran is kept"
    );
    let id = body["conversation_id"].as_i64().expect("id");
    assert_eq!(
        roles(&stack.messages("liam", id).await),
        ["user", "assistant", "assistant"]
    );
}

#[tokio::test]
async fn a_turn_stops_at_its_deadline_and_stores_why() {
    let stack = Stack::start(Backend::Sqlite, &[("TURN_TIMEOUT_SECS", "1")]).await;
    stack.model.script(vec![Reply {
        delay: Duration::from_secs(5),
        ..ok(text("Too late."))
    }]);
    let started = Instant::now();
    let (status, body) = stack.chat("mona", json!({"message": "Hello"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        body["response"]
            .as_str()
            .is_some_and(|r| r.contains("longer than the 1 s")),
        "{body}"
    );
    let id = body["conversation_id"].as_i64().expect("id");
    assert_eq!(
        roles(&stack.messages("mona", id).await),
        ["user", "assistant"]
    );

    // The conversation is free again at once.
    stack.model.script(vec![ok(text("Hi again."))]);
    let (status, body) = stack
        .chat("mona", json!({"conversation_id": id, "message": "Hello?"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"], "Hi again.");
}

/// A model answer that reports `prompt` tokens used.
fn with_usage(mut answer: Value, prompt: u64) -> Value {
    answer["usage"] = json!({"prompt_tokens": prompt, "completion_tokens": 0});
    answer
}

#[tokio::test]
async fn the_daily_token_budget_stops_turns_and_then_refuses_them() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("DAILY_TOKEN_BUDGET", "20"),
            ("METRICS_BIND", "127.0.0.1:0"),
        ],
    )
    .await;
    // 25 tokens in the first step: the turn stops before its next model call.
    stack.model.script(vec![
        ok(with_usage(
            tool_calls(&[("c1", "add_task", json!({"title": "Spent"}))]),
            25,
        )),
        ok(text("Never asked.")),
    ]);
    let (status, body) = stack.chat("nils", json!({"message": "Add Spent"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["response"]
            .as_str()
            .is_some_and(|r| r.contains("today's budget")),
        "{body}"
    );
    assert_eq!(stack.model.requests().len(), 1);
    let conversations = stack.conversation_ids("nils").await;

    // Spent: the next message is refused before anything is stored.
    let response = stack
        .chat_response("nils", json!({"message": "More"}))
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&response);
    assert!((1..=86_400).contains(&wait), "{wait}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "budget_exhausted", "{body}");
    assert_eq!(stack.conversation_ids("nils").await, conversations);
    assert_eq!(stack.model.requests().len(), 1, "no model call");

    // Another user has a budget of their own; the refusal is counted.
    stack.model.script(vec![ok(text("Hello."))]);
    let (status, _) = stack.chat("olaf", json!({"message": "Hi"})).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics_text(&stack.gateway).await;
    assert!(
        metrics.contains(r#"todo_rate_limited_total{limit="token_budget"} 1"#),
        "{metrics}"
    );
}
