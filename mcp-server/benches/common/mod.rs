//! What the benchmarks of `todo-mcp` share: the server binary started on a
//! database, a bearer token, one raw keep-alive HTTP/1.1 connection that
//! makes `tools/call`s, and percentiles.

#![allow(dead_code)]

pub mod pgbench;

use std::net::SocketAddr;
use std::process::Stdio;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

pub const BUILT_BIN: &str = env!("CARGO_BIN_EXE_todo-mcp");

/// The server binary: the one cargo built, or `TODO_MCP_BIN` (e.g. a build
/// with debug info, for profiling).
pub fn bin() -> String {
    std::env::var("TODO_MCP_BIN").unwrap_or_else(|_| BUILT_BIN.to_owned())
}
pub const SECRET: &str = "bench-secret-that-is-at-least-32-bytes-long";

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub fn token(user: &str) -> String {
    let claims =
        json!({"sub": user, "aud": "todo-mcp", "exp": chrono::Utc::now().timestamp() + 86_400});
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap_or_default()
}

/// The environment of a server under test: nothing of the caller's, except a
/// pool size to experiment with.
pub fn server_env(cmd: &mut Command, db_url: &str) {
    cmd.env_clear().env("DATABASE_URL", db_url);
    if let Ok(size) = std::env::var("DATABASE_MAX_CONNECTIONS") {
        cmd.env("DATABASE_MAX_CONNECTIONS", size);
    }
}

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

pub async fn start_server(db_url: &str) -> BenchResult<Server> {
    let mut cmd = Command::new(bin());
    server_env(&mut cmd, db_url);
    let mut child = cmd
        .env("MCP_JWT_SECRET", SECRET)
        // The limiter stays in the path (its cost is measured), out of the way.
        .env("MCP_RATE_LIMIT_PER_MINUTE", "100000000")
        .env("RUST_LOG", "warn,todo_mcp=info")
        .args(["http", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .ok_or("server exited before listening")?;
        if let Some(rest) = line.split("listening on http://").nth(1)
            && let Some(addr) = rest.split('/').next().and_then(|a| a.parse().ok())
        {
            break addr;
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Server { child, addr })
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authorization: String,
}

impl Conn {
    pub async fn open(addr: SocketAddr, user: &str) -> BenchResult<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            authorization: format!("Bearer {}", token(user)),
        })
    }

    pub async fn get(&mut self, path: &str) -> BenchResult<u16> {
        let request = hyper::Request::get(path)
            .header("host", "127.0.0.1")
            .body(Full::new(Bytes::new()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        Ok(status)
    }

    /// One tools/call in the 2026-07-28 form; returns whether it was a tool
    /// error, and the structured result.
    pub async fn call(
        &mut self,
        id: u64,
        tool: &str,
        arguments: Value,
    ) -> BenchResult<(bool, Value)> {
        let body = json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {
                "name": tool, "arguments": arguments,
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientInfo": {"name": "todo-bench", "version": "1"},
                    "io.modelcontextprotocol/clientCapabilities": {}
                }
            }
        });
        let request = hyper::Request::post("/mcp")
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", &self.authorization)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .body(Full::new(Bytes::from(serde_json::to_vec(&body)?)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        if response.status() != 200 {
            return Err(format!("HTTP {}", response.status()).into());
        }
        let bytes = response.into_body().collect().await?.to_bytes();
        let mut value: Value = serde_json::from_slice(&bytes)?;
        let is_error = value["result"]["isError"] != json!(false);
        Ok((is_error, value["result"]["structuredContent"].take()))
    }
}

pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}
