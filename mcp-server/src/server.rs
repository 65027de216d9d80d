//! The task server: an rmcp [`ServerHandler`] that knows nothing of its
//! transport. It reads the caller that the front door put on the request,
//! runs the tool from the [`Registry`], and is the one place where domain
//! errors become MCP results.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use todo_domain::{Error, Store};
use todo_server::{Metrics, client_text};

use crate::context;
use crate::in_flight::InFlight;
use crate::tools::{Registry, ToolFailure};

pub const SERVER_NAME: &str = "todo-mcp";

/// The log target of the per-call lines (documented: operators turn them
/// off with `RUST_LOG=info,todo_mcp::tools=warn`).
const CALL_LOG: &str = "todo_mcp::tools";

const INSTRUCTIONS: &str = "Task list of the signed-in user. Use list_tasks to see tasks and \
find their ids; add_task, update_task, complete_task and delete_task change them. To act on a \
task the user names by its title, call list_tasks first to find its id; never guess an id. \
Tasks of other users are never visible.";

/// The task server. Cheap to clone: the HTTP transport makes one per request.
#[derive(Clone)]
pub struct TaskServer {
    store: Store,
    tools: Registry,
    in_flight: Arc<InFlight>,
    metrics: Option<Arc<Metrics>>,
}

impl TaskServer {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            tools: crate::tools::registry(),
            in_flight: Arc::default(),
            metrics: None,
        }
    }

    /// Count tool calls in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Wait until no tool call is in progress (at most `limit`). Returns
    /// false when calls were still running at the limit.
    pub async fn drain(&self, limit: Duration) -> bool {
        self.in_flight.drain(limit).await
    }
}

impl ServerHandler for TaskServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION"))
                    .with_title("Todo tasks")
                    .with_description("Add, list, complete, update and delete your tasks."),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.definitions()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.definition(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _in_flight = self.in_flight.enter();
        let Some(caller) = context::caller(&context) else {
            // Unreachable while every front door puts a caller on its
            // requests; if one ever does not, fail closed.
            tracing::error!("tool call without an authenticated caller");
            return Err(ErrorData::internal_error("internal error", None));
        };
        let user = caller.user();
        let (request_id, traceparent) = context::trace(&context, &request);
        let started = Instant::now();
        let name = request.name;
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let outcome = self.tools.call(&self.store, &caller, &name, args).await;
        let elapsed = started.elapsed();
        let elapsed_us = elapsed.as_micros() as u64;
        // The one place where domain errors become MCP results.
        let (label, response) = match outcome {
            Ok(result) => {
                // At info: the audit trail of who changed what (and the
                // request id that ties it to the gateway's turn).
                tracing::info!(target: CALL_LOG, tool = %name, user = %user, %request_id, %traceparent, elapsed_us, outcome = "ok", "tool call");
                ("ok", Ok(result.into()))
            }
            Err(ToolFailure::Domain(Error::Internal(error))) => {
                tracing::error!(target: CALL_LOG, tool = %name, user = %user, %request_id, %traceparent, elapsed_us, error = %error, source = ?error.source(), "tool call failed");
                (
                    "internal_error",
                    Err(ErrorData::internal_error("internal error", None)),
                )
            }
            Err(ToolFailure::UnknownTool(unknown)) => {
                let tool = client_text(&unknown, 64);
                tracing::info!(target: CALL_LOG, %tool, user = %user, %request_id, %traceparent, "call of an unknown tool");
                (
                    "unknown_tool",
                    Err(ErrorData::invalid_params(
                        format!("Unknown tool: {tool}"),
                        None,
                    )),
                )
            }
            Err(failure) => {
                let message = failure.to_string();
                // The message may quote what the client sent (a field name).
                let reason = client_text(&message, 200);
                tracing::info!(target: CALL_LOG, tool = %name, user = %user, %request_id, %traceparent, elapsed_us, outcome = "tool_error", message = %reason, "tool call");
                (
                    "tool_error",
                    Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into()),
                )
            }
        };
        if let Some(metrics) = &self.metrics {
            // A client may name any tool: only ours become label values.
            let tool = if label == "unknown_tool" {
                "unknown"
            } else {
                &name
            };
            metrics.tool_call(tool, label, elapsed);
        }
        response
    }
}
