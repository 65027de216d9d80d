//! The API's side of authentication: how it says 401 (for the shared
//! layer), and the rule that a token opens only its own user's paths.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use todo_server::Caller;
use todo_server::http::authenticate::{Refusal, client_addr};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The API's 401: the usual error body and `WWW-Authenticate: Bearer`.
pub fn refusal() -> Refusal {
    Arc::new(|_headers, error| ApiError::Unauthenticated(error.clone()).into_response())
}

/// Middleware behind authentication: the path's `{user_id}` must be the
/// caller; any other is refused with 403, counted and logged.
pub async fn own_path(
    State(state): State<Arc<AppState>>,
    Path(params): Path<Vec<(String, String)>>,
    caller: Caller,
    request: Request,
    next: Next,
) -> Response {
    let path_user = params
        .iter()
        .find(|(k, _)| k == "user_id")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if path_user != caller.user().as_str() {
        let client = client_addr(&request);
        let path = request.uri().path();
        state.metrics.auth_failure("user_mismatch");
        tracing::warn!(reason = "user_mismatch", %path, %client, "access denied");
        return ApiError::Forbidden(path_user.chars().take(64).collect()).into_response();
    }
    next.run(request).await
}
