//! `GET /api/{user_id}/tasks`: the user's tasks, read from the task server
//! over MCP the way the assistant reads them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use todo_domain::page::MAX_PAGE_SIZE;
use todo_domain::task::{StatusFilter, TaskList};
use todo_server::Caller;

use crate::agent::TurnError;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, Trace};
use crate::http::params::UserPath;
use crate::http::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// Which tasks (default all).
    pub status: Option<StatusFilter>,
}

/// The user's tasks, read from the task server over MCP (list_tasks) the
/// way the assistant reads them; read-only.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    tag = "tasks",
    params(UserPath, TasksQuery),
    responses(
        (status = 200, description = "The tasks, newest first", body = TaskList),
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
    )
)]
pub async fn list_tasks(
    State(state): State<Arc<AppState>>,
    Caller { user, .. }: Caller,
    trace: Trace,
    ApiQuery(query): ApiQuery<TasksQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let arguments = json!({
        "status": query.status.unwrap_or_default().as_str(),
        "limit": MAX_PAGE_SIZE,
    });
    let outcome = state
        .agent
        .tasks
        .call(&user, "list_tasks", &arguments.to_string(), &trace.0)
        .await
        .map_err(|e| ApiError::Turn(TurnError::Mcp(e)))?;
    match outcome.structured {
        Some(tasks) if !outcome.is_error => serde_json::from_value(tasks).map(Json).map_err(|e| {
            ApiError::Domain(todo_domain::Error::internal(format!(
                "list_tasks gave an unexpected result: {e}"
            )))
        }),
        _ => Err(ApiError::BadRequest(outcome.text)),
    }
}
