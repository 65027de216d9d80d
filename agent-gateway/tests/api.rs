//! The gateway's HTTP API end to end: the real `todo-gateway` and `todo-mcp`
//! binaries on one real database, and the scripted fake model.

mod common;

use std::time::Duration;

use common::{FakeModel, ok, status, text, tool_calls};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_shared::auth::mint_hs256;
use todo_shared::testing::{Backend, ServiceProcess, TestDatabase, workspace_binary};
use todo_shared::{Secret, Store, StoreOptions, UserId, both_backends};

const AUTH_SECRET: &str = "better-auth-test-secret-at-least-32-bytes";
const MCP_SECRET: &str = "todo-mcp-test-secret-at-least-32-bytes!!";

struct Stack {
    db: TestDatabase,
    mcp: ServiceProcess,
    gateway: ServiceProcess,
    model: FakeModel,
    http: reqwest::Client,
}

fn command(binary: &str, db: &TestDatabase) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(workspace_binary(binary));
    cmd.env_clear()
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "info,rmcp=warn")
        .current_dir(std::env::temp_dir());
    cmd
}

impl Stack {
    async fn start(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let db = TestDatabase::new(backend).await;
        let mut mcp = command("todo-mcp", &db);
        mcp.env("MCP_JWT_SECRET", MCP_SECRET)
            .args(["http", "--bind", "127.0.0.1:0"]);
        let mcp = ServiceProcess::spawn(mcp, "todo-mcp")
            .await
            .unwrap_or_else(|l| panic!("todo-mcp:\n{l}"));
        let model = FakeModel::start(Vec::new()).await;
        let mut gateway = command("todo-gateway", &db);
        gateway
            .env("BETTER_AUTH_SECRET", AUTH_SECRET)
            .env("MCP_JWT_SECRET", MCP_SECRET)
            .env("MCP_URL", format!("http://{}/mcp", mcp.addr))
            .env("LLM_BASE_URL", &model.url)
            .env("LLM_MODEL", "fake-model")
            .env("LLM_TIMEOUT_SECS", "2")
            .args(["serve", "--bind", "127.0.0.1:0"]);
        for (k, v) in extra {
            gateway.env(k, v);
        }
        let gateway = ServiceProcess::spawn(gateway, "todo-gateway")
            .await
            .unwrap_or_else(|l| panic!("todo-gateway:\n{l}"));
        Self {
            db,
            mcp,
            gateway,
            model,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway.addr)
    }

    async fn chat(&self, user: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/{user}/chat")))
            .bearer_auth(token(user))
            .json(&body)
            .send()
            .await
            .expect("chat");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, user: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("get");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The user's tasks, read straight from the database the task server writes.
    async fn tasks(&self, user: &str) -> Vec<(String, bool)> {
        let store = Store::open(&StoreOptions::new(self.db.url()))
            .await
            .expect("open");
        let user = UserId::parse(user).expect("user");
        let limit = todo_shared::task::Limit::parse(200).expect("limit");
        let page = todo_shared::task::list(
            &store,
            &user,
            todo_shared::task::StatusFilter::All,
            limit,
            None,
        )
        .await
        .expect("list");
        store.close().await;
        page.tasks
            .into_iter()
            .map(|t| (t.title, t.completed))
            .collect()
    }
}

fn token(user: &str) -> String {
    mint_hs256(
        &Secret::new(AUTH_SECRET),
        &UserId::parse(user).expect("user"),
        None,
        None,
        Duration::from_secs(600),
    )
    .expect("token")
}

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

both_backends!(
    adding_a_task_runs_the_tool_and_stores_the_whole_turn,
    upstream_failures_keep_the_users_message_and_leave_no_orphans,
);

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
        .http
        .delete(stack.url(&format!("/api/mallory/conversations/{id}")))
        .bearer_auth(token("mallory"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    let mine = stack
        .http
        .delete(stack.url(&format!("/api/alice/conversations/{id}")))
        .bearer_auth(token("alice"))
        .send()
        .await
        .expect("delete");
    assert_eq!(mine.status(), StatusCode::NO_CONTENT);
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
    stack.mcp.child.kill().await.expect("kill");
    let _ = stack.mcp.child.wait().await;
    stack.model.script(vec![ok(text("unused"))]);
    let (status, body) = stack
        .chat("dave", json!({"message": "Show me all my tasks"}))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "tasks_unavailable");
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
