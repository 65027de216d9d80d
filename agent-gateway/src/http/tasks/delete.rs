//! `DELETE /api/{user_id}/tasks/{id}`: delete a task (delete_task).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::json;
use todo_domain::task::TaskItem;
use todo_server::Caller;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Trace;
use crate::http::params::{TaskPath, task_id};
use crate::http::state::AppState;
use crate::http::tasks::tool;

/// Delete one of the signed-in user's tasks; answers the task as it was.
#[utoipa::path(
    delete,
    path = "/api/{user_id}/tasks/{id}",
    tag = "tasks",
    params(TaskPath),
    responses(
        (status = 200, description = "The deleted task", body = TaskItem),
        (status = 404, description = "No such task (or another user's)", body = ErrorBody),
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
    )
)]
pub async fn delete_task(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    trace: Trace,
    Path(path): Path<TaskPath>,
) -> Result<Json<TaskItem>, ApiError> {
    let arguments = json!({"task_id": task_id(&path.id)?});
    let result = tool::call(&state, &caller, &trace, "delete_task", &arguments).await?;
    Ok(Json(tool::task_view(result)?))
}
