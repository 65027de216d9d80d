//! What the tools that change one task answer. (`list_tasks` answers the
//! domain's [`todo_domain::task::TaskList`], the wire shape the gateway
//! shows too.)

use schemars::JsonSchema;
use serde::Serialize;
use todo_domain::task::Task;
use todo_domain::time::format_timestamp;

/// A task after add_task, update_task, complete_task or delete_task.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskResult {
    /// The task's id.
    pub task_id: i64,
    /// What happened: "created", "updated", "completed" or "deleted".
    pub status: &'static str,
    pub title: String,
    pub description: Option<String>,
    /// Whether the task is completed.
    pub completed: bool,
    /// When the task was created (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// When the task last changed (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// complete_task only: true when the task was already completed before this call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_completed: Option<bool>,
}

impl TaskResult {
    /// `task`, after what `status` says happened to it.
    pub fn new(status: &'static str, task: Task) -> Self {
        Self {
            task_id: task.id,
            status,
            created_at: format_timestamp(&task.created_at),
            updated_at: format_timestamp(&task.updated_at),
            title: task.title,
            description: task.description,
            completed: task.completed,
            already_completed: None,
        }
    }
}
