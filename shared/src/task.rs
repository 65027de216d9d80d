//! Tasks: validated inputs, the domain value, and the service functions that
//! both front doors (MCP tools, HTTP handlers) call.
//!
//! Every function takes the caller's [`UserId`] and passes it to the store,
//! whose every query filters on it: a task of another user is "not found"
//! through the very same code path as a task that does not exist.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::user::UserId;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const DEFAULT_LIST_LIMIT: u32 = 50;
pub const MAX_LIST_LIMIT: u32 = 200;

/// A task id as a client sent it, checked to be a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId(i64);

impl TaskId {
    pub fn parse(raw: i64) -> Result<Self> {
        if raw < 1 {
            return Err(Error::invalid(
                "task_id",
                format!("task_id must be a positive integer, got {raw}"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A title: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            return Err(Error::invalid(
                "title",
                format!(
                    "title must be 1 to {MAX_TITLE_CHARS} characters (got {chars} after trimming)"
                ),
            ));
        }
        if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
            return Err(Error::invalid(
                "title",
                format!(
                    "title must not contain control characters (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: at most 2,000 characters, stored exactly as written.
/// Newlines and tabs are allowed; other control characters are not. An
/// empty description means "no description".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub fn parse(raw: &str) -> Result<Self> {
        let chars = raw.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid(
                "description",
                format!(
                    "description must be at most {MAX_DESCRIPTION_CHARS} characters (got {chars})"
                ),
            ));
        }
        if let Some(c) = raw
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Error::invalid(
                "description",
                format!(
                    "description must not contain control characters other than newline and tab (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        Ok(Self((!raw.is_empty()).then(|| raw.to_owned())))
    }

    pub fn none() -> Self {
        Self(None)
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// Which tasks `list` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    Pending,
    Completed,
}

impl StatusFilter {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "all" => Ok(Self::All),
            "pending" => Ok(Self::Pending),
            "completed" => Ok(Self::Completed),
            other => Err(Error::invalid(
                "status",
                format!("status must be \"all\", \"pending\" or \"completed\", got {other:?}"),
            )),
        }
    }

    /// The `completed` value to filter on, if any.
    pub fn completed(self) -> Option<bool> {
        match self {
            Self::All => None,
            Self::Pending => Some(false),
            Self::Completed => Some(true),
        }
    }
}

/// Page size for `list`: 1 to 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub fn parse(raw: i64) -> Result<Self> {
        match u32::try_from(raw) {
            Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => Ok(Self(n)),
            _ => Err(Error::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_LIST_LIMIT}, got {raw}"),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_LIST_LIMIT)
    }
}

/// An opaque pagination cursor: the position after the last task of the
/// previous page. Clients only ever pass back what `list` gave them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

impl Cursor {
    const PREFIX: &'static str = "t";

    pub fn parse(raw: &str) -> Result<Self> {
        raw.strip_prefix(Self::PREFIX)
            .and_then(|rest| rest.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(|| {
                Error::invalid(
                    "cursor",
                    "cursor is not valid: pass the next_cursor value of a previous list_tasks result, or omit it for the first page",
                )
            })
    }

    fn after(task_id: i64) -> Self {
        Self(task_id)
    }

    pub fn before_id(self) -> i64 {
        self.0
    }

    pub fn encode(self) -> String {
        format!("{}{}", Self::PREFIX, self.0)
    }
}

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

/// A validated change to a task: at least one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPatch {
    title: Option<Title>,
    description: Option<Description>,
}

impl TaskPatch {
    pub fn new(title: Option<Title>, description: Option<Description>) -> Result<Self> {
        if title.is_none() && description.is_none() {
            return Err(Error::invalid(
                "title",
                "give a new title, a new description, or both",
            ));
        }
        Ok(Self { title, description })
    }

    pub fn title(&self) -> Option<&Title> {
        self.title.as_ref()
    }

    pub fn description(&self) -> Option<&Description> {
        self.description.as_ref()
    }
}

/// Timestamps in every output: UTC, RFC 3339, microseconds, `Z`.
pub fn format_timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The current time at the precision both databases keep (microseconds), so
/// what a write returns equals what a later read returns.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

// ---- service functions -------------------------------------------------

pub async fn add(
    store: &Store,
    user: &UserId,
    title: Title,
    description: Description,
) -> Result<Task> {
    Ok(store.insert_task(user, &title, &description, now()).await?)
}

pub async fn list(
    store: &Store,
    user: &UserId,
    status: StatusFilter,
    limit: Limit,
    cursor: Option<Cursor>,
) -> Result<TaskPage> {
    let mut tasks = store
        .list_tasks(
            user,
            status.completed(),
            limit.get() + 1,
            cursor.map(Cursor::before_id),
        )
        .await?;
    let next_cursor = if tasks.len() > limit.get() as usize {
        tasks.truncate(limit.get() as usize);
        tasks.last().map(|t| Cursor::after(t.id))
    } else {
        None
    };
    Ok(TaskPage { tasks, next_cursor })
}

pub async fn get(store: &Store, user: &UserId, id: TaskId) -> Result<Task> {
    store.get_task(user, id.get()).await?.ok_or(not_found(id))
}

pub async fn complete(store: &Store, user: &UserId, id: TaskId) -> Result<Completed> {
    let (task, was_already_completed) = store
        .complete_task(user, id.get(), now())
        .await?
        .ok_or(not_found(id))?;
    Ok(Completed {
        task,
        was_already_completed,
    })
}

pub async fn delete(store: &Store, user: &UserId, id: TaskId) -> Result<Task> {
    store
        .delete_task(user, id.get())
        .await?
        .ok_or(not_found(id))
}

pub async fn update(store: &Store, user: &UserId, id: TaskId, patch: TaskPatch) -> Result<Task> {
    store
        .update_task(user, id.get(), &patch, now())
        .await?
        .ok_or(not_found(id))
}

fn not_found(id: TaskId) -> Error {
    Error::NotFound {
        what: "Task",
        id: id.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed() {
        assert_eq!(
            Title::parse("  buy milk \n").ok().map(|t| t.0),
            Some("buy milk".into())
        );
    }

    #[test]
    fn empty_or_blank_title_is_rejected() {
        for raw in ["", "   ", "\n\t"] {
            let err = Title::parse(raw).err().map(|e| e.to_string());
            assert_eq!(
                err.as_deref(),
                Some("title must be 1 to 200 characters (got 0 after trimming)")
            );
        }
    }

    #[test]
    fn title_longer_than_200_chars_is_rejected() {
        assert!(Title::parse(&"x".repeat(200)).is_ok());
        assert!(Title::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn title_length_counts_characters_not_bytes() {
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"🦀".repeat(200)).is_ok());
        assert!(Title::parse(&"🦀".repeat(201)).is_err());
    }

    #[test]
    fn title_with_control_characters_is_rejected() {
        for raw in ["a\u{0}b", "a\nb", "a\tb", "a\u{7f}b", "a\u{9b}b"] {
            assert!(Title::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn html_in_title_is_kept_verbatim() {
        let raw = "<img src=x onerror=alert(1)> & \"quotes\"";
        assert_eq!(Title::parse(raw).ok().map(|t| t.0), Some(raw.to_owned()));
    }

    #[test]
    fn description_keeps_newlines_and_tabs_verbatim() {
        let raw = "  line one\n\tline two\r\n";
        assert_eq!(
            Description::parse(raw).ok().and_then(|d| d.0),
            Some(raw.to_owned())
        );
    }

    #[test]
    fn description_with_nul_is_rejected() {
        assert!(Description::parse("a\u{0}b").is_err());
        assert!(Description::parse("a\u{1b}[31mred").is_err());
    }

    #[test]
    fn description_longer_than_2000_chars_is_rejected() {
        assert!(Description::parse(&"d".repeat(2000)).is_ok());
        assert!(Description::parse(&"d".repeat(2001)).is_err());
    }

    #[test]
    fn empty_description_means_none() {
        assert_eq!(Description::parse("").ok(), Some(Description::none()));
    }

    #[test]
    fn task_id_must_be_positive() {
        assert!(TaskId::parse(1).is_ok());
        assert!(TaskId::parse(i64::MAX).is_ok());
        for raw in [0, -1, i64::MIN] {
            assert!(TaskId::parse(raw).is_err());
        }
    }

    #[test]
    fn limit_must_be_between_1_and_200() {
        assert_eq!(Limit::default().get(), 50);
        assert!(Limit::parse(1).is_ok() && Limit::parse(200).is_ok());
        for raw in [0, -5, 201, i64::MAX] {
            assert!(Limit::parse(raw).is_err());
        }
    }

    #[test]
    fn unknown_status_is_rejected_with_the_allowed_values() {
        assert_eq!(
            StatusFilter::parse("pending").ok(),
            Some(StatusFilter::Pending)
        );
        let message = StatusFilter::parse("done").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("status must be \"all\", \"pending\" or \"completed\", got \"done\"")
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor::after(42);
        assert_eq!(Cursor::parse(&cursor.encode()).ok(), Some(cursor));
        for raw in ["", "42", "t", "t-1", "t0", "tabc", "x42"] {
            assert!(Cursor::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn empty_patch_is_rejected() {
        assert!(TaskPatch::new(None, None).is_err());
        assert!(TaskPatch::new(None, Some(Description::none())).is_ok());
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_z() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456);
        assert_eq!(
            at.map(|at| format_timestamp(&at)).as_deref(),
            Some("2023-11-14T22:13:20.123456Z")
        );
    }
}
