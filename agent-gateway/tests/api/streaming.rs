//! Streamed chat turns (`Accept: text/event-stream`): the fake model
//! streams its chunks, the gateway relays them as events.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::{Backend, both_backends};

use crate::helpers::{Stack, ok, roles, streamed, text, token, tool_calls};

/// A streamed reply as it arrives.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
    /// Keep-alive comments seen so far.
    comments: usize,
}

/// `POST /api/{user}/chat` asking for a stream.
async fn post_streamed(stack: &Stack, user: &str, body: &Value) -> reqwest::Response {
    stack
        .http
        .post(stack.url(&format!("/api/{user}/chat")))
        .bearer_auth(token(user))
        .header("accept", "text/event-stream")
        .json(body)
        .send()
        .await
        .expect("post")
}

impl EventStream {
    async fn open(stack: &Stack, user: &str, body: Value) -> Self {
        let response = post_streamed(stack, user, &body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header("content-type").as_deref(), Some("text/event-stream"));
        assert_eq!(header("x-accel-buffering").as_deref(), Some("no"));
        assert_eq!(header("cache-control").as_deref(), Some("no-cache"));
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event's data, or None at the end of the stream.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut data = None;
                for line in block.lines() {
                    if let Some(d) = line.strip_prefix("data:") {
                        data = Some(d.trim().to_owned());
                    } else if line.starts_with(':') {
                        self.comments += 1;
                    }
                }
                match data {
                    Some(data) => return Some(serde_json::from_str(&data).expect("JSON data")),
                    None => continue,
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.response.chunk())
                .await
                .expect("the stream stalled")
                .expect("read");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk?));
        }
    }

    async fn all(mut self) -> (Vec<Value>, usize) {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        (events, self.comments)
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

async fn a_streamed_turn_reports_text_and_tool_calls_in_order(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[
            ("a", "add_task", json!({"title": "buy milk"})),
            ("b", "list_tasks", json!({})),
        ])),
        ok(text("I've added “buy milk”. You now have one task.")),
    ]);
    let stream = EventStream::open(
        &stack,
        "alice",
        json!({"message": "Add a task to buy milk"}),
    )
    .await;
    let (events, _) = stream.all().await;
    let kinds = types(&events);
    assert_eq!(
        kinds[..5],
        [
            "conversation",
            "tool_call",
            "tool_call",
            "tool_result",
            "tool_result"
        ],
        "{events:#?}"
    );
    assert!(kinds[5..kinds.len() - 1].iter().all(|k| *k == "text_delta"));
    assert!(kinds.len() - 6 >= 2, "the answer came in several pieces");
    assert_eq!(kinds.last(), Some(&"done"));

    assert_eq!(
        (events[1]["id"].as_str(), events[1]["name"].as_str()),
        (Some("a"), Some("add_task"))
    );
    assert_eq!(events[1]["arguments"], json!({"title": "buy milk"}));
    assert_eq!(events[3]["id"], "a");
    assert_eq!(events[3]["result"]["title"], "buy milk");
    assert_eq!(events[3]["is_error"], false);
    // list_tasks ran concurrently with add_task: it may or may not see it.
    assert_eq!(events[4]["id"], "b");
    assert!(events[4]["result"]["tasks"].is_array(), "{}", events[4]);
    let streamed_text: String = events
        .iter()
        .filter(|e| e["type"] == "text_delta")
        .filter_map(|e| e["text"].as_str())
        .collect();
    let done = events.last().expect("done");
    assert_eq!(
        streamed_text,
        "I've added “buy milk”. You now have one task."
    );
    assert_eq!(done["response"], streamed_text.as_str());
    assert_eq!(done["tool_calls"].as_array().map(Vec::len), Some(2));
    let id = events[0]["conversation_id"].as_i64().expect("id");
    assert_eq!(done["conversation_id"], id);

    // The model was asked to stream, and the turn is stored as a plain one is.
    assert!(stack.model.requests().iter().all(|r| r["stream"] == true));
    let messages = stack.messages("alice", id).await;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[2].raw["id"], done["message_id"]);
    assert_eq!(messages[1].raw["tool_calls"][1]["name"], "list_tasks");
    assert_eq!(messages[2].content.as_deref(), Some(streamed_text.as_str()));
}

both_backends!(a_streamed_turn_reports_text_and_tool_calls_in_order);

/// Gemini's OpenAI-compatible stream: each tool call whole in one chunk, no
/// `index`, a thought signature beside it, and `finish_reason: "stop"`.
#[tokio::test]
async fn a_gemini_style_stream_runs_its_tools_and_keeps_the_signature() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![
        streamed(vec![json!({"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{
            "id": "function-call-7", "type": "function",
            "function": {"name": "add_task", "arguments": "{\"title\":\"water plants\"}"},
            "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}}
        }]}, "finish_reason": "stop"}]})]),
        streamed(vec![
            json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Added “water plants”."}, "finish_reason": "stop"}]}),
        ]),
        ok(text("It's on your list.")),
    ]);
    let stream = EventStream::open(
        &stack,
        "gina",
        json!({"message": "Remind me to water plants"}),
    )
    .await;
    let (events, _) = stream.all().await;
    assert_eq!(
        types(&events),
        [
            "conversation",
            "tool_call",
            "tool_result",
            "text_delta",
            "done"
        ],
        "{events:#?}"
    );
    assert_eq!(events[2]["result"]["title"], "water plants");
    let id = events[0]["conversation_id"].as_i64().expect("id");
    let (status, _) = stack
        .chat(
            "gina",
            json!({"conversation_id": id, "message": "Is it there?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let replayed = stack.model.sent(2);
    let call = replayed
        .iter()
        .find_map(|m| m.raw["tool_calls"].get(0))
        .expect("the tool call in the history");
    assert_eq!(
        call["extra_content"],
        json!({"google": {"thought_signature": "c2lnbmF0dXJl"}})
    );
}

/// A client that goes away mid-reply: the turn still completes and is
/// stored, and the conversation is free for the next message.
#[tokio::test]
async fn a_turn_whose_client_hangs_up_still_completes_and_is_stored() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let mut slow = ok(text("one two three four five six seven eight"));
    slow.chunk_delay = Duration::from_millis(150);
    stack.model.script(vec![
        ok(tool_calls(&[(
            "a",
            "add_task",
            json!({"title": "call mom"}),
        )])),
        slow,
        ok(text("Yes.")),
    ]);
    let mut stream = EventStream::open(&stack, "hank", json!({"message": "Add call mom"})).await;
    let first = stream.next().await.expect("conversation event");
    let id = first["conversation_id"].as_i64().expect("id");
    loop {
        let event = stream.next().await.expect("an event");
        if event["type"] == "text_delta" {
            break;
        }
    }
    drop(stream);

    // The rest of the answer takes about a second to stream; then it is stored.
    let stored = stack.final_answer("hank", id).await;
    assert_eq!(
        stored.content.as_deref(),
        Some("one two three four five six seven eight")
    );
    assert_eq!(stack.tasks("hank").await, [("call mom".to_owned(), false)]);
    // The lease was given back: the next message does not wait.
    let started = std::time::Instant::now();
    let (status, _) = stack
        .chat("hank", json!({"conversation_id": id, "message": "Done?"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_error_mid_stream_is_an_error_event_and_the_message_is_kept() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![streamed(vec![
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Let me "}}]}),
        json!({"error": {"message": "model overloaded", "code": 503}}),
    ])]);
    let stream = EventStream::open(&stack, "ivan", json!({"message": "Show my tasks"})).await;
    let (events, _) = stream.all().await;
    assert_eq!(
        types(&events),
        ["conversation", "text_delta", "error"],
        "{events:#?}"
    );
    let error = events.last().expect("error");
    assert_eq!(error["error"], "llm_unavailable");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("try again"))
    );
    let id = events[0]["conversation_id"].as_i64().expect("id");
    assert_eq!(
        roles(&stack.messages("ivan", id).await),
        ["user"],
        "only the user's message, nothing half-done"
    );
}

/// Failures before the user's message is stored are plain HTTP errors.
#[tokio::test]
async fn errors_before_the_stream_starts_are_plain_json() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![ok(text("hi"))]);
    let (_, body) = stack.chat("judy", json!({"message": "hello"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    for (user, body, expected) in [
        (
            "mallory",
            json!({"conversation_id": id, "message": "hi"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "judy",
            json!({"message": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let response = post_streamed(&stack, user, &body).await;
        assert_eq!(response.status(), expected);
        let json: Value = response.json().await.expect("a JSON error");
        assert!(json["error"].is_string() && json["message"].is_string());
    }
}

/// A quiet stream (the model thinking) carries keep-alive comments.
#[tokio::test]
async fn a_quiet_stream_sends_keep_alive_comments() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[("SSE_KEEPALIVE_SECS", "1"), ("LLM_TIMEOUT_SECS", "10")],
    )
    .await;
    let mut slow = ok(text("Finally."));
    slow.delay = Duration::from_millis(2500);
    stack.model.script(vec![slow]);
    let stream = EventStream::open(&stack, "kim", json!({"message": "Think hard"})).await;
    let (events, comments) = stream.all().await;
    assert_eq!(types(&events).last(), Some(&"done"));
    assert!(comments >= 2, "{comments} keep-alive comments");
}
