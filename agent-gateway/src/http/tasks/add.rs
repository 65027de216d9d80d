//! `POST /api/{user_id}/tasks`: a new task (add_task).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use todo_domain::task::TaskItem;
use todo_server::Caller;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Trace};
use crate::http::params::UserPath;
use crate::http::state::AppState;
use crate::http::tasks::tool;

/// A task to add.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskBody {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, example = "Pay the rent")]
    pub title: String,
    /// Up to 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// A date (2026-12-24) or a date-time with offset (2026-12-24T09:00:00+01:00).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "2027-01-01")]
    pub due: Option<String>,
    /// none (default), low, medium or high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(none|low|medium|high)$")]
    pub priority: Option<String>,
    /// Up to 20 tags, each 1 to 40 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// An RFC 5545 RRULE; needs due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "FREQ=MONTHLY;BYMONTHDAY=1")]
    pub recurrence: Option<String>,
}

/// Add a task for the signed-in user (the task server's add_task).
#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks",
    tag = "tasks",
    params(UserPath),
    request_body = NewTaskBody,
    responses(
        (status = 201, description = "The new task", body = TaskItem),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 422, description = "An invalid field; the message names it and the accepted form", body = ErrorBody),
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
    )
)]
pub async fn add_task(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    trace: Trace,
    ApiJson(body): ApiJson<NewTaskBody>,
) -> Result<(StatusCode, Json<TaskItem>), ApiError> {
    let result = tool::call(&state, &caller, &trace, "add_task", &body).await?;
    Ok((StatusCode::CREATED, Json(tool::task_view(result)?)))
}
