//! The whole system for end-to-end tests: the real `todo-mcp` and
//! `todo-gateway` binaries on one real database, and the fake model.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use todo_domain::UserId;
use todo_server::Secret;
use todo_server::auth::mint_hs256;
use todo_testkit::{Backend, ServiceProcess, TestDatabase, workspace_binary};
use tokio::task::JoinHandle;

use super::{FakeModel, Shown, shown};

pub const AUTH_SECRET: &str = "better-auth-test-secret-at-least-32-bytes";
pub const MCP_SECRET: &str = "todo-mcp-test-secret-at-least-32-bytes!!";

pub struct Stack {
    pub db: TestDatabase,
    pub mcp: ServiceProcess,
    pub gateway: ServiceProcess,
    pub model: FakeModel,
    pub http: reqwest::Client,
}

pub fn command(binary: &str, db: &TestDatabase) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(workspace_binary(binary));
    cmd.env_clear()
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "info,rmcp=warn")
        .current_dir(std::env::temp_dir());
    cmd
}

impl Stack {
    pub async fn start(backend: Backend, extra: &[(&str, &str)]) -> Self {
        Self::start_with(backend, &[], extra).await
    }

    /// [`Stack::start`] with variables for the task server too.
    pub async fn start_with(
        backend: Backend,
        mcp_extra: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Self {
        let db = TestDatabase::new(backend).await;
        let mcp = start_mcp(&db, mcp_extra).await;
        let model = FakeModel::start(Vec::new()).await;
        let gateway = start_gateway(&db, &mcp, &model, extra).await;
        Self {
            db,
            mcp,
            gateway,
            model,
            http: reqwest::Client::new(),
        }
    }

    /// Another gateway instance on the same database, task server and model.
    pub async fn another_gateway(&self) -> ServiceProcess {
        start_gateway(&self.db, &self.mcp, &self.model, &[]).await
    }

    /// [`Stack::another_gateway`] with variables of its own.
    pub async fn another_gateway_with(&self, extra: &[(&str, &str)]) -> ServiceProcess {
        start_gateway(&self.db, &self.mcp, &self.model, extra).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway.addr)
    }

    pub async fn chat(&self, user: &str, body: Value) -> (StatusCode, Value) {
        self.chat_via(&self.gateway, user, body).await
    }

    /// The whole answer to a chat message (its headers too).
    pub async fn chat_response(&self, user: &str, body: Value) -> reqwest::Response {
        self.chat_request(user, body).send().await.expect("chat")
    }

    /// A chat message sent from a task of its own, for a turn that must run
    /// while the test does something else: its status once it is answered.
    pub fn chat_in_background(&self, user: &str, body: Value) -> JoinHandle<StatusCode> {
        let request = self.chat_request(user, body);
        tokio::spawn(async move { request.send().await.expect("chat").status() })
    }

    fn chat_request(&self, user: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(&format!("/api/{user}/chat")))
            .bearer_auth(token(user))
            .json(&body)
    }

    /// [`Stack::chat`] through the given gateway instance.
    pub async fn chat_via(
        &self,
        gateway: &ServiceProcess,
        user: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("http://{}/api/{user}/chat", gateway.addr))
            .bearer_auth(token(user))
            .json(&body)
            .send()
            .await
            .expect("chat");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, user: &str, path: &str) -> (StatusCode, Value) {
        self.get_via(&self.gateway, user, path).await
    }

    /// [`Stack::get`] through the given gateway instance.
    pub async fn get_via(
        &self,
        gateway: &ServiceProcess,
        user: &str,
        path: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("http://{}{path}", gateway.addr))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("get");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The messages of the user's conversation `id`, as
    /// `GET /api/{user}/conversations/{id}` shows them (its first page).
    pub async fn messages(&self, user: &str, id: i64) -> Vec<Shown> {
        self.messages_via(&self.gateway, user, id).await
    }

    /// [`Stack::messages`] through the given gateway instance.
    pub async fn messages_via(&self, gateway: &ServiceProcess, user: &str, id: i64) -> Vec<Shown> {
        let path = format!("/api/{user}/conversations/{id}");
        let (status, body) = self.get_via(gateway, user, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        shown(&body)
    }

    /// The ids of the user's conversations, most recently active first, as
    /// `GET /api/{user}/conversations` lists them (its first page).
    pub async fn conversation_ids(&self, user: &str) -> Vec<i64> {
        let (status, body) = self.get(user, &format!("/api/{user}/conversations")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["conversations"]
            .as_array()
            .unwrap_or_else(|| panic!("no conversations in {body}"))
            .iter()
            .map(|c| c["id"].as_i64().expect("a conversation id"))
            .collect()
    }

    /// `method` on `path` as `user`, with a JSON body if given: the status
    /// and the JSON answer (null when there is none).
    pub async fn send(
        &self,
        method: reqwest::Method,
        user: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token(user));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// DELETE `path` as `user`.
    pub async fn delete(&self, user: &str, path: &str) -> StatusCode {
        self.http
            .delete(self.url(path))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("delete")
            .status()
    }

    /// The conversation's final answer, once a turn running in the
    /// background (its client gone) has stored it: its last message is an
    /// assistant's without tool calls. Panics after 10 s.
    pub async fn final_answer(&self, user: &str, id: i64) -> Shown {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(last) = self.messages(user, id).await.pop()
                && last.role == "assistant"
                && last.raw["tool_calls"].is_null()
            {
                return last;
            }
            assert!(tokio::time::Instant::now() < deadline, "never stored");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The user's tasks, read straight from the database the task server writes.
    pub async fn tasks(&self, user: &str) -> Vec<(String, bool)> {
        let store = self.db.store().await;
        let user = UserId::parse(user).expect("user");
        let request = todo_domain::task::ListRequest {
            limit: todo_domain::page::Limit::parse(200).expect("limit"),
            ..Default::default()
        };
        let page = todo_domain::task::list(&store, &user, &request)
            .await
            .expect("list");
        store.close().await;
        page.tasks
            .into_iter()
            .map(|t| (t.title, t.completed))
            .collect()
    }
}

/// A `todo-mcp http` on `db`; each `extra` variable is set.
pub async fn start_mcp(db: &TestDatabase, extra: &[(&str, &str)]) -> ServiceProcess {
    start_mcp_at(db, "127.0.0.1:0", extra).await
}

/// [`start_mcp`] listening on `bind` (to restart one where it was).
pub async fn start_mcp_at(db: &TestDatabase, bind: &str, extra: &[(&str, &str)]) -> ServiceProcess {
    let mut mcp = command("todo-mcp", db);
    mcp.env("MCP_JWT_SECRET", MCP_SECRET)
        .args(["http", "--bind", bind]);
    for (k, v) in extra {
        mcp.env(k, v);
    }
    ServiceProcess::spawn(mcp, "todo-mcp")
        .await
        .unwrap_or_else(|l| panic!("todo-mcp:\n{l}"))
}

/// Where a service started with `METRICS_BIND=127.0.0.1:0` serves its
/// metrics (from its "metrics at http://ADDR/metrics" log line).
pub fn metrics_url(service: &ServiceProcess) -> String {
    let logs = service.logs();
    let addr = logs
        .split("metrics at http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no metrics address logged:\n{logs}"));
    format!("http://{addr}/metrics")
}

/// The metrics `service` serves (started with `METRICS_BIND=127.0.0.1:0`).
pub async fn metrics_text(service: &ServiceProcess) -> String {
    reqwest::get(metrics_url(service))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

/// A `todo-gateway serve` using `model`; each `extra` variable is set, or
/// removed when empty.
pub async fn start_gateway(
    db: &TestDatabase,
    mcp: &ServiceProcess,
    model: &FakeModel,
    extra: &[(&str, &str)],
) -> ServiceProcess {
    let with_model = [
        ("LLM_BASE_URL", model.url.as_str()),
        ("LLM_MODEL", "fake-model"),
        ("LLM_TIMEOUT_SECS", "2"),
    ];
    let gateway = gateway_command(db, mcp, &[&with_model[..], extra].concat());
    ServiceProcess::spawn(gateway, "todo-gateway")
        .await
        .unwrap_or_else(|l| panic!("todo-gateway:\n{l}"))
}

/// The command of a `todo-gateway serve` on `db` and `mcp`, with no model
/// configured; each `extra` variable is set, or removed when empty.
pub fn gateway_command(
    db: &TestDatabase,
    mcp: &ServiceProcess,
    extra: &[(&str, &str)],
) -> tokio::process::Command {
    let mut gateway = command("todo-gateway", db);
    gateway
        .env("AUTH_JWT_SECRET", AUTH_SECRET)
        .env("MCP_JWT_SECRET", MCP_SECRET)
        .env("MCP_URL", format!("http://{}/mcp", mcp.addr))
        .args(["serve", "--bind", "127.0.0.1:0"]);
    for (k, v) in extra {
        if v.is_empty() {
            gateway.env_remove(k);
        } else {
            gateway.env(k, v);
        }
    }
    gateway
}

pub fn token(user: &str) -> String {
    mint_hs256(
        &Secret::new(AUTH_SECRET),
        &UserId::parse(user).expect("user"),
        None,
        None,
        Duration::from_secs(600),
    )
    .expect("token")
}
