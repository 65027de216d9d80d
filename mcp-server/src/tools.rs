//! The five task tools, as an rmcp [`ServerHandler`] that knows nothing of
//! its transport: it gets the caller from [`Identity`] and calls one
//! service function of `todo_shared::task` per tool.
//!
//! Tool arguments are deserialized here, by hand rather than through rmcp's
//! `Parameters` extractor, so that a wrong argument comes back as a tool
//! error (`isError: true`) the model can read and correct, as the MCP spec
//! asks for input validation errors, instead of a JSON-RPC error most hosts
//! hide from the model.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use todo_shared::http::Metrics;
use todo_shared::task::{
    self, Cursor, Description, Limit, StatusFilter, Task, TaskId, TaskPatch, Title,
};
use todo_shared::trace::{REQUEST_ID_META_KEY, RequestId, TraceContext, parse_traceparent};
use todo_shared::{Error, Store, UserId};
use tokio::sync::Notify;

pub const SERVER_NAME: &str = "todo-mcp";

const INSTRUCTIONS: &str = "Task list of the signed-in user. Use list_tasks to see tasks and \
find their ids; add_task, update_task, complete_task and delete_task change them. To act on a \
task the user names by its title, call list_tasks first to find its id; never guess an id. \
Tasks of other users are never visible.";

/// Who the calls are for.
#[derive(Debug, Clone)]
pub enum Identity {
    /// One user for the whole connection (stdio, `--no-auth`).
    Fixed(UserId),
    /// The user that the HTTP layer authenticated for this request and put
    /// in the request's extensions as a [`Caller`].
    PerRequest,
}

/// The authenticated caller of one HTTP request, inserted by the auth layer.
#[derive(Debug, Clone)]
pub struct Caller(pub UserId);

/// The task server. Cheap to clone: the HTTP transport makes one per request.
#[derive(Clone)]
pub struct TaskServer {
    store: Store,
    identity: Identity,
    tools: Arc<[Tool]>,
    in_flight: Arc<InFlight>,
    metrics: Option<Arc<Metrics>>,
}

/// Counts tool calls in progress, so a shutdown can wait for them.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl TaskServer {
    pub fn new(store: Store, identity: Identity) -> Self {
        Self {
            store,
            identity,
            tools: tool_definitions().into(),
            in_flight: Arc::default(),
            metrics: None,
        }
    }

    /// Count tool calls in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The request id and `traceparent` to log a call under: the HTTP
    /// layer's (from the client's headers, the id made up when absent), else
    /// what the call's `_meta` carries (stdio), checked like headers.
    fn trace_of(
        context: &RequestContext<RoleServer>,
        request: &CallToolRequestParams,
    ) -> (String, String) {
        if let Some(trace) = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<TraceContext>())
        {
            return (
                trace.request_id.to_string(),
                trace.traceparent.clone().unwrap_or_default(),
            );
        }
        let meta = request.meta.as_ref();
        let id = meta
            .and_then(|meta| meta.0.0.get(REQUEST_ID_META_KEY))
            .and_then(|v| v.as_str())
            .and_then(RequestId::parse)
            .map(|id| id.to_string())
            .unwrap_or_default();
        let traceparent = meta
            .and_then(|meta| meta.get_traceparent())
            .and_then(parse_traceparent)
            .unwrap_or_default();
        (id, traceparent)
    }

    /// Wait until no tool call is in progress (at most `limit`). Returns
    /// false when calls were still running at the limit.
    pub async fn drain(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let idle = self.in_flight.idle.notified();
            if self.in_flight.count.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return false;
            }
        }
    }

    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<UserId, ErrorData> {
        match &self.identity {
            Identity::Fixed(user) => Ok(user.clone()),
            Identity::PerRequest => context
                .extensions
                .get::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Caller>())
                .map(|caller| caller.0.clone())
                // Unreachable while the auth layer wraps the MCP route; if it
                // ever does not, fail closed.
                .ok_or_else(|| {
                    tracing::error!("tool call without an authenticated caller");
                    ErrorData::internal_error("internal error", None)
                }),
        }
    }

    async fn dispatch(&self, user: &UserId, name: &str, args: serde_json::Value) -> Outcome {
        match name {
            "add_task" => {
                let args: AddTaskArgs = parse_args(name, args)?;
                let title = Title::parse(&args.title)?;
                let description = match &args.description {
                    Some(d) => Description::parse(d)?,
                    None => Description::none(),
                };
                let task = task::add(&self.store, user, title, description).await?;
                Ok(structured(&TaskResult::new("created", task)))
            }
            "list_tasks" => {
                let args: ListTasksArgs = parse_args(name, args)?;
                let status = match args.status.as_deref() {
                    Some(s) => StatusFilter::parse(s)?,
                    None => StatusFilter::All,
                };
                let limit = args
                    .limit
                    .map(Limit::parse)
                    .transpose()?
                    .unwrap_or_default();
                let cursor = args.cursor.as_deref().map(Cursor::parse).transpose()?;
                let page = task::list(&self.store, user, status, limit, cursor).await?;
                Ok(structured(&TaskList {
                    tasks: page.tasks.into_iter().map(TaskItem::from).collect(),
                    next_cursor: page.next_cursor.map(Cursor::encode),
                }))
            }
            "complete_task" => {
                let args: TaskIdArgs = parse_args(name, args)?;
                let done = task::complete(&self.store, user, TaskId::parse(args.task_id)?).await?;
                let mut result = TaskResult::new("completed", done.task);
                result.already_completed = Some(done.was_already_completed);
                Ok(structured(&result))
            }
            "delete_task" => {
                let args: TaskIdArgs = parse_args(name, args)?;
                let task = task::delete(&self.store, user, TaskId::parse(args.task_id)?).await?;
                Ok(structured(&TaskResult::new("deleted", task)))
            }
            "update_task" => {
                let args: UpdateTaskArgs = parse_args(name, args)?;
                let id = TaskId::parse(args.task_id)?;
                let title = args.title.as_deref().map(Title::parse).transpose()?;
                let description = args
                    .description
                    .as_deref()
                    .map(Description::parse)
                    .transpose()?;
                let patch = TaskPatch::new(title, description)?;
                let task = task::update(&self.store, user, id, patch).await?;
                Ok(structured(&TaskResult::new("updated", task)))
            }
            other => Err(ToolFailure::UnknownTool(other.to_owned())),
        }
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
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _in_flight = self.in_flight.enter();
        let user = self.caller(&context)?;
        let (request_id, traceparent) = Self::trace_of(&context, &request);
        let started = Instant::now();
        let name = request.name;
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let outcome = self.dispatch(&user, &name, args).await;
        let elapsed = started.elapsed();
        let elapsed_us = elapsed.as_micros() as u64;
        // The one place where domain errors become MCP results.
        let (label, response) = match outcome {
            Ok(result) => {
                // At info: the audit trail of who changed what (and the
                // request id that ties it to the gateway's turn).
                tracing::info!(tool = %name, user = %user, %request_id, %traceparent, elapsed_us, outcome = "ok", "tool call");
                ("ok", Ok(result.into()))
            }
            Err(ToolFailure::Domain(Error::Internal(error))) => {
                tracing::error!(tool = %name, user = %user, %request_id, %traceparent, elapsed_us, error = %error, source = ?error.source(), "tool call failed");
                (
                    "internal_error",
                    Err(ErrorData::internal_error("internal error", None)),
                )
            }
            Err(ToolFailure::UnknownTool(unknown)) => {
                tracing::info!(tool = %unknown, user = %user, %request_id, %traceparent, "call of an unknown tool");
                (
                    "unknown_tool",
                    Err(ErrorData::invalid_params(
                        format!("Unknown tool: {unknown}"),
                        None,
                    )),
                )
            }
            Err(failure) => {
                let message = failure.to_string();
                tracing::info!(tool = %name, user = %user, %request_id, %traceparent, elapsed_us, outcome = "tool_error", %message, "tool call");
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

type Outcome = Result<CallToolResult, ToolFailure>;

#[derive(Debug, thiserror::Error)]
enum ToolFailure {
    #[error("{0}")]
    Domain(#[from] Error),
    #[error("Invalid arguments for {tool}: {message}")]
    BadArguments { tool: String, message: String },
    #[error("Unknown tool: {0}")]
    UnknownTool(String),
}

fn parse_args<T: DeserializeOwned>(tool: &str, args: serde_json::Value) -> Result<T, ToolFailure> {
    serde_json::from_value(args).map_err(|e| ToolFailure::BadArguments {
        tool: tool.to_owned(),
        message: e.to_string(),
    })
}

fn structured<T: Serialize>(value: &T) -> CallToolResult {
    // Serializing these plain structs cannot fail; if it ever did, the text
    // content would say so rather than the call panicking.
    match serde_json::to_value(value) {
        Ok(value) => CallToolResult::structured(value),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "cannot encode the result: {e}"
        ))]),
    }
}

// ---- arguments: their doc comments are what the model reads ----------------

/// Arguments of add_task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTaskArgs {
    /// Short title of the task, as the user said it (1 to 200 characters), e.g. "Pay the electricity bill".
    pub title: String,
    /// Optional longer notes or details (up to 2,000 characters; newlines allowed).
    #[serde(default)]
    pub description: Option<String>,
}

/// Arguments of list_tasks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasksArgs {
    /// Which tasks to list: "all" (default), "pending" (not completed yet) or "completed".
    #[serde(default)]
    #[schemars(extend("enum" = ["all", "pending", "completed"], "default" = "all"))]
    pub status: Option<String>,
    /// How many tasks to return, 1 to 200 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200), extend("default" = 50))]
    pub limit: Option<i64>,
    /// To get the next page, pass the next_cursor value of the previous result; omit for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments naming one task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdArgs {
    /// The task's id, as returned by list_tasks or add_task. Never guess it.
    #[schemars(range(min = 1))]
    pub task_id: i64,
}

/// Arguments of update_task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    /// The task's id, as returned by list_tasks or add_task. Never guess it.
    #[schemars(range(min = 1))]
    pub task_id: i64,
    /// New title (1 to 200 characters). Omit to keep the current one.
    #[serde(default)]
    pub title: Option<String>,
    /// New description (up to 2,000 characters); an empty string removes it. Omit to keep the current one.
    #[serde(default)]
    pub description: Option<String>,
}

// ---- results ---------------------------------------------------------------

/// A task after add_task, update_task, complete_task or delete_task.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskResult {
    /// The task's id.
    pub task_id: i64,
    /// What happened: "created", "updated", "completed" or "deleted".
    pub status: &'static str,
    pub title: String,
    pub description: Option<String>,
    /// Whether the task is completed.
    pub completed: bool,
    /// When the task was created (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// When the task last changed (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// complete_task only: true when the task was already completed before this call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_completed: Option<bool>,
}

impl TaskResult {
    fn new(status: &'static str, task: Task) -> Self {
        Self {
            task_id: task.id,
            status,
            created_at: task::format_timestamp(&task.created_at),
            updated_at: task::format_timestamp(&task.updated_at),
            title: task.title,
            description: task.description,
            completed: task.completed,
            already_completed: None,
        }
    }
}

/// One page of tasks, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskItem>,
    /// Present when more tasks follow: pass it as cursor to get them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A task in a list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskItem {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
}

impl From<Task> for TaskItem {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            created_at: task::format_timestamp(&task.created_at),
            updated_at: task::format_timestamp(&task.updated_at),
            title: task.title,
            description: task.description,
            completed: task.completed,
        }
    }
}

// ---- definitions -----------------------------------------------------------

fn tool<A: JsonSchema + 'static, R: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: &'static str,
    annotations: ToolAnnotations,
) -> Tool {
    // The argument structs are objects by construction; an error here is a
    // programming error caught by the test that lists the tools.
    let input = schema_for_input::<A>().unwrap_or_else(|_| Arc::default());
    Tool::new(Cow::Borrowed(name), Cow::Borrowed(description), input)
        .with_title(title)
        .with_raw_output_schema(schema_for_output::<R>())
        .with_annotations(annotations.open_world(false))
}

/// The tool list, built once per process.
pub fn tool_definitions() -> Vec<Tool> {
    vec![
        tool::<AddTaskArgs, TaskResult>(
            "add_task",
            "Add a task",
            "Create a new task for the user, e.g. when they say \"remind me to pay the bills\" or \
             \"add buy milk to my list\". Returns the new task with its id; confirm it to the user \
             by title.",
            ToolAnnotations::with_title("Add a task")
                .read_only(false)
                .destructive(false)
                .idempotent(false),
        ),
        tool::<ListTasksArgs, TaskList>(
            "list_tasks",
            "List tasks",
            "List the user's tasks, newest first, optionally only pending or only completed ones. \
             Use it to answer questions about the list, and to find a task's id before acting on \
             a task the user names by its title. Pages hold up to 200 tasks; when next_cursor is \
             present, pass it as cursor for more.",
            ToolAnnotations::with_title("List tasks")
                .read_only(true)
                .destructive(false)
                .idempotent(true),
        ),
        tool::<TaskIdArgs, TaskResult>(
            "complete_task",
            "Complete a task",
            "Mark one task as completed (done). Needs the task's id: to act on a task named by the \
             user, call list_tasks first to find its id. Completing an already completed task is \
             fine (already_completed tells).",
            ToolAnnotations::with_title("Complete a task")
                .read_only(false)
                .destructive(false)
                .idempotent(true),
        ),
        tool::<TaskIdArgs, TaskResult>(
            "delete_task",
            "Delete a task",
            "Permanently delete one task. Needs the task's id: to act on a task named by the user, \
             call list_tasks first to find its id. If the request is ambiguous (several tasks \
             match), ask the user which one before deleting.",
            ToolAnnotations::with_title("Delete a task")
                .read_only(false)
                .destructive(true)
                .idempotent(true),
        ),
        tool::<UpdateTaskArgs, TaskResult>(
            "update_task",
            "Update a task",
            "Change the title and/or the description of one task. Needs the task's id: to act on a \
             task named by the user, call list_tasks first to find its id. Give at least one of \
             title and description.",
            ToolAnnotations::with_title("Update a task")
                .read_only(false)
                .destructive(true)
                .idempotent(true),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_schemas_and_annotations() {
        for tool in tool_definitions() {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&serde_json::json!("object")),
                "{}",
                tool.name
            );
            let output = tool.output_schema.as_ref().map(|s| s.get("type").cloned());
            assert_eq!(
                output,
                Some(Some(serde_json::json!("object"))),
                "{}",
                tool.name
            );
            let annotations = tool.annotations.as_ref();
            assert_eq!(
                annotations.and_then(|a| a.open_world_hint),
                Some(false),
                "{}",
                tool.name
            );
            assert!(
                tool.description.as_ref().is_some_and(|d| d.len() > 60),
                "{}",
                tool.name
            );
        }
    }

    #[test]
    fn arguments_reject_unknown_fields_such_as_a_user_id() {
        let err = parse_args::<AddTaskArgs>(
            "add_task",
            serde_json::json!({"title": "x", "user_id": "bob"}),
        );
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("Invalid arguments for add_task: unknown field `user_id`"),
            "{message}"
        );
    }
}
