//! The middleware that holds the authenticated caller to a limit: the
//! limit's headers on every answer, and 429 with `Retry-After` when spent.

use crate::identity::Caller;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::limit::decision::Decision;
use crate::limit::per_user::Limit;

/// Middleware: the limit for the authenticated caller (a [`Caller`]
/// in the request's extensions, put there by the authentication layer).
pub async fn enforce(State(limit): State<Limit>, request: Request, next: Next) -> Response {
    let Some(Caller { user, .. }) = request.extensions().get().cloned() else {
        // Unreachable behind the authentication layer; fail closed.
        tracing::error!("rate limit without an authenticated user");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let per_minute = limit.per_minute();
    match limit.check(&user).await {
        Decision::Allow { remaining } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(per_minute));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            response
        }
        Decision::Deny { retry_after } => {
            limit.count_refusal();
            tracing::warn!(user = %user, limit = limit.name(), path = %request.uri().path(), "rate limit exceeded");
            let wait = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({
                    "error": "rate_limited",
                    "message": format!("Too many requests. Try again in {wait} s."),
                })),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
            headers.insert("x-ratelimit-after", HeaderValue::from(wait));
            headers.insert("x-ratelimit-limit", HeaderValue::from(per_minute));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
            response
        }
    }
}
