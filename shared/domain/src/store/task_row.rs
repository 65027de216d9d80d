//! A `tasks` row as read, and the columns every statement reads and writes.

use chrono::{DateTime, Utc};

use crate::task::due::Due;
use crate::task::model::Task;
use crate::task::priority::Priority;
use crate::task::recurrence::Recurrence;
use crate::task::search::fold;
use crate::task::tags::Tags;

/// The columns of [`TaskRow`], in a macro so that queries stay
/// `&'static str` (sqlx refuses run-time SQL strings unless audited).
macro_rules! task_columns {
    () => {
        "id, title, description, completed, due, priority, tags, recurrence, \
         recurrence_start, completed_at, created_at, updated_at"
    };
}

/// The columns a full write sets, from `$3` on (`$1` is the id or the
/// user, `$2` the user or the id): bind them with [`bind_task!`].
macro_rules! task_values {
    () => {
        "title = $3, description = $4, completed = $5, due = $6, due_key = $7, \
         priority = $8, tags = $9, recurrence = $10, recurrence_start = $11, \
         completed_at = $12, updated_at = $13, search_title = $14, search_body = $15"
    };
}

/// Bind a [`TaskWrite`]'s values in the order of [`task_values!`].
macro_rules! bind_task {
    ($query:expr, $w:expr) => {
        $query
            .bind($w.task.title.as_str())
            .bind($w.task.description.as_deref())
            .bind($w.task.completed)
            .bind($w.due.as_deref())
            .bind($w.due_key.as_deref())
            .bind($w.task.priority.rank())
            .bind($w.tags.as_str())
            .bind($w.task.recurrence.as_ref().map(|r| r.as_str()))
            .bind($w.recurrence_start.as_deref())
            .bind($w.task.completed_at)
            .bind($w.task.updated_at)
            .bind($w.search_title.as_str())
            .bind($w.search_body.as_str())
    };
}

/// What a task looks like in its row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: i64,
    title: String,
    description: Option<String>,
    completed: bool,
    due: Option<String>,
    priority: i32,
    tags: String,
    recurrence: Option<String>,
    recurrence_start: Option<String>,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TaskRow> for Task {
    fn from(row: TaskRow) -> Self {
        Self {
            id: row.id,
            title: row.title,
            description: row.description,
            completed: row.completed,
            due: row.due.as_deref().and_then(Due::from_stored),
            priority: Priority::from_rank(row.priority),
            tags: Tags::from_stored(&row.tags),
            recurrence: row.recurrence.map(Recurrence::from_stored),
            recurrence_start: row.recurrence_start.as_deref().and_then(Due::from_stored),
            completed_at: row.completed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A row with the relevance of a search (0 when there is none).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RankedRow {
    #[sqlx(flatten)]
    pub(crate) row: TaskRow,
    pub(crate) relevance: i32,
}

/// A task's values as its row stores them.
pub(crate) struct TaskWrite<'a> {
    pub(crate) task: &'a Task,
    pub(crate) due: Option<String>,
    pub(crate) due_key: Option<String>,
    pub(crate) tags: String,
    pub(crate) recurrence_start: Option<String>,
    pub(crate) search_title: String,
    pub(crate) search_body: String,
}

impl<'a> TaskWrite<'a> {
    /// `task`'s values, its text folded in `scope` (its owner's).
    pub(crate) fn new(task: &'a Task, scope: &str) -> Self {
        Self {
            task,
            due: task.due.map(|d| d.to_text()),
            due_key: task.due.map(|d| d.key()),
            tags: task.tags.to_stored(),
            recurrence_start: task.recurrence_start.map(|d| d.to_text()),
            search_title: fold(scope, &task.title),
            search_body: task
                .description
                .as_deref()
                .map(|d| fold(scope, d))
                .unwrap_or_default(),
        }
    }
}
