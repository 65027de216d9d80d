//! `PATCH /api/{user_id}/tasks/{id}`: change a task (update_task), or tick
//! it off (complete_task, which moves a repeating task on).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use todo_domain::task::TaskItem;
use todo_server::Caller;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Trace};
use crate::http::params::{TaskPath, task_id};
use crate::http::state::AppState;
use crate::http::tasks::tool;

/// A change: only the fields given change; null clears due or recurrence.
/// `{"completed": true}` alone ticks the task off as complete_task does (a
/// repeating task stays open, due at its next occurrence).
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChangeBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// An empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// A date or a date-time with offset; null removes it.
    #[serde(
        default,
        deserialize_with = "todo_domain::task::present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub due: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(none|low|medium|high)$")]
    pub priority: Option<String>,
    /// The whole new list of tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub add_tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub remove_tags: Option<Vec<String>>,
    /// An RFC 5545 RRULE; null stops the repeat.
    #[serde(
        default,
        deserialize_with = "todo_domain::task::present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub recurrence: Option<Option<String>>,
    /// false reopens the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
}

/// Change one of the signed-in user's tasks.
#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}",
    tag = "tasks",
    params(TaskPath),
    request_body = TaskChangeBody,
    responses(
        (status = 200, description = "The task after the change", body = TaskItem),
        (status = 404, description = "No such task (or another user's)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 422, description = "An invalid field, or no field; the message names it", body = ErrorBody),
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
    )
)]
pub async fn update_task(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    trace: Trace,
    Path(path): Path<TaskPath>,
    ApiJson(body): ApiJson<TaskChangeBody>,
) -> Result<Json<TaskItem>, ApiError> {
    let task_id = task_id(&path.id)?;
    let result = if body.only_ticks_off() {
        let arguments = json!({ "task_id": task_id });
        tool::call(&state, &caller, &trace, "complete_task", &arguments).await?
    } else {
        let arguments = UpdateArguments {
            task_id,
            change: &body,
        };
        tool::call(&state, &caller, &trace, "update_task", &arguments).await?
    };
    Ok(Json(tool::task_view(result)?))
}

/// update_task's arguments: the task's id and the change.
#[derive(Serialize)]
struct UpdateArguments<'a> {
    task_id: i64,
    #[serde(flatten)]
    change: &'a TaskChangeBody,
}

impl TaskChangeBody {
    /// `{"completed": true}` and nothing else? (Every field is named, so a
    /// new one must be decided on here.)
    fn only_ticks_off(&self) -> bool {
        matches!(
            self,
            Self {
                completed: Some(true),
                title: None,
                description: None,
                due: None,
                priority: None,
                tags: None,
                add_tags: None,
                remove_tags: None,
                recurrence: None,
            }
        )
    }
}
