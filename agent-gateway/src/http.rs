//! The HTTP API (axum): chat, conversations, probes. Every `/api/{user_id}`
//! route needs a bearer token whose `sub` is `{user_id}`.
//!
//! Errors are `{"error": code, "message": text}`, mapped from the crates'
//! errors in one place ([`ApiError`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use todo_shared::auth::{AuthError, TokenVerifier, bearer_token};
use todo_shared::conversation::{self, ConversationId, Message, MessageText, Role};
use todo_shared::http::{Metrics, observe};
use todo_shared::task::format_timestamp;
use todo_shared::trace::TraceContext;
use todo_shared::{Store, UserId};

use crate::agent::{Agent, TurnError, TurnEvent};
use crate::limit::{self, Limit};
use crate::llm::LlmError;

/// Largest request body accepted (a 10,000-character message fits easily).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub agent: Agent,
    pub verifier: TokenVerifier,
    pub store: Store,
    /// How often a streamed turn sends a keep-alive comment while quiet.
    pub keep_alive: Duration,
    /// Development mode's sign-in as any user (None: no such route).
    pub dev_tokens: Option<crate::web::DevTokens>,
    pub metrics: Arc<Metrics>,
}

/// The per-user limits of the API.
#[derive(Clone)]
pub struct RateLimits {
    /// `POST …/chat` (each runs the model).
    pub chat: Limit,
    /// Every other `/api` request.
    pub read: Limit,
}

pub fn router(state: AppState, limits: RateLimits) -> Router {
    let state = Arc::new(state);
    let metrics = state.metrics.clone();
    let web = crate::web::routes(state.dev_tokens.is_some());
    let chat_routes = Router::new()
        .route("/api/{user_id}/chat", post(chat))
        .route_layer(axum::middleware::from_fn_with_state(
            limits.chat,
            limit::enforce,
        ));
    let read_routes = Router::new()
        .route("/api/{user_id}/conversations", get(list_conversations))
        .route(
            "/api/{user_id}/conversations/{id}",
            get(get_conversation).delete(delete_conversation),
        )
        .route("/api/{user_id}/tasks", get(list_tasks))
        .route_layer(axum::middleware::from_fn_with_state(
            limits.read,
            limit::enforce,
        ));
    // Authentication wraps the limiters: they count per authenticated user.
    let api = chat_routes
        .merge(read_routes)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ));
    Router::new()
        .merge(api)
        .merge(web)
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ready", get(ready))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(metrics, observe))
}

// ---- errors ----------------------------------------------------------------

/// Every failure of the API, mapped to a status and a body here only.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Turn(#[from] TurnError),
    #[error(transparent)]
    Domain(#[from] todo_shared::Error),
    #[error("{0}")]
    Unauthenticated(AuthError),
    #[error("the token's user is not {0}")]
    Forbidden(String),
}

impl ApiError {
    /// Status, code and message: the one mapping of errors to what clients
    /// see (a JSON body, or a stream's `error` event). Causes that clients do
    /// not see are logged here.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use todo_shared::Error as E;
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            Self::Unprocessable(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", m.clone())
            }
            Self::Unsupported(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.clone(),
            ),
            Self::TooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                m.clone(),
            ),
            Self::Unauthenticated(e) => (StatusCode::UNAUTHORIZED, "unauthorized", e.to_string()),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", self.to_string()),
            Self::Domain(e) | Self::Turn(TurnError::Domain(e)) => match e {
                E::Invalid { message, .. } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    message.clone(),
                ),
                E::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", e.to_string()),
                E::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
                E::Forbidden => (StatusCode::FORBIDDEN, "forbidden", e.to_string()),
                E::Unauthenticated(a) => (StatusCode::UNAUTHORIZED, "unauthorized", a.to_string()),
                E::Internal(error) => {
                    tracing::error!(error = %error, source = ?error.source(), "internal error");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error".to_owned(),
                    )
                }
            },
            Self::Turn(TurnError::Llm(LlmError::Timeout(_))) => (
                StatusCode::GATEWAY_TIMEOUT,
                "llm_timeout",
                "The model took too long to answer. Please try again.".to_owned(),
            ),
            Self::Turn(TurnError::Llm(e)) => {
                tracing::warn!(error = %e, "model call failed");
                (
                    StatusCode::BAD_GATEWAY,
                    "llm_unavailable",
                    "The model is not available right now. Please try again.".to_owned(),
                )
            }
            Self::Turn(TurnError::Mcp(e)) => {
                tracing::warn!(error = %e, "task server call failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "tasks_unavailable",
                    "The task service is not available right now. Please try again.".to_owned(),
                )
            }
            Self::Turn(TurnError::Busy) => (StatusCode::CONFLICT, "busy", self.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut response =
            (status, Json(json!({"error": code, "message": message}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

// ---- extractors ------------------------------------------------------------

/// A JSON body whose rejections are [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::Unsupported(
                "send the body as JSON (Content-Type: application/json)".into(),
            )),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::TooLarge(format!("the body must be at most {MAX_BODY_BYTES} bytes")),
            ),
            // Valid JSON of the wrong shape (a string for a number, a missing field).
            Err(rejection) if rejection.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                Err(ApiError::Unprocessable(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// The authenticated caller, who is the `{user_id}` of the path (checked by
/// [`authenticate`], which puts it in the request's extensions).
#[derive(Debug, Clone)]
pub struct Caller(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthenticated(AuthError::Missing))
    }
}

/// The request's id and trace context (from the observing middleware; a
/// fresh id if it is somehow absent).
pub struct Trace(pub TraceContext);

impl<S: Send + Sync> FromRequestParts<S> for Trace {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<TraceContext>()
                .cloned()
                .unwrap_or_else(TraceContext::generate),
        ))
    }
}

/// Verify the bearer token and that its `sub` is the path's `{user_id}`;
/// log every refusal (reason, path, client; never the token).
async fn authenticate(
    State(state): State<Arc<AppState>>,
    Path(params): Path<Vec<(String, String)>>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let path = request.uri().path().to_owned();
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let verified = match bearer_token(header) {
        Ok(token) => state.verifier.verify(token).await,
        Err(e) => Err(e),
    };
    let user = match verified {
        Ok(token) => token.user,
        Err(error) => {
            state.metrics.auth_failure(error.reason());
            tracing::warn!(reason = error.reason(), detail = %error, %path, %client, "authentication failed");
            return ApiError::Unauthenticated(error).into_response();
        }
    };
    let path_user = params
        .iter()
        .find(|(k, _)| k == "user_id")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if path_user != user.as_str() {
        state.metrics.auth_failure("user_mismatch");
        tracing::warn!(reason = "user_mismatch", %path, %client, "access denied");
        return ApiError::Forbidden(path_user.chars().take(64).collect()).into_response();
    }
    request.extensions_mut().insert(Caller(user));
    next.run(request).await
}

fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    let id = raw.parse::<i64>().map_err(|_| {
        ApiError::BadRequest(format!(
            "conversation id must be an integer, got {:?}",
            raw.chars().take(32).collect::<String>()
        ))
    })?;
    Ok(ConversationId::parse(id)?)
}

// ---- handlers --------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    #[serde(default)]
    pub conversation_id: Option<i64>,
    pub message: String,
}

async fn chat(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    trace: Trace,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Response, ApiError> {
    let text = MessageText::parse(&request.message)?;
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
        return stream_chat(&state, user, conversation, text, trace.0).await;
    }
    let report = state.agent.turn(&user, conversation, text, trace.0).await?;
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
    user: UserId,
    conversation: Option<ConversationId>,
    text: MessageText,
    trace: TraceContext,
) -> Result<Response, ApiError> {
    let mut events = state.agent.stream_turn(user, conversation, text, trace);
    let first = match events.recv().await {
        Some(TurnEvent::Finished(Err(error))) => return Err(ApiError::Turn(error)),
        Some(event) => event,
        None => {
            return Err(ApiError::Domain(todo_shared::Error::internal(
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

fn sse_event(event: TurnEvent) -> Event {
    let data = match event {
        TurnEvent::Conversation { conversation_id } => {
            json!({"type": "conversation", "conversation_id": conversation_id})
        }
        TurnEvent::TextDelta(text) => json!({"type": "text_delta", "text": text}),
        TurnEvent::ToolCall {
            id,
            name,
            arguments,
        } => json!({"type": "tool_call", "id": id, "name": name, "arguments": arguments}),
        TurnEvent::ToolResult {
            id,
            result,
            is_error,
        } => json!({"type": "tool_result", "id": id, "result": result, "is_error": is_error}),
        TurnEvent::Finished(Ok(report)) => json!({
            "type": "done",
            "conversation_id": report.conversation_id,
            "message_id": report.message_id,
            "response": report.response,
            "tool_calls": report.tool_calls,
        }),
        TurnEvent::Finished(Err(error)) => {
            let (_, code, message) = ApiError::Turn(error).parts();
            json!({"type": "error", "error": code, "message": message})
        }
    };
    Event::default().data(data.to_string())
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<u32>,
    /// Conversations: the id of the last conversation of the previous page.
    /// Messages: the id of the last message of the previous page.
    pub after: Option<i64>,
}

#[derive(Serialize)]
struct ConversationView {
    id: i64,
    title: String,
    created_at: String,
    updated_at: String,
}

async fn list_conversations(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    let after = match query.after {
        Some(id) => Some(conversation::get(&state.store, &user, ConversationId::parse(id)?).await?),
        None => None,
    };
    let page = conversation::list(&state.store, &user, limit, after.as_ref()).await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|c| c.id))
        .flatten();
    let items: Vec<ConversationView> = page
        .into_iter()
        .map(|c| ConversationView {
            id: c.id,
            title: c.title,
            created_at: format_timestamp(&c.created_at),
            updated_at: format_timestamp(&c.updated_at),
        })
        .collect();
    Ok(Json(json!({"conversations": items, "next_after": next})))
}

async fn get_conversation(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let id = conversation_id(&id)?;
    let limit = page_limit(query.limit)?;
    let found = conversation::get(&state.store, &user, id).await?;
    let mut messages =
        conversation::page(&state.store, &user, id, query.after.unwrap_or(0), limit).await?;
    let full = messages.len() == limit as usize;
    // A page never ends between a step's calls and their results.
    if full
        && let Some(last) = messages.last()
        && (last.role == Role::Tool || last.tool_calls.is_some())
    {
        let rest = conversation::page(&state.store, &user, id, last.id, MAX_PAGE).await?;
        messages.extend(rest.into_iter().take_while(|m| m.role == Role::Tool));
    }
    let next = full.then(|| messages.last().map(|m| m.id)).flatten();
    Ok(Json(json!({
        "conversation_id": found.id,
        "title": found.title,
        "created_at": format_timestamp(&found.created_at),
        "updated_at": format_timestamp(&found.updated_at),
        "messages": message_views(&messages),
        "next_after": next,
    })))
}

async fn delete_conversation(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    conversation::delete(&state.store, &user, conversation_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    /// all (default), pending or completed.
    pub status: Option<String>,
}

/// The user's tasks, read from the task server over MCP (list_tasks) the
/// way the agent reads them; read-only.
async fn list_tasks(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    trace: Trace,
    query: Result<Query<TasksQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let arguments = json!({
        "status": query.status.as_deref().unwrap_or("all"),
        "limit": todo_shared::task::MAX_LIST_LIMIT,
    });
    let outcome = state
        .agent
        .tasks
        .call(&user, "list_tasks", &arguments.to_string(), &trace.0)
        .await
        .map_err(|e| ApiError::Turn(TurnError::Mcp(e)))?;
    match outcome.structured {
        Some(tasks) if !outcome.is_error => Ok(Json(tasks)),
        _ => Err(ApiError::BadRequest(outcome.text)),
    }
}

/// Ready when the database and the task server both answer.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let (database, tasks) = tokio::join!(state.store.ping(), state.agent.tasks.ping());
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness: database unreachable");
    }
    if let Err(error) = &tasks {
        tracing::warn!(%error, "readiness: task server unreachable");
    }
    let body = json!({
        "status": if database.is_ok() && tasks.is_ok() { "ready" } else { "unavailable" },
        "database": if database.is_ok() { "ok" } else { "unavailable" },
        "tasks": if tasks.is_ok() { "ok" } else { "unavailable" },
    });
    let status = if database.is_ok() && tasks.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The largest page a client may ask for.
const MAX_PAGE: u32 = 200;

fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(50) {
        n @ 1..=MAX_PAGE => Ok(n),
        n => Err(ApiError::BadRequest(format!(
            "limit must be between 1 and 200, got {n}"
        ))),
    }
}

/// Messages as the API shows them: user and assistant messages, with the
/// assistant's tool calls joined to their results (tool messages fold in).
/// A step's results are the tool messages stored right after its calls
/// (one statement stores them together), so call ids that a model reuses
/// from turn to turn cannot mix results up.
fn message_views(messages: &[Message]) -> Vec<serde_json::Value> {
    let mut views = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        if message.role == Role::Tool {
            continue;
        }
        let mut view = json!({
            "id": message.id,
            "role": message.role.as_str(),
            "content": message.content,
            "created_at": format_timestamp(&message.created_at),
        });
        if let Some(calls) = message.tool_calls.as_deref() {
            let results: Vec<&Message> = messages[index + 1..]
                .iter()
                .take_while(|m| m.role == Role::Tool)
                .collect();
            view["tool_calls"] = tool_call_views(calls, &results);
        }
        views.push(view);
    }
    views
}

fn tool_call_views(calls: &str, results: &[&Message]) -> serde_json::Value {
    let calls: Vec<crate::llm::ToolCall> = serde_json::from_str(calls).unwrap_or_default();
    calls
        .iter()
        .map(|call| {
            let result = results
                .iter()
                .find(|m| m.tool_call_id.as_deref() == Some(call.id.as_str()));
            json!({
                "name": call.function.name,
                "arguments": serde_json::from_str::<serde_json::Value>(&call.function.arguments).unwrap_or(serde_json::Value::Null),
                "result": result.and_then(|m| m.content.as_deref()).map(|c| serde_json::from_str::<serde_json::Value>(c).unwrap_or_else(|_| json!(c))),
                "is_error": result.and_then(|m| m.is_error).unwrap_or(false),
            })
        })
        .collect()
}
