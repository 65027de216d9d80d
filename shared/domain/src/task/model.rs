//! A task as stored, and what the service functions answer with.

use chrono::{DateTime, Utc};

use crate::task::due::Due;
use crate::task::listing::Cursor;
use crate::task::priority::Priority;
use crate::task::recurrence::Recurrence;
use crate::task::tags::Tags;

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub due: Option<Due>,
    pub priority: Priority,
    pub tags: Tags,
    pub recurrence: Option<Recurrence>,
    /// Where the repeat series started (its first due): COUNT counts from
    /// here.
    pub recurrence_start: Option<Due>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    pub next_cursor: Option<Cursor>,
}

/// What `complete` did to one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub task: Task,
    /// It was completed before this call (completing twice is not an error).
    pub was_already_completed: bool,
    /// It repeats: it stays open, its due moved to the next occurrence.
    pub recurred: bool,
}
