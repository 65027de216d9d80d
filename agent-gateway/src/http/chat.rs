//! `POST /api/{user_id}/chat`: one turn with the assistant, answered as
//! JSON or streamed as server-sent events.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use todo_domain::conversation::{ConversationId, MessageText};
use todo_server::Caller;
use todo_server::trace::TraceContext;

use crate::agent::{ToolCallReport, TurnEvent, TurnReport};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Trace};
use crate::http::params::{UserPath, in_zone, timezone_schema};
use crate::http::state::AppState;

/// A message to the assistant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// The conversation to continue; absent or null starts a new one.
    #[serde(default, deserialize_with = "integer")]
    #[schema(minimum = 1)]
    pub conversation_id: Option<i64>,
    /// What the user says: 1 to 10,000 characters, not only white space, no
    /// control characters but newline, carriage return and tab.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        example = "Add a task to buy milk"
    )]
    pub message: String,
    /// The user's time zone, an IANA name (the web chat sends the
    /// browser's). Dates the user says ("tomorrow", "what's overdue") are
    /// read in it. Default: the `zoneinfo` claim of the user's token, else UTC.
    #[serde(default)]
    #[schema(schema_with = timezone_schema)]
    pub timezone: Option<String>,
}

/// An optional integer, where JSON Schema's idea of one holds: `5.0` is 5.
fn integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {number}")))
}

/// Send a message and get the assistant's answer. The model may call the
/// task tools (add, list, complete, update, delete) on the user's behalf; its
/// calls and their results come back with the answer. With
/// `Accept: text/event-stream` the turn streams as server-sent events (see
/// docs/streaming.md); failures before the user's message is stored are then
/// still plain JSON errors. Only one turn runs per conversation at a time: a
/// second one waits for it, then answers 409 `busy` if it took too long.
#[utoipa::path(
    post,
    path = "/api/{user_id}/chat",
    tag = "chat",
    params(UserPath),
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The turn: the answer and the tool calls it made",
            content(
                (TurnReport = "application/json"),
                (StreamEvent = "text/event-stream"),
            )),
        (status = 404, description = "No such conversation (or another user's)", body = ErrorBody),
        (status = 409, description = "Another turn on this conversation is still running", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 422, description = "Invalid message or conversation id", body = ErrorBody),
        (status = 502, description = "The model failed (its message is kept)", body = ErrorBody),
        (status = 503, description = "The task server is unreachable (tasks_unavailable), or the gateway \
            runs as many turns as it may (overloaded, with Retry-After; nothing is stored)", body = ErrorBody),
        (status = 504, description = "The model took too long", body = ErrorBody),
    )
)]
pub async fn chat(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    trace: Trace,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Response, ApiError> {
    let text = MessageText::parse(&request.message)?;
    let caller = in_zone(caller, request.timezone.as_deref())?;
    let conversation = request
        .conversation_id
        .map(ConversationId::parse)
        .transpose()?;
    let streamed = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"));
    if streamed {
        return stream_chat(&state, caller, conversation, text, trace.0).await;
    }
    let report = state
        .agent
        .turn(&caller, conversation, text, trace.0)
        .await?;
    // Where the time went, for operators and the benchmark (W3C Server-Timing).
    let timing = format!(
        "llm;dur={:.3}, mcp;dur={:.3}",
        report.timings.llm.as_secs_f64() * 1000.0,
        report.timings.mcp.as_secs_f64() * 1000.0
    );
    let mut response = Json(report).into_response();
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    Ok(response)
}

/// A turn as server-sent events (see docs/streaming.md). Failures before the
/// user's message is stored (no such conversation, another turn still
/// running) are plain HTTP errors; later ones are `error` events.
async fn stream_chat(
    state: &AppState,
    caller: Caller,
    conversation: Option<ConversationId>,
    text: MessageText,
    trace: TraceContext,
) -> Result<Response, ApiError> {
    let mut events = state.agent.stream_turn(caller, conversation, text, trace);
    let first = match events.recv().await {
        Some(TurnEvent::Finished(Err(error))) => return Err(ApiError::Turn(error)),
        Some(event) => event,
        None => {
            return Err(ApiError::Domain(todo_domain::Error::internal(
                "a streamed turn ended without a word",
            )));
        }
    };
    let stream =
        futures::stream::unfold((Some(first), events), |(pending, mut events)| async move {
            let event = match pending {
                Some(event) => event,
                None => events.recv().await?,
            };
            let sse = sse_event(event);
            Some((Ok::<_, std::convert::Infallible>(sse), (None, events)))
        });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(state.keep_alive))
        .into_response();
    // Proxies such as nginx must pass events on as they come.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One server-sent event of a streamed turn: its `data` is this object as
/// JSON. In order: `conversation`, then `text_delta`, `tool_call` and
/// `tool_result` as they come, then `done` or `error`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The user's message is stored in this conversation.
    Conversation { conversation_id: i64 },
    /// A piece of the model's text.
    TextDelta { text: String },
    /// The model calls a tool.
    ToolCall {
        id: String,
        name: String,
        #[schema(value_type = Object)]
        arguments: serde_json::Value,
    },
    /// A tool's result.
    ToolResult {
        id: String,
        result: serde_json::Value,
        is_error: bool,
    },
    /// The turn is over and stored.
    Done {
        conversation_id: i64,
        message_id: i64,
        response: String,
        tool_calls: Vec<ToolCallReport>,
    },
    /// The turn failed after the message was stored (codes as in [`ErrorBody`]).
    Error {
        error: &'static str,
        message: String,
    },
}

fn sse_event(event: TurnEvent) -> Event {
    let event = match event {
        TurnEvent::Conversation { conversation_id } => {
            StreamEvent::Conversation { conversation_id }
        }
        TurnEvent::TextDelta(text) => StreamEvent::TextDelta { text },
        TurnEvent::ToolCall {
            id,
            name,
            arguments,
        } => StreamEvent::ToolCall {
            id,
            name,
            arguments,
        },
        TurnEvent::ToolResult {
            id,
            result,
            is_error,
        } => StreamEvent::ToolResult {
            id,
            result,
            is_error,
        },
        TurnEvent::Finished(Ok(report)) => StreamEvent::Done {
            conversation_id: report.conversation_id,
            message_id: report.message_id,
            response: report.response,
            tool_calls: report.tool_calls,
        },
        TurnEvent::Finished(Err(error)) => {
            let (_, error, message) = ApiError::Turn(error).parts();
            StreamEvent::Error { error, message }
        }
    };
    Event::default().data(serde_json::to_string(&event).unwrap_or_default())
}
