//! The task's wire shape: how a task looks in `list_tasks` results and in
//! the gateway's `GET /api/{user_id}/tasks`, which passes that result on.
//! Defined once, with both schemas it is published under: JSON Schema
//! (the tool's output schema, which models read) and, with the `openapi`
//! feature, OpenAPI (the gateway's document). The two documents were
//! published with their own names and descriptions, which are kept.

use serde::{Deserialize, Serialize};

use crate::task::input::Cursor;
use crate::task::model::{Task, TaskPage};
use crate::time::format_timestamp;

/// One page of tasks, newest first.
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
            next_cursor: page.next_cursor.map(Cursor::encode),
        }
    }
}
