//! The gateway's HTTP API end to end: the real `todo-gateway` and `todo-mcp`
//! binaries on one real database, and the scripted fake model.

mod common;

use std::time::Duration;

use common::stack::{Stack, token};
use common::{ok, status, text, tool_calls};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::both_backends;
use todo_testkit::{Backend, binary_env_vars, readme_table_env_vars};

async fn adding_a_task_runs_the_tool_and_stores_the_whole_turn(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call-1",
            "add_task",
            json!({"title": "Buy groceries"}),
        )])),
        ok(text("I've added “Buy groceries” to your list.")),
    ]);
    let (status, body) = stack
        .chat("alice", json!({"message": "Add a task to buy groceries"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"], "I've added “Buy groceries” to your list.");
    assert_eq!(body["tool_calls"][0]["name"], "add_task");
    assert_eq!(
        body["tool_calls"][0]["arguments"],
        json!({"title": "Buy groceries"})
    );
    assert_eq!(body["tool_calls"][0]["result"]["status"], "created");
    assert_eq!(body["tool_calls"][0]["is_error"], false);
    assert_eq!(
        stack.tasks("alice").await,
        [("Buy groceries".to_owned(), false)]
    );

    // What the model was given: the system prompt, the tools, no user id anywhere.
    let requests = stack.model.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["messages"][0]["role"], "system");
    assert_eq!(requests[0]["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(requests[0]["tools"].as_array().map(Vec::len), Some(5));
    assert!(
        !requests[0].to_string().contains("alice"),
        "the user id never reaches the model"
    );
    assert_eq!(requests[1]["messages"][3]["role"], "tool");
    assert_eq!(requests[1]["messages"][3]["tool_call_id"], "call-1");

    // Stored and replayed: a second turn sees the first.
    let id = body["conversation_id"].as_i64().expect("conversation id");
    stack.model.script(vec![ok(text("You have one task."))]);
    let (status, _) = stack
        .chat(
            "alice",
            json!({"conversation_id": id, "message": "What's pending?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let history = &stack.model.requests()[2]["messages"];
    let roles: Vec<&str> = history
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool", "assistant", "user"]
    );

    let (status, conversation) = stack
        .get("alice", &format!("/api/alice/conversations/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let messages = conversation["messages"].as_array().expect("messages");
    let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(
        roles,
        ["user", "assistant", "assistant", "user", "assistant"]
    );
    assert_eq!(
        messages[1]["tool_calls"][0]["result"]["title"],
        "Buy groceries"
    );
    let (_, list) = stack.get("alice", "/api/alice/conversations").await;
    assert_eq!(
        list["conversations"][0]["title"],
        "Add a task to buy groceries"
    );
}

async fn upstream_failures_keep_the_users_message_and_leave_no_orphans(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    stack
        .model
        .script(vec![status(500), status(500), status(500), status(500)]);
    let (status_code, body) = stack.chat("bob", json!({"message": "Add milk"})).await;
    assert_eq!(status_code, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "llm_unavailable");
    let (_, list) = stack.get("bob", "/api/bob/conversations").await;
    let id = list["conversations"][0]["id"]
        .as_i64()
        .expect("the conversation exists");
    let (_, conversation) = stack
        .get("bob", &format!("/api/bob/conversations/{id}"))
        .await;
    let roles: Vec<&str> = conversation["messages"]
        .as_array()
        .expect("m")
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["user"], "the user's message is kept, nothing else");

    // The same message again, once the model is back: a clean turn.
    stack.model.script(vec![ok(text("Done."))]);
    let (status_code, body) = stack
        .chat("bob", json!({"conversation_id": id, "message": "Add milk"}))
        .await;
    assert_eq!(status_code, StatusCode::OK, "{body}");
}

/// Two gateway instances on one database: a conversation continues on
/// either, and turns on one conversation sent to both at once are serialised.
async fn two_gateways_share_conversations_and_serialise_their_turns(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let other = stack.another_gateway().await;
    stack.model.script(vec![ok(text("first"))]);
    let (_, body) = stack.chat("mia", json!({"message": "start"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    let mut slow_a = ok(text("answer A"));
    slow_a.delay = Duration::from_millis(300);
    let mut slow_b = ok(text("answer B"));
    slow_b.delay = Duration::from_millis(300);
    stack
        .model
        .script(vec![slow_a, slow_b, ok(text("three turns so far"))]);
    let (a, b) = tokio::join!(
        stack.chat("mia", json!({"conversation_id": id, "message": "A"})),
        stack.chat_via(
            &other,
            "mia",
            json!({"conversation_id": id, "message": "B"})
        ),
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{a:?} {b:?}");
    let (status, body) = stack
        .chat_via(
            &other,
            "mia",
            json!({"conversation_id": id, "message": "How many?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let contents = |messages: &Value| -> Vec<String> {
        messages
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["content"].as_str().map(str::to_owned))
            .collect()
    };
    // The last turn, on the second instance, saw everything the first wrote.
    let seen = contents(&stack.model.requests()[3]["messages"]);
    assert_eq!(seen.len(), 1 + 6 + 1, "{seen:?}");
    let (_, conversation) = stack
        .get("mia", &format!("/api/mia/conversations/{id}"))
        .await;
    let stored = contents(&conversation["messages"]);
    assert_eq!(stored.len(), 8, "{stored:?}");
    assert!(
        stored[2..6].chunks(2).all(
            |pair| matches!(pair, [q, r] if (q == "A" || q == "B") && r.starts_with("answer"))
        ),
        "each question is directly followed by its own answer: {stored:?}"
    );
}

both_backends!(
    adding_a_task_runs_the_tool_and_stores_the_whole_turn,
    upstream_failures_keep_the_users_message_and_leave_no_orphans,
    two_gateways_share_conversations_and_serialise_their_turns,
);

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
    let (_, list) = stack.get("olga", "/api/olga/conversations").await;
    let id = list["conversations"][0]["id"].as_i64().expect("kept");
    let (_, conversation) = stack
        .get("olga", &format!("/api/olga/conversations/{id}"))
        .await;
    assert_eq!(conversation["messages"].as_array().map(Vec::len), Some(1));
    assert!(stack.gateway.logs().contains("model call failed"));
}

/// With HISTORY_MESSAGES=5 the window of the third turn would begin at the
/// second turn's last answer; it begins at the second question instead, so
/// the model never sees a tool result or an answer without what led to it.
#[tokio::test]
async fn the_history_window_starts_at_a_question() {
    let stack = Stack::start(Backend::Sqlite, &[("HISTORY_MESSAGES", "5")]).await;
    stack.model.script(vec![
        ok(tool_calls(&[("m", "add_task", json!({"title": "milk"}))])),
        ok(text("Added milk.")),
        ok(tool_calls(&[("e", "add_task", json!({"title": "eggs"}))])),
        ok(text("Added eggs.")),
        ok(text("Eggs, most recently.")),
    ]);
    let (_, body) = stack.chat("pia", json!({"message": "Add milk"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    for message in ["Add eggs", "What did I add last?"] {
        let (status, body) = stack
            .chat("pia", json!({"conversation_id": id, "message": message}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let sent = &stack.model.requests()[4]["messages"];
    let shape: Vec<(String, String)> = sent
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_owned(),
                m["content"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let roles: Vec<&str> = shape.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool", "assistant", "user"],
        "{shape:?}"
    );
    assert_eq!(shape[1].1, "Add eggs");
    assert_eq!(sent[2]["tool_calls"][0]["id"], "e");
    assert_eq!(sent[3]["tool_call_id"], "e");
    assert_eq!(shape[5].1, "What did I add last?");
}

#[tokio::test]
async fn auth_and_ownership_are_enforced() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![ok(text("hello"))]);
    let (_, body) = stack.chat("alice", json!({"message": "hi"})).await;
    let id = body["conversation_id"].as_i64().expect("id");

    let no_token = stack
        .http
        .post(stack.url("/api/alice/chat"))
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .expect("post");
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        no_token
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let bad = stack
        .http
        .get(stack.url("/api/alice/conversations"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let someone_else = stack
        .http
        .get(stack.url("/api/alice/conversations"))
        .bearer_auth(token("mallory"))
        .send()
        .await
        .expect("get");
    assert_eq!(someone_else.status(), StatusCode::FORBIDDEN);

    // Another user's conversation is a 404 on read, chat and delete, like a missing one.
    let (status, _) = stack
        .get("mallory", &format!("/api/mallory/conversations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack
        .chat("mallory", json!({"conversation_id": id, "message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let deleted = stack
        .delete("mallory", &format!("/api/mallory/conversations/{id}"))
        .await;
    assert_eq!(deleted, StatusCode::NOT_FOUND);
    let mine = stack
        .delete("alice", &format!("/api/alice/conversations/{id}"))
        .await;
    assert_eq!(mine, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .get("alice", &format!("/api/alice/conversations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
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
async fn the_step_limit_ends_the_turn_with_a_message() {
    let stack = Stack::start(Backend::Sqlite, &[("MAX_AGENT_STEPS", "2")]).await;
    stack.model.script(vec![
        ok(tool_calls(&[("a", "list_tasks", json!({}))])),
        ok(tool_calls(&[("b", "list_tasks", json!({}))])),
    ]);
    let (status, body) = stack
        .chat("carol", json!({"message": "loop forever"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["response"]
            .as_str()
            .is_some_and(|r| r.contains("more steps")),
        "{body}"
    );
    assert_eq!(body["tool_calls"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_task_server_that_is_down_is_a_503() {
    let mut stack = Stack::start(Backend::Sqlite, &[("TOOL_TIMEOUT_SECS", "2")]).await;
    let ready = stack
        .http
        .get(stack.url("/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK);
    stack.mcp.child.kill().await.expect("kill");
    let _ = stack.mcp.child.wait().await;
    stack.model.script(vec![ok(text("unused"))]);
    let (status, body) = stack
        .chat("dave", json!({"message": "Show me all my tasks"}))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "tasks_unavailable");
    let ready = stack
        .http
        .get(stack.url("/ready"))
        .send()
        .await
        .expect("ready");
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
async fn the_eleventh_chat_in_a_minute_is_rate_limited_for_that_user_only() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack
        .model
        .script((0..11).map(|n| ok(text(&format!("answer {n}")))).collect());
    for n in 0..10 {
        let (status, body) = stack
            .chat("frank", json!({"message": format!("message {n}")}))
            .await;
        assert_eq!(status, StatusCode::OK, "request {n}: {body}");
    }
    let limited = stack
        .http
        .post(stack.url("/api/frank/chat"))
        .bearer_auth(token("frank"))
        .json(&json!({"message": "one too many"}))
        .send()
        .await
        .expect("post");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    assert!(limited.headers().contains_key("x-ratelimit-after"));
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");
    // Reads have their own budget, and other users are not affected.
    let (status, _) = stack.get("frank", "/api/frank/conversations").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.chat("grace", json!({"message": "hello"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stack.gateway.logs().contains("rate limit exceeded"));
}

/// The commands of the original system, each checked against the task
/// server's database.
#[tokio::test]
async fn the_original_commands_change_the_real_task_list() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let say = |message: &'static str| {
        let stack = &stack;
        async move {
            let (status, body) = stack.chat("henry", json!({"message": message})).await;
            assert_eq!(status, StatusCode::OK, "{message}: {body}");
            body
        }
    };
    stack.model.script(vec![
        ok(tool_calls(&[(
            "1",
            "add_task",
            json!({"title": "Buy groceries"}),
        )])),
        ok(text("Added “Buy groceries”.")),
        ok(tool_calls(&[(
            "2",
            "add_task",
            json!({"title": "Team meeting"}),
        )])),
        ok(text("Added “Team meeting”.")),
        ok(tool_calls(&[(
            "3",
            "add_task",
            json!({"title": "Pay bills"}),
        )])),
        ok(text("Added “Pay bills”.")),
    ]);
    say("Add a task to buy groceries").await;
    say("Add the team meeting").await;
    say("I need to remember to pay bills").await;
    assert_eq!(stack.tasks("henry").await.len(), 3);

    stack.model.script(vec![
        ok(tool_calls(&[("4", "list_tasks", json!({}))])),
        ok(text("You have three tasks.")),
    ]);
    let all = say("Show me all my tasks").await;
    assert_eq!(
        all["tool_calls"][0]["result"]["tasks"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let ids: Vec<i64> = all["tool_calls"][0]["result"]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .collect();
    let (pay, meeting, groceries) = (ids[0], ids[1], ids[2]);

    stack.model.script(vec![
        ok(tool_calls(&[(
            "5",
            "complete_task",
            json!({"task_id": groceries}),
        )])),
        ok(text("Marked it complete.")),
        ok(tool_calls(&[(
            "6",
            "list_tasks",
            json!({"status": "pending"}),
        )])),
        ok(text("Two are pending.")),
        // "Delete the meeting task": list first, then delete by the id found.
        ok(tool_calls(&[("7", "list_tasks", json!({}))])),
        ok(tool_calls(&[(
            "8",
            "delete_task",
            json!({"task_id": meeting}),
        )])),
        ok(text("Deleted “Team meeting”.")),
        ok(tool_calls(&[(
            "9",
            "update_task",
            json!({"task_id": pay, "title": "Call mom tonight"}),
        )])),
        ok(text("Renamed it.")),
        ok(tool_calls(&[(
            "10",
            "list_tasks",
            json!({"status": "completed"}),
        )])),
        ok(text("You completed one task.")),
    ]);
    say("Mark task 3 as complete").await;
    let pending = say("What's pending?").await;
    assert_eq!(
        pending["tool_calls"][0]["result"]["tasks"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let deleted = say("Delete the meeting task").await;
    let names: Vec<&str> = deleted["tool_calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["list_tasks", "delete_task"]);
    say("Change task 1 to 'Call mom tonight'").await;
    let completed = say("What have I completed?").await;
    assert_eq!(
        completed["tool_calls"][0]["result"]["tasks"][0]["title"],
        "Buy groceries"
    );

    let mut tasks = stack.tasks("henry").await;
    tasks.sort();
    assert_eq!(
        tasks,
        [
            ("Buy groceries".to_owned(), true),
            ("Call mom tonight".to_owned(), false)
        ]
    );
    for request in stack.model.requests() {
        for message in request["messages"].as_array().expect("messages") {
            for call in message["tool_calls"].as_array().into_iter().flatten() {
                let arguments = call["function"]["arguments"].as_str().unwrap_or_default();
                assert!(
                    !arguments.contains("henry") && !arguments.contains("user"),
                    "{arguments}"
                );
            }
        }
    }
}

#[tokio::test]
async fn two_tool_calls_in_one_step_and_a_tool_error_relayed() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[
            ("a", "add_task", json!({"title": "First"})),
            ("b", "complete_task", json!({"task_id": 4242})),
        ])),
        ok(text("Added “First”, but I couldn't find task 4242.")),
    ]);
    let (status, body) = stack
        .chat("ivy", json!({"message": "Add First and complete 4242"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let calls = body["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["is_error"], false);
    assert_eq!(
        (calls[1]["is_error"].as_bool(), calls[1]["result"].as_str()),
        (Some(true), Some("Task 4242 not found"))
    );
    let second = &stack.model.requests()[1]["messages"];
    let tools: Vec<&str> = second
        .as_array()
        .expect("m")
        .iter()
        .filter(|m| m["role"] == "tool")
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(tools.len(), 2);
    assert_eq!(
        tools[1], "Task 4242 not found",
        "the error reaches the model as it was"
    );
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

#[tokio::test]
async fn gemini_thought_signatures_survive_storage_and_go_back_unchanged() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let call = json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [{
        "id": "function-call-1", "type": "function",
        "function": {"name": "list_tasks", "arguments": "{}"},
        "extra_content": {"google": {"thought_signature": "opaque-signature=="}}
    }]}, "finish_reason": "tool_calls"}]});
    stack.model.script(vec![
        ok(call),
        ok(text("Nothing yet.")),
        ok(text("Still nothing.")),
    ]);
    let (_, body) = stack
        .chat("kate", json!({"message": "Show my tasks"}))
        .await;
    let id = body["conversation_id"].as_i64().expect("id");
    let (status, _) = stack
        .chat(
            "kate",
            json!({"conversation_id": id, "message": "And now?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let replayed = &stack.model.requests()[2]["messages"];
    let assistant = replayed
        .as_array()
        .expect("m")
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .expect("tool-call message");
    assert_eq!(
        assistant["tool_calls"][0]["extra_content"],
        json!({"google": {"thought_signature": "opaque-signature=="}})
    );
}

#[tokio::test]
async fn concurrent_turns_on_one_conversation_are_serialised() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![ok(text("first"))]);
    let (_, body) = stack.chat("liam", json!({"message": "start"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    // Two slow answers: if the turns interleaved, a history would miss a message.
    let mut slow_a = ok(text("answer A"));
    slow_a.delay = Duration::from_millis(300);
    let mut slow_b = ok(text("answer B"));
    slow_b.delay = Duration::from_millis(300);
    stack.model.script(vec![slow_a, slow_b]);
    let (a, b) = tokio::join!(
        stack.chat("liam", json!({"conversation_id": id, "message": "A"})),
        stack.chat("liam", json!({"conversation_id": id, "message": "B"})),
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    let (_, conversation) = stack
        .get("liam", &format!("/api/liam/conversations/{id}"))
        .await;
    let contents: Vec<&str> = conversation["messages"]
        .as_array()
        .expect("m")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents.len(), 6);
    // Each user message is directly followed by its own answer.
    assert!(
        contents[2..].chunks(2).all(
            |pair| matches!(pair, [q, r] if (q == &"A" || q == &"B") && r.starts_with("answer"))
        ),
        "{contents:?}"
    );
    // The second turn's model saw the whole first turn.
    let second = &stack.model.requests()[2]["messages"];
    assert_eq!(
        second.as_array().map(Vec::len),
        Some(1 + 5),
        "system + start, first, A|B, answer, B|A"
    );
}

/// Better Auth's setup: EdDSA tokens, keys at {BETTER_AUTH_URL}/api/auth/jwks,
/// `iss` and `aud` = BETTER_AUTH_URL; no HS256 secret.
#[tokio::test]
async fn better_auth_tokens_are_verified_strictly() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use todo_testkit::fixture;

    // The identity provider: serves the test keys.
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).expect("jwks"))
            .expect("json");
    let app = axum::Router::new().route(
        "/api/auth/jwks",
        axum::routing::get(move || std::future::ready(axum::Json(jwks.clone()))),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let auth_url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let stack = Stack::start(
        Backend::Sqlite,
        &[("BETTER_AUTH_URL", &auth_url), ("BETTER_AUTH_SECRET", "")],
    )
    .await;
    let ed = EncodingKey::from_ed_pem(&std::fs::read(fixture("ed25519.pem")).expect("pem"))
        .expect("key");
    let sign = |alg: Algorithm, key: &EncodingKey, kid: &str, claims: Value| {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).expect("sign")
    };
    let now = chrono::Utc::now().timestamp();
    let claims = |sub: &str, iss: &str, aud: &str, exp: i64| json!({"sub": sub, "iss": iss, "aud": aud, "exp": exp, "iat": now});
    let get = |token: String| {
        let request = stack
            .http
            .get(stack.url("/api/nina/conversations"))
            .bearer_auth(token);
        async move { request.send().await.expect("get").status() }
    };

    let good = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", &auth_url, &auth_url, now + 900),
    );
    assert_eq!(get(good.clone()).await, StatusCode::OK);
    let expired = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", &auth_url, &auth_url, now - 600),
    );
    let wrong_issuer = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", "http://evil.example", &auth_url, now + 900),
    );
    let wrong_audience = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", &auth_url, "another-app", now + 900),
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("nina", &auth_url, &auth_url, now + 900).to_string())
    );
    let public_pem = std::fs::read(fixture("rsa_public.pem")).expect("pem");
    let hs_with_public_key = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public_pem),
        "rsa-1",
        claims("nina", &auth_url, &auth_url, now + 900),
    );
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        parts[1] =
            URL_SAFE_NO_PAD.encode(claims("admin", &auth_url, &auth_url, now + 900).to_string());
        parts.join(".")
    };
    for (case, token) in [
        ("expired", expired),
        ("wrong issuer", wrong_issuer),
        ("wrong audience", wrong_audience),
        ("alg none", alg_none),
        ("HS256 with the public key", hs_with_public_key),
        ("tampered", tampered),
        ("malformed", "abc.def".to_owned()),
    ] {
        assert_eq!(get(token).await, StatusCode::UNAUTHORIZED, "{case}");
    }
    // A valid token for someone else: 403.
    let other = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("oscar", &auth_url, &auth_url, now + 900),
    );
    assert_eq!(get(other).await, StatusCode::FORBIDDEN);
    let logs = stack.gateway.logs();
    for reason in [
        "expired",
        "wrong_issuer",
        "wrong_audience",
        "unsupported_algorithm",
        "invalid_signature",
        "user_mismatch",
    ] {
        assert!(logs.contains(reason), "no {reason} in the logs");
    }
    assert!(!logs.contains(&good), "tokens never reach the logs");
}

/// The README's gateway configuration table and `--help` name the same variables.
#[tokio::test]
async fn the_readme_gateway_table_matches_help() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README");
    let table = readme_table_env_vars(&readme, "### Gateway configuration", "##");
    let from_help = binary_env_vars("todo-gateway", &["", "serve"]).await;
    assert_eq!(table, from_help, "README gateway table vs --help");
}

/// Pages of conversations and of messages; a page never splits a step, and a
/// model that reuses call ids from turn to turn gets each result shown with
/// its own call.
#[tokio::test]
async fn conversations_and_messages_come_in_pages() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[
            ("call_0", "add_task", json!({"title": "a"})),
            ("call_1", "add_task", json!({"title": "b"})),
        ])),
        ok(text("Added a and b.")),
        ok(tool_calls(&[(
            "call_0",
            "complete_task",
            json!({"task_id": 1}),
        )])),
        ok(text("Completed a.")),
        ok(text("second")),
        ok(text("third")),
    ]);
    let (_, body) = stack.chat("quinn", json!({"message": "Add a and b"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    let (status, _) = stack
        .chat(
            "quinn",
            json!({"conversation_id": id, "message": "Complete a"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut shown = Vec::new();
    let mut after = None::<i64>;
    let mut pages = 0;
    loop {
        let query = match after {
            Some(a) => format!("?limit=2&after={a}"),
            None => "?limit=2".to_owned(),
        };
        let (status, page) = stack
            .get("quinn", &format!("/api/quinn/conversations/{id}{query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        shown.extend(page["messages"].as_array().expect("messages").clone());
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 10, "pages never end");
    }
    let contents: Vec<&str> = shown
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("(calls)"))
        .collect();
    assert_eq!(
        contents,
        [
            "Add a and b",
            "(calls)",
            "Added a and b.",
            "Complete a",
            "(calls)",
            "Completed a."
        ]
    );
    let first_step = shown[1]["tool_calls"].as_array().expect("calls");
    assert_eq!(
        first_step.len(),
        2,
        "the page was not split inside the step"
    );
    assert_eq!(first_step[1]["result"]["title"], "b");
    let second_step = &shown[4]["tool_calls"][0];
    assert_eq!(second_step["name"], "complete_task");
    assert_eq!(
        second_step["result"]["completed"], true,
        "call_0 of the second turn shows its own result: {second_step}"
    );

    for message in ["another", "and another"] {
        let (status, _) = stack.chat("quinn", json!({"message": message})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, first) = stack.get("quinn", "/api/quinn/conversations?limit=2").await;
    let titles: Vec<&str> = first["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert_eq!(titles, ["and another", "another"], "newest first");
    let next = first["next_after"].as_i64().expect("a next page");
    let (_, second) = stack
        .get(
            "quinn",
            &format!("/api/quinn/conversations?limit=2&after={next}"),
        )
        .await;
    assert_eq!(second["conversations"][0]["title"], "Add a and b");
    assert_eq!(second["conversations"].as_array().map(Vec::len), Some(1));
    assert!(second["next_after"].is_null());
    let (status, body) = stack.get("quinn", "/api/quinn/conversations?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// A client that hangs up on a plain (not streamed) chat request: the turn
/// still completes, is stored, and gives its lease back at once (it used to
/// be dropped half-way, its lease left taken until it expired).
#[tokio::test]
async fn a_plain_turn_whose_client_hangs_up_still_completes() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let mut slow = ok(text("Added “call the bank”."));
    slow.delay = Duration::from_millis(1500);
    stack.model.script(vec![
        ok(tool_calls(&[(
            "1",
            "add_task",
            json!({"title": "call the bank"}),
        )])),
        slow,
        ok(text("Yes, it's there.")),
    ]);
    let hung_up = stack
        .http
        .post(stack.url("/api/rosa/chat"))
        .bearer_auth(token("rosa"))
        .timeout(Duration::from_millis(500))
        .json(&json!({"message": "Add call the bank"}))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client gave up before the answer");

    // The conversation appears (the user's message is stored first), then
    // its answer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let id = loop {
        let (_, list) = stack.get("rosa", "/api/rosa/conversations").await;
        if let Some(id) = list["conversations"][0]["id"].as_i64() {
            break id;
        }
        assert!(tokio::time::Instant::now() < deadline, "never stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let answer = stack.final_answer("rosa", id).await;
    assert_eq!(answer["content"], "Added “call the bank”.");
    assert_eq!(
        stack.tasks("rosa").await,
        [("call the bank".to_owned(), false)]
    );
    let started = std::time::Instant::now();
    let (status, body) = stack
        .chat(
            "rosa",
            json!({"conversation_id": id, "message": "Is it there?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the lease was given back"
    );
}
