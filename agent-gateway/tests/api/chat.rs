//! Chat turns: the model's tool calls run against the real task server,
//! the turn is stored, and the next turn is given its history.

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::{Backend, both_backends};

use crate::helpers::{Stack, ok, roles, shown, text, tool_calls};

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
    let first = stack.model.sent(0);
    assert_eq!(first[0].role, "system");
    assert_eq!(first.len(), 2);
    assert_eq!(requests[0]["tools"].as_array().map(Vec::len), Some(6));
    assert!(
        !requests[0].to_string().contains("alice"),
        "the user id never reaches the model"
    );
    let second = stack.model.sent(1);
    assert_eq!(second[3].role, "tool");
    assert_eq!(second[3].raw["tool_call_id"], "call-1");

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
    assert_eq!(
        roles(&stack.model.sent(2)),
        ["system", "user", "assistant", "tool", "assistant", "user"]
    );

    let messages = stack.messages("alice", id).await;
    assert_eq!(
        roles(&messages),
        ["user", "assistant", "assistant", "user", "assistant"]
    );
    assert_eq!(
        messages[1].raw["tool_calls"][0]["result"]["title"],
        "Buy groceries"
    );
    let (_, list) = stack.get("alice", "/api/alice/conversations").await;
    assert_eq!(
        list["conversations"][0]["title"],
        "Add a task to buy groceries"
    );
}

both_backends!(adding_a_task_runs_the_tool_and_stores_the_whole_turn);

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
    let sent = stack.model.sent(4);
    assert_eq!(
        roles(&sent),
        ["system", "user", "assistant", "tool", "assistant", "user"],
        "{sent:?}"
    );
    assert_eq!(sent[1].content.as_deref(), Some("Add eggs"));
    assert_eq!(sent[2].raw["tool_calls"][0]["id"], "e");
    assert_eq!(sent[3].raw["tool_call_id"], "e");
    assert_eq!(sent[5].content.as_deref(), Some("What did I add last?"));
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
    for message in stack.model.requests().iter().flat_map(shown) {
        for call in message.raw["tool_calls"].as_array().into_iter().flatten() {
            let arguments = call["function"]["arguments"].as_str().unwrap_or_default();
            assert!(
                !arguments.contains("henry") && !arguments.contains("user"),
                "{arguments}"
            );
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
    let second = stack.model.sent(1);
    let tools: Vec<&str> = second
        .iter()
        .filter(|m| m.role == "tool")
        .filter_map(|m| m.content.as_deref())
        .collect();
    assert_eq!(tools.len(), 2);
    assert_eq!(
        tools[1], "Task 4242 not found",
        "the error reaches the model as it was"
    );
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
    let replayed = stack.model.sent(2);
    let assistant = replayed
        .iter()
        .find(|m| m.raw["tool_calls"].is_array())
        .expect("tool-call message");
    assert_eq!(
        assistant.raw["tool_calls"][0]["extra_content"],
        json!({"google": {"thought_signature": "opaque-signature=="}})
    );
}
