//! What the tools that change tasks answer. (`list_tasks` answers the
//! domain's [`todo_domain::task::TaskList`], the wire shape the gateway
//! shows too.)

use schemars::JsonSchema;
use serde::Serialize;
use todo_domain::task::{Completed, Task, TaskItem};

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
    /// When it is due: a date (2026-12-24), a date-time with offset, or null.
    pub due: Option<String>,
    /// "none", "low", "medium" or "high".
    #[schemars(extend("enum" = ["none", "low", "medium", "high"]))]
    pub priority: String,
    /// Its tags, lower-case, sorted.
    pub tags: Vec<String>,
    /// How it repeats (an RRULE), or null.
    pub recurrence: Option<String>,
    /// When it was completed (RFC 3339, UTC), or null while open.
    #[schemars(extend("format" = "date-time"))]
    pub completed_at: Option<String>,
    /// When the task was created (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// When the task last changed (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// complete_task only: true when the task was already completed before this call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_completed: Option<bool>,
    /// complete_task only: true when the task repeats, so it stays open and due now holds its next occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurred: Option<bool>,
}

impl TaskResult {
    /// `task`, after what `status` says happened to it.
    /// Its fields are the task's wire shape ([`TaskItem`], what list_tasks
    /// shows), with `task_id` for `id`.
    pub fn new(status: &'static str, task: Task) -> Self {
        let item = TaskItem::from(task);
        Self {
            task_id: item.id,
            status,
            title: item.title,
            description: item.description,
            completed: item.completed,
            due: item.due,
            priority: item.priority,
            tags: item.tags,
            recurrence: item.recurrence,
            completed_at: item.completed_at,
            created_at: item.created_at,
            updated_at: item.updated_at,
            already_completed: None,
            recurred: None,
        }
    }

    /// What complete_task did.
    pub fn completed(done: Completed) -> Self {
        let mut result = Self::new("completed", done.task);
        result.already_completed = Some(done.was_already_completed);
        result.recurred = Some(done.recurred);
        result
    }
}

/// Several tasks after add_tasks, or after a change given task_ids.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TaskResults {
    /// One entry per task, in the order given.
    pub tasks: Vec<TaskResult>,
}

impl TaskResults {
    pub fn new(status: &'static str, tasks: Vec<Task>) -> Self {
        Self {
            tasks: tasks
                .into_iter()
                .map(|t| TaskResult::new(status, t))
                .collect(),
        }
    }
}

/// The answer of a tool that takes task_id or task_ids: one task, or
/// `{tasks: [...]}`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(extend("type" = "object"))]
pub enum OneOrMany {
    One(Box<TaskResult>),
    Many(TaskResults),
}
