//! Start the real `todo-mcp` binary and talk to it with real clients.

use std::process::Stdio;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rmcp::model::{CallToolRequestParams, CallToolResult, ProtocolVersion};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientLifecycleMode, ClientServiceExt as _, ServiceExt as _};
use serde_json::{Value, json};
use todo_testkit::{Backend, ServiceProcess, TestDatabase};

use tokio::process::Command;

pub type Client = RunningService<RoleClient, ()>;

pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
pub const BIN: &str = env!("CARGO_BIN_EXE_todo-mcp");

pub use todo_testkit::fixture;

/// A command for the real binary with a clean environment: nothing of the
/// developer's shell (DATABASE_URL, a .env file) leaks in.
pub fn command(db_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "info,rmcp=warn")
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true);
    cmd
}

/// A running `todo-mcp http`.
pub struct HttpServer {
    pub process: ServiceProcess,
}

impl HttpServer {
    /// `todo-mcp http` with the HS256 secret and the given extra arguments.
    pub async fn start(db: &TestDatabase, extra_args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::try_start(db, extra_args, envs)
            .await
            .unwrap_or_else(|logs| panic!("server did not start:\n{logs}"))
    }

    pub async fn try_start(
        db: &TestDatabase,
        extra_args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<Self, String> {
        let mut cmd = command(db.url());
        cmd.arg("http")
            .arg("--bind")
            .arg("127.0.0.1:0")
            .args(extra_args);
        if !envs.iter().any(|(k, _)| *k == "MCP_JWT_SECRET") {
            cmd.env("MCP_JWT_SECRET", SECRET);
        }
        // An empty value means "leave this variable unset".
        for (k, v) in envs.iter().filter(|(_, v)| !v.is_empty()) {
            cmd.env(k, v);
        }
        let process = ServiceProcess::spawn(cmd, "todo-mcp").await?;
        Ok(Self { process })
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.process.addr)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.process.addr)
    }

    pub fn logs(&self) -> String {
        self.process.logs()
    }

    pub fn child(&mut self) -> &mut tokio::process::Child {
        &mut self.process.child
    }

    /// An rmcp client of the current revision (2026-07-28, no handshake).
    pub async fn client(&self, token: &str) -> Client {
        self.client_with(
            token,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
    }

    /// An rmcp client of the 2025-11-25 era (initialize handshake).
    pub async fn legacy_client(&self, token: &str) -> Client {
        self.client_with(token, ClientLifecycleMode::Initialize)
            .await
    }

    async fn client_with(&self, token: &str, mode: ClientLifecycleMode) -> Client {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(self.url()).auth_header(token),
        );
        ().serve_with_lifecycle(transport, mode)
            .await
            .expect("MCP client connects")
    }
}

/// `todo-mcp` over stdio for `user`, driven by rmcp's child-process client.
pub async fn stdio_client(db: &TestDatabase, user: &str) -> Client {
    let mut cmd = command(db.url());
    cmd.arg("--user").arg(user);
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn todo-mcp over stdio");
    ().serve(transport).await.expect("stdio client initializes")
}

pub async fn database(backend: Backend) -> TestDatabase {
    TestDatabase::new(backend).await
}

/// An HS256 token for `user` with the server's default audience.
pub fn token(user: &str) -> String {
    hs256(json!({"sub": user, "aud": "todo-mcp", "exp": now() + 3600}))
}

pub fn hs256(claims: Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        None,
        &claims,
    )
}

pub fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(Into::into);
    jsonwebtoken::encode(&header, claims, key).expect("sign token")
}

/// GET a URL and decode its JSON body.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON body")
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn args(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("arguments must be an object, got {other}"),
    }
}

/// Call a tool; protocol errors fail the test.
pub async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    try_call(client, tool, arguments)
        .await
        .expect("tools/call succeeds at the protocol level")
}

pub async fn try_call(
    client: &Client,
    tool: &str,
    arguments: Value,
) -> Result<CallToolResult, rmcp::ServiceError> {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if !arguments.is_null() {
        params = params.with_arguments(args(arguments));
    }
    client.call_tool(params).await
}

/// The structured result of a successful call, checked against its text twin.
pub fn ok(result: CallToolResult) -> Value {
    assert_eq!(
        result.is_error,
        Some(false),
        "expected success, got {result:?}"
    );
    let structured = result
        .structured_content
        .clone()
        .expect("structuredContent");
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .expect("text content");
    let from_text: Value = serde_json::from_str(&text).expect("text content is JSON");
    assert_eq!(
        from_text, structured,
        "text content mirrors structuredContent"
    );
    structured
}

/// The message of a tool error.
pub fn tool_error(result: CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a tool error, got {result:?}"
    );
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .expect("error text")
}
