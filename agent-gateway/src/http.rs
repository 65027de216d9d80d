//! The HTTP API (axum): chat, conversations, probes. Every `/api/{user_id}`
//! route needs a bearer token whose `sub` is `{user_id}`.
//!
//! Errors are `{"error": code, "message": text}`, mapped from the crates'
//! errors in one place ([`ApiError`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
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
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::agent::{Agent, ToolCallReport, TurnError, TurnEvent, TurnReport};
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

/// The whole HTTP application: the API, the web chat, the probes and the
/// API's own description. Every route is registered through an
/// [`OpenApiRouter`] with the handler's `#[utoipa::path]`, so the OpenAPI
/// document served at `/openapi.json` lists exactly the routes served.
pub fn router(state: AppState, limits: RateLimits) -> Router {
    let (router, spec) = routes(state, limits);
    let json = spec.to_json().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot encode the OpenAPI document");
        "{}".to_owned()
    });
    router.layer(axum::Extension(crate::openapi::Spec(Arc::from(json))))
}

/// The router and the OpenAPI document that describes it.
fn routes(state: AppState, limits: RateLimits) -> (Router, utoipa::openapi::OpenApi) {
    let state = Arc::new(state);
    let metrics = state.metrics.clone();
    let chat_routes = OpenApiRouter::new().routes(routes!(chat)).route_layer(
        axum::middleware::from_fn_with_state(limits.chat, limit::enforce),
    );
    let read_routes = OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation, delete_conversation))
        .routes(routes!(list_tasks))
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
    let (router, spec) = OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(api)
        .merge(crate::web::routes(state.dev_tokens.is_some()))
        .merge(crate::openapi::routes())
        .routes(routes!(health))
        .routes(routes!(ready))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .split_for_parts();
    let router = router.layer(axum::middleware::from_fn_with_state(metrics, observe));
    (router, crate::openapi::finish(spec))
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

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code to act on: bad_request, invalid_input, unsupported_media_type,
    /// payload_too_large, unauthorized, forbidden, not_found, conflict, busy,
    /// rate_limited, internal, llm_timeout, llm_unavailable, tasks_unavailable.
    #[schema(example = "invalid_input")]
    pub error: &'static str,
    /// What went wrong, for people.
    #[schema(example = "message must not be empty")]
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut response = (
            status,
            Json(ErrorBody {
                error: code,
                message,
            }),
        )
            .into_response();
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

/// A query string whose rejections are [`ApiError`]s (400).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
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
    security(("bearer" = [])),
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
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
        (status = 504, description = "The model took too long", body = ErrorBody),
    )
)]
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

/// The `{user_id}` of every API path: the signed-in user (the token's `sub`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The signed-in user's id; any other user's is refused with 403.
    pub user_id: String,
}

/// One conversation's path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    /// The signed-in user's id.
    pub user_id: String,
    /// The conversation's id.
    #[param(minimum = 1)]
    pub id: i64,
}

/// A page of conversations.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationPage {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The id of the last conversation of the previous page (its `next_after`).
    #[param(minimum = 1)]
    pub after: Option<i64>,
}

/// A page of messages.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagePage {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The id of the last message of the previous page (its `next_after`);
    /// 0 or absent for the first page.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// A conversation, without its messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: i64,
    /// The start of the first message.
    pub title: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the last message was stored.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A page of the user's conversations, most recently active first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// List the user's conversations, most recently active first.
#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations",
    tag = "conversations",
    params(UserPath, ConversationPage),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationList),
        (status = 404, description = "`after` names no conversation of the user", body = ErrorBody),
        (status = 422, description = "`after` is not a positive id", body = ErrorBody),
    )
)]
async fn list_conversations(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    ApiQuery(query): ApiQuery<ConversationPage>,
) -> Result<Json<ConversationList>, ApiError> {
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
    Ok(Json(ConversationList {
        conversations: items,
        next_after: next,
    }))
}

/// A conversation with a page of its messages, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationDetail {
    pub conversation_id: i64,
    pub title: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// User and assistant messages; tool results are folded into the
    /// assistant message whose calls they answer.
    pub messages: Vec<MessageView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// One message of a conversation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// `user` or `assistant`.
    #[schema(example = "assistant")]
    pub role: &'static str,
    /// The text (null for an assistant step that only called tools).
    pub content: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The tools this assistant message called, with their results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallView>>,
}

/// A stored tool call and its result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolCallView {
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: serde_json::Value,
    /// The tool's result (null if none was stored).
    pub result: serde_json::Value,
    pub is_error: bool,
}

/// Read a conversation and a page of its messages. Another user's
/// conversation answers 404, like one that does not exist.
#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations/{id}",
    tag = "conversations",
    params(ConversationPath, MessagePage),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation and a page of messages", body = ConversationDetail),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "The id is not a positive integer", body = ErrorBody),
    )
)]
async fn get_conversation(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    Path((_, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<MessagePage>,
) -> Result<Json<ConversationDetail>, ApiError> {
    let id = conversation_id(&id)?;
    let limit = page_limit(query.limit)?;
    let found = conversation::get(&state.store, &user, id).await?;
    let after = match query.after.unwrap_or(0) {
        after @ 0.. => after,
        after => {
            return Err(ApiError::BadRequest(format!(
                "after must be 0 or a message id, got {after}"
            )));
        }
    };
    let mut messages = conversation::page(&state.store, &user, id, after, limit).await?;
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
    Ok(Json(ConversationDetail {
        conversation_id: found.id,
        title: found.title,
        created_at: format_timestamp(&found.created_at),
        updated_at: format_timestamp(&found.updated_at),
        messages: message_views(&messages),
        next_after: next,
    }))
}

/// Delete a conversation and all its messages (the tasks stay).
#[utoipa::path(
    delete,
    path = "/api/{user_id}/conversations/{id}",
    tag = "conversations",
    params(ConversationPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "The id is not a positive integer", body = ErrorBody),
        (status = 409, description = "A turn on it is still running", body = ErrorBody),
    )
)]
async fn delete_conversation(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    conversation::delete(&state.store, &user, conversation_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// Which tasks (default all).
    pub status: Option<TaskStatus>,
}

/// Which tasks to list.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    All,
    Pending,
    Completed,
}

impl TaskStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// The user's tasks (the first 200), as the task server's list_tasks gives them.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskView>,
    /// Present when more tasks follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A task.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The user's tasks, read from the task server over MCP (list_tasks) the
/// way the assistant reads them; read-only.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    tag = "tasks",
    params(UserPath, TasksQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tasks, newest first", body = TaskList),
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
    )
)]
async fn list_tasks(
    State(state): State<Arc<AppState>>,
    Caller(user): Caller,
    trace: Trace,
    ApiQuery(query): ApiQuery<TasksQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let arguments = json!({
        "status": query.status.unwrap_or(TaskStatus::All).as_str(),
        "limit": todo_shared::task::MAX_LIST_LIMIT,
    });
    let outcome = state
        .agent
        .tasks
        .call(&user, "list_tasks", &arguments.to_string(), &trace.0)
        .await
        .map_err(|e| ApiError::Turn(TurnError::Mcp(e)))?;
    match outcome.structured {
        Some(tasks) if !outcome.is_error => serde_json::from_value(tasks).map(Json).map_err(|e| {
            ApiError::Domain(todo_shared::Error::internal(format!(
                "list_tasks gave an unexpected result: {e}"
            )))
        }),
        _ => Err(ApiError::BadRequest(outcome.text)),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "probes",
    responses((status = 200, description = "Alive", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// `ok` or `unavailable`.
    pub database: &'static str,
    /// The task server: `ok` or `unavailable`.
    pub tasks: &'static str,
}

/// Readiness: the database and the task server both answer.
#[utoipa::path(get, path = "/ready", tag = "probes",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database or the task server is unreachable", body = Readiness),
    ))]
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let (database, tasks) = tokio::join!(state.store.ping(), state.agent.tasks.ping());
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness: database unreachable");
    }
    if let Err(error) = &tasks {
        tracing::warn!(%error, "readiness: task server unreachable");
    }
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = Readiness {
        status: if database.is_ok() && tasks.is_ok() {
            "ready"
        } else {
            "unavailable"
        },
        database: word(database.is_ok()),
        tasks: word(tasks.is_ok()),
    };
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
fn message_views(messages: &[Message]) -> Vec<MessageView> {
    let mut views = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        if message.role == Role::Tool {
            continue;
        }
        let tool_calls = message.tool_calls.as_deref().map(|calls| {
            let results: Vec<&Message> = messages[index + 1..]
                .iter()
                .take_while(|m| m.role == Role::Tool)
                .collect();
            tool_call_views(calls, &results)
        });
        views.push(MessageView {
            id: message.id,
            role: message.role.as_str(),
            content: message.content.clone(),
            created_at: format_timestamp(&message.created_at),
            tool_calls,
        });
    }
    views
}

fn tool_call_views(calls: &str, results: &[&Message]) -> Vec<ToolCallView> {
    let calls: Vec<crate::llm::ToolCall> = serde_json::from_str(calls).unwrap_or_default();
    calls
        .iter()
        .map(|call| {
            let result = results
                .iter()
                .find(|m| m.tool_call_id.as_deref() == Some(call.id.as_str()));
            ToolCallView {
                name: call.function.name.clone(),
                arguments: serde_json::from_str(&call.function.arguments)
                    .unwrap_or(serde_json::Value::Null),
                result: result
                    .and_then(|m| m.content.as_deref())
                    .map(|c| serde_json::from_str(c).unwrap_or_else(|_| json!(c)))
                    .unwrap_or(serde_json::Value::Null),
                is_error: result.and_then(|m| m.is_error).unwrap_or(false),
            }
        })
        .collect()
}
