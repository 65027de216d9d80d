//! A task as stored, and what the service functions answer with.

use chrono::{DateTime, Utc};

use crate::task::input::Cursor;

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of tasks, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    pub next_cursor: Option<Cursor>,
}

/// What `complete` found: the task, and whether it was already completed
/// before this call (completing twice is not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub task: Task,
    pub was_already_completed: bool,
}
