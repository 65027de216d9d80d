//! The task server, as an MCP client (rmcp, streamable HTTP).
//!
//! The gateway never forwards the user's own token (MCP forbids token
//! passthrough): for each user it mints a short-lived HS256 token (`sub` =
//! the user, `aud` = the task server's audience) and keeps one rmcp client per
//! user for the token's life. All clients share one HTTP connection pool. The
//! protocol revision is 2026-07-28, which has no session: a restarted task
//! server is simply reached again; a client whose transport failed is
//! dropped and made anew once.
//!
//! Each tool call carries the turn's request id and W3C `traceparent` in its
//! `_meta` (`traceparent` as SEP-414 reserves it), which [`TracedHttp`] also
//! sends as HTTP headers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ProtocolVersion, RequestMetaObject, Tool,
};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt as _};
use serde_json::{Map, Value};
use todo_domain::UserId;
use todo_server::Caller;
use todo_server::auth::mint_hs256_in_zone;
use todo_server::trace::{REQUEST_ID_META_KEY, TraceContext};
use todo_server::{Metrics, Secret};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use crate::llm::ToolDefinition;
use crate::mcp::error::{McpError, rate_limited};
use crate::mcp::functions::function_definitions;
use crate::mcp::traced::TracedHttp;

type Client = RunningService<RoleClient, ()>;

/// How to reach and sign for the task server.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// e.g. `http://127.0.0.1:8001/mcp`
    pub url: String,
    /// The task server's HS256 secret (its `MCP_JWT_SECRET`).
    pub secret: Secret,
    /// The task server's audience (its `MCP_AUDIENCE`).
    pub audience: String,
    pub issuer: Option<String>,
    /// Life of a minted token (at most 5 minutes).
    pub token_ttl: Duration,
    /// Longest wait for one tool call.
    pub tool_timeout: Duration,
    /// How long the tool list is cached.
    pub tools_ttl: Duration,
}

impl McpConfig {
    pub fn new(url: impl Into<String>, secret: Secret) -> Self {
        Self {
            url: url.into(),
            secret,
            audience: "todo-mcp".into(),
            issuer: None,
            token_ttl: Duration::from_secs(300),
            tool_timeout: Duration::from_secs(30),
            tools_ttl: Duration::from_secs(300),
        }
    }
}

/// What a tool call gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// What the model reads: the text content (JSON for these tools).
    pub text: String,
    /// The structured result, when the tool gave one.
    pub structured: Option<Value>,
    pub is_error: bool,
}

impl ToolOutcome {
    /// A refusal the model reads (and may correct), with no result.
    fn error(text: String) -> Self {
        Self {
            text,
            structured: None,
            is_error: true,
        }
    }
}

struct UserClient {
    client: Arc<Client>,
    /// Renew before the token expires.
    renew_at: Instant,
}

/// The task server, for all users. Cheap to clone.
#[derive(Clone)]
pub struct TaskServer {
    inner: Arc<Inner>,
}

struct Inner {
    config: McpConfig,
    http: TracedHttp,
    metrics: Option<Arc<Metrics>>,
    clients: Mutex<HashMap<Caller, UserClient>>,
    tools: RwLock<Option<(Instant, Arc<[Tool]>)>>,
    /// The model's function definitions of the cached tools, made once per
    /// tool list rather than once per turn (the schemas are large).
    functions: RwLock<Option<Functions>>,
}

/// Function definitions, and the tool list they were made from.
type Functions = (Arc<[Tool]>, Arc<[ToolDefinition]>);

impl TaskServer {
    pub fn new(config: McpConfig) -> Result<Self, reqwest::Error> {
        Self::with_metrics(config, None)
    }

    /// [`TaskServer::new`], counting tool calls in `metrics`.
    pub fn with_metrics(
        mut config: McpConfig,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, reqwest::Error> {
        config.token_ttl = config
            .token_ttl
            .clamp(Duration::from_secs(30), Duration::from_secs(300));
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("todo-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http: TracedHttp(http),
                metrics,
                clients: Mutex::new(HashMap::new()),
                tools: RwLock::new(None),
                functions: RwLock::new(None),
            }),
        })
    }

    /// The task server's tools, cached for `tools_ttl`.
    pub async fn tools(&self, user: &Caller) -> Result<Arc<[Tool]>, McpError> {
        if let Some((at, tools)) = self.inner.tools.read().await.as_ref()
            && at.elapsed() < self.inner.config.tools_ttl
        {
            return Ok(tools.clone());
        }
        let client = self.client(user).await?;
        let tools: Arc<[Tool]> = match client.list_all_tools().await {
            Ok(tools) => tools.into(),
            Err(error) => {
                if let Some(limited) = rate_limited(&error) {
                    return Err(limited);
                }
                self.forget(user).await;
                return Err(McpError::Unavailable(error.to_string()));
            }
        };
        *self.inner.tools.write().await = Some((Instant::now(), tools.clone()));
        Ok(tools)
    }

    /// The task server's tools as the model's function definitions, made
    /// once for each tool list [`TaskServer::tools`] caches.
    pub async fn functions(&self, user: &Caller) -> Result<Arc<[ToolDefinition]>, McpError> {
        let tools = self.tools(user).await?;
        if let Some((made_from, functions)) = self.inner.functions.read().await.as_ref()
            && Arc::ptr_eq(made_from, &tools)
        {
            return Ok(functions.clone());
        }
        let functions: Arc<[ToolDefinition]> = function_definitions(&tools).into();
        *self.inner.functions.write().await = Some((tools, functions.clone()));
        Ok(functions)
    }

    /// Call `tool` for `user` with the model's arguments (a JSON text), on
    /// behalf of the request `trace` names. Arguments that are not a JSON
    /// object come back as a tool error for the model to correct, without
    /// calling the server.
    pub async fn call(
        &self,
        user: &Caller,
        tool: &str,
        arguments: &str,
        trace: &TraceContext,
    ) -> Result<ToolOutcome, McpError> {
        let started = Instant::now();
        let result = match serde_json::from_str(arguments) {
            Ok(Value::Object(arguments)) => {
                let request = call_request(tool, arguments, trace);
                self.call_once_or_twice(user, request).await
            }
            _ => Ok(ToolOutcome::error(format!(
                "Invalid arguments for {tool}: they must be a JSON object"
            ))),
        };
        let outcome = match &result {
            Ok(outcome) if outcome.is_error => "tool_error",
            Ok(_) => "ok",
            Err(McpError::Timeout { .. }) => "timeout",
            Err(_) => "unavailable",
        };
        let elapsed = started.elapsed();
        tracing::debug!(tool, user = %user.user(), outcome, elapsed_us = elapsed.as_micros() as u64, "tool call");
        if let Some(metrics) = &self.inner.metrics {
            // The model may name any tool: only the server's become label values.
            let known = self.known_tool(tool).await;
            metrics.tool_call(if known { tool } else { "unknown" }, outcome, elapsed);
        }
        result
    }

    /// Is `tool` in the cached tool list?
    async fn known_tool(&self, tool: &str) -> bool {
        self.inner
            .tools
            .read()
            .await
            .as_ref()
            .is_some_and(|(_, tools)| tools.iter().any(|t| t.name == tool))
    }

    async fn call_once_or_twice(
        &self,
        user: &Caller,
        request: CallToolRequestParams,
    ) -> Result<ToolOutcome, McpError> {
        // Once more with a fresh client if the first one's transport failed
        // (e.g. the task server restarted).
        let mut last_error = None;
        for _ in 0..2 {
            let client = self.client(user).await?;
            let call = client.call_tool(request.clone());
            match tokio::time::timeout(self.inner.config.tool_timeout, call).await {
                Err(_) => {
                    return Err(McpError::Timeout {
                        tool: request.name.to_string(),
                        timeout: self.inner.config.tool_timeout,
                    });
                }
                Ok(Ok(result)) => return Ok(outcome(result)),
                Ok(Err(rmcp::ServiceError::McpError(error))) => {
                    // The server answered with a protocol error (unknown tool,
                    // internal error): the model may read it.
                    return Ok(ToolOutcome::error(error.message.to_string()));
                }
                Ok(Err(error)) => {
                    if let Some(limited) = rate_limited(&error) {
                        return Err(limited);
                    }
                    self.forget(user).await;
                    last_error = Some(error.to_string());
                }
            }
        }
        Err(McpError::Unavailable(last_error.unwrap_or_default()))
    }

    /// Is the task server answering? A live `tools/list` on behalf of the
    /// gateway's own readiness identity (no cache).
    pub async fn ping(&self) -> Result<(), McpError> {
        let probe = UserId::parse("todo-gateway-readiness")
            .map(Caller::new)
            .map_err(|e| McpError::Token(e.to_string()))?;
        let client = self.client(&probe).await?;
        let listed =
            tokio::time::timeout(self.inner.config.tool_timeout, client.list_tools(None)).await;
        match listed {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                self.forget(&probe).await;
                Err(McpError::Unavailable(error.to_string()))
            }
            Err(_) => Err(McpError::Unavailable("no answer to tools/list".into())),
        }
    }

    async fn forget(&self, user: &Caller) {
        self.inner.clients.lock().await.remove(user);
    }

    /// The user's client (one per user and time zone, which its token
    /// carries), made with a fresh token when absent or due.
    async fn client(&self, user: &Caller) -> Result<Arc<Client>, McpError> {
        let mut clients = self.inner.clients.lock().await;
        if let Some(existing) = clients.get(user)
            && existing.renew_at > Instant::now()
        {
            return Ok(existing.client.clone());
        }
        // Old entries go when someone connects: no sweeper task needed.
        let now = Instant::now();
        clients.retain(|_, c| c.renew_at > now);
        drop(clients);

        let config = &self.inner.config;
        let token = mint_hs256_in_zone(
            &config.secret,
            user.user(),
            Some(&config.audience),
            config.issuer.as_deref(),
            Some(user.zone()),
            config.token_ttl,
        )
        .map_err(|e| McpError::Token(e.to_string()))?;
        let transport = StreamableHttpClientTransport::with_client(
            self.inner.http.clone(),
            StreamableHttpClientTransportConfig::with_uri(config.url.clone()).auth_header(token),
        );
        let client = ().serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        );
        let client = tokio::time::timeout(config.tool_timeout, client)
            .await
            .map_err(|_| {
                McpError::Unavailable(format!(
                    "no answer from {} within {:?}",
                    config.url, config.tool_timeout
                ))
            })?
            .map_err(|e| McpError::Unavailable(e.to_string()))?;
        let client = Arc::new(client);
        // Renew a little before the token expires.
        let renew_at = Instant::now() + config.token_ttl.saturating_sub(Duration::from_secs(20));
        self.inner.clients.lock().await.insert(
            user.clone(),
            UserClient {
                client: client.clone(),
                renew_at,
            },
        );
        Ok(client)
    }
}

/// A `tools/call` of `tool`, with the request's id and trace context in its
/// `_meta`.
fn call_request(
    tool: &str,
    arguments: Map<String, Value>,
    trace: &TraceContext,
) -> CallToolRequestParams {
    let mut meta = RequestMetaObject::new();
    meta.0.0.insert(
        REQUEST_ID_META_KEY.to_owned(),
        Value::String(trace.request_id.to_string()),
    );
    if let Some(traceparent) = &trace.traceparent {
        meta.set_traceparent(traceparent.clone());
    }
    let mut request = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
    request.meta = Some(meta);
    request
}

fn outcome(result: CallToolResult) -> ToolOutcome {
    let text = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    let text = match (&result.structured_content, text.is_empty()) {
        (Some(structured), true) => structured.to_string(),
        _ => text,
    };
    ToolOutcome {
        text,
        structured: result.structured_content,
        is_error: result.is_error.unwrap_or(false),
    }
}
