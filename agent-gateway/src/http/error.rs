//! The API's errors: every failure, mapped to a status, a stable code and a
//! message in one place ([`ApiError::parts`]), as a JSON body or a stream's
//! `error` event. Causes that clients do not see are logged here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use todo_server::auth::AuthError;

use crate::agent::TurnError;
use crate::llm::LlmError;
use crate::mcp::McpError;

/// Every failure of the API, mapped to a status and a body here only.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Turn(#[from] TurnError),
    #[error(transparent)]
    Domain(#[from] todo_domain::Error),
    #[error("{0}")]
    Unauthenticated(AuthError),
    #[error("the token's user is not {0}")]
    Forbidden(String),
}

impl ApiError {
    /// Seconds to wait before trying again, for the answers that say so
    /// (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Turn(TurnError::Mcp(McpError::RateLimited { retry_after })) => {
                Some(retry_after.unwrap_or(1).max(1))
            }
            Self::Turn(TurnError::BudgetSpent { retry_after, .. }) => {
                Some(retry_after.as_secs().max(1))
            }
            Self::Turn(TurnError::Overloaded) => Some(2),
            _ => None,
        }
    }

    /// Status, code and message: the one mapping of errors to what clients
    /// see (a JSON body, or a stream's `error` event). Causes that clients do
    /// not see are logged here.
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        use todo_domain::Error as E;
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            Self::Unprocessable(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", m.clone())
            }
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
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
                E::QuotaExceeded(m) => (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded", m.clone()),
                E::Forbidden => (StatusCode::FORBIDDEN, "forbidden", e.to_string()),
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
            Self::Turn(TurnError::Mcp(McpError::RateLimited { .. })) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Too many requests for your tasks. Try again in {} s.",
                    self.retry_after().unwrap_or(1)
                ),
            ),
            Self::Turn(TurnError::Mcp(e)) => {
                tracing::warn!(error = %e, "task server call failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "tasks_unavailable",
                    "The task service is not available right now. Please try again.".to_owned(),
                )
            }
            Self::Turn(TurnError::Busy) => (StatusCode::CONFLICT, "busy", self.to_string()),
            Self::Turn(TurnError::BudgetSpent {
                budget,
                retry_after,
            }) => (
                StatusCode::TOO_MANY_REQUESTS,
                "budget_exhausted",
                format!(
                    "You have used today's budget of {budget} model tokens. It starts again at \
                     midnight UTC, in {} min.",
                    retry_after.as_secs().div_ceil(60)
                ),
            ),
            Self::Turn(TurnError::Overloaded) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                self.to_string(),
            ),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code to act on: bad_request, invalid_input, unsupported_media_type,
    /// payload_too_large, unauthorized, forbidden, not_found, conflict, busy,
    /// rate_limited, internal, llm_timeout, llm_unavailable, tasks_unavailable,
    /// overloaded (with Retry-After), request_timeout, budget_exhausted (with
    /// Retry-After: the day's model tokens are spent), quota_exceeded (the
    /// user keeps as many conversations, or messages in this one, as one
    /// user may: delete some).
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
        if let Some(wait) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
