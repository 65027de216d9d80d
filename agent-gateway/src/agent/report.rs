//! What a turn reports: its result, its events as it goes, and why it
//! failed.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use todo_server::Caller;
use todo_server::trace::TraceContext;

use crate::llm::LlmError;
use crate::mcp::McpError;

/// Why a turn failed.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error(transparent)]
    Domain(#[from] todo_domain::Error),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Mcp(#[from] McpError),
    #[error("another request on this conversation is still running")]
    Busy,
    #[error("the gateway is answering as many messages as it can: try again in a few seconds")]
    Overloaded,
    #[error("today's budget of {budget} model tokens is spent")]
    BudgetSpent {
        budget: u64,
        /// Until the next UTC day.
        retry_after: std::time::Duration,
    },
}

/// One tool call of a turn, as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolCallReport {
    /// The model's id for the call (as in the `tool_call` stream event).
    pub id: String,
    /// The task tool (add_task, list_tasks, complete_task, update_task, delete_task).
    pub name: String,
    /// The arguments the model gave (null when they were not JSON).
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// The tool's structured result, or its text when it gave none.
    pub result: Value,
    /// True when the tool refused (the model reads why and may correct itself).
    pub is_error: bool,
}

/// What a turn produced.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TurnReport {
    pub conversation_id: i64,
    /// The stored answer's message id.
    pub message_id: i64,
    /// The model's final answer.
    pub response: String,
    /// The tool calls of this turn, in order.
    pub tool_calls: Vec<ToolCallReport>,
    /// Where the turn's time went (sent as a `Server-Timing` header).
    #[serde(skip)]
    pub timings: Timings,
}

/// Time spent waiting for the model and for the task server in one turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub llm: Duration,
    pub mcp: Duration,
}

/// What a streamed turn reports as it goes, in this order: `Conversation`
/// once the user's message is stored, then text and tool calls as they come,
/// and `Finished` last.
#[derive(Debug)]
pub enum TurnEvent {
    Conversation {
        conversation_id: i64,
    },
    /// Text of the model's answer (of any step) as it streams.
    TextDelta(String),
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
    },
    ToolResult {
        id: String,
        result: Value,
        is_error: bool,
    },
    Finished(Result<TurnReport, TurnError>),
}

pub(crate) type Events = tokio::sync::mpsc::UnboundedSender<TurnEvent>;

/// Hand an event on; a listener that went away changes nothing.
pub(crate) fn emit(events: Option<&Events>, event: TurnEvent) {
    if let Some(events) = events {
        let _ = events.send(event);
    }
}

/// Who a turn is for, on behalf of which request, and who listens.
#[derive(Clone, Copy)]
pub(crate) struct TurnScope<'a> {
    pub(crate) caller: &'a Caller,
    pub(crate) trace: &'a TraceContext,
    pub(crate) events: Option<&'a Events>,
}

/// What a turn may still spend, and what it spent so far (model tokens).
pub(crate) struct TurnLimits<'a> {
    /// Tokens left of the user's daily budget (None: no budget).
    pub(crate) budget_left: Option<u64>,
    pub(crate) spent: &'a mut u64,
}
