//! The task's wire shape: how a task looks in `list_tasks` results and in
//! the gateway's `GET /api/{user_id}/tasks`, which passes that result on.
//! Defined once, with both schemas it is published under: JSON Schema
//! (the tool's output schema, which models read) and, with the `openapi`
//! feature, OpenAPI (the gateway's document). The two documents were
//! published with their own names and descriptions, which are kept.

use serde::{Deserialize, Serialize};

use crate::task::model::{Task, TaskPage};
use crate::time::format_timestamp;

/// One page of tasks, in the order asked for (newest first by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "The user's tasks (the first 200), as the task server's list_tasks gives them."
    )
)]
pub struct TaskList {
    pub tasks: Vec<TaskItem>,
    /// Present when more tasks follow: pass it as cursor to get them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A task in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = TaskView, description = "A task.")
)]
pub struct TaskItem {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    /// When it is due: a date (2026-12-24), a date-time with offset (2026-12-24T09:00:00+01:00), or null.
    pub due: Option<String>,
    /// "none", "low", "medium" or "high".
    #[schemars(extend("enum" = ["none", "low", "medium", "high"]))]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^(none|low|medium|high)$"))]
    pub priority: String,
    /// Its tags, lower-case, sorted.
    pub tags: Vec<String>,
    /// How it repeats (an RFC 5545 RRULE such as FREQ=MONTHLY;BYMONTHDAY=1), or null.
    pub recurrence: Option<String>,
    /// When it was completed (RFC 3339, UTC), or null while open.
    #[schemars(extend("format" = "date-time"))]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub completed_at: Option<String>,
    #[schemars(extend("format" = "date-time"))]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    #[schemars(extend("format" = "date-time"))]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
}

impl From<Task> for TaskItem {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            created_at: format_timestamp(&task.created_at),
            updated_at: format_timestamp(&task.updated_at),
            due: task.due.map(|d| d.to_text()),
            priority: task.priority.as_str().to_owned(),
            tags: task.tags.names(),
            recurrence: task.recurrence.map(|r| r.as_str().to_owned()),
            completed_at: task.completed_at.as_ref().map(format_timestamp),
            title: task.title,
            description: task.description,
            completed: task.completed,
        }
    }
}

impl From<TaskPage> for TaskList {
    fn from(page: TaskPage) -> Self {
        Self {
            tasks: page.tasks.into_iter().map(TaskItem::from).collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
        }
    }
}
