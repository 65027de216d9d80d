//! A change to a task: every field can be set or cleared, tags edited
//! without resending them, a task reopened. Validated on its own, then
//! applied to the task as it is, which checks what depends on both (a
//! recurrence needs a due).

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::task::due::Due;
use crate::task::input::{Description, Title};
use crate::task::model::Task;
use crate::task::priority::Priority;
use crate::task::recurrence::Recurrence;
use crate::task::tags::{Tag, Tags, parse_tag_list};

/// A validated change: at least one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskPatch {
    title: Option<Title>,
    description: Option<Description>,
    due: Option<Option<Due>>,
    priority: Option<Priority>,
    tags: Option<Tags>,
    add_tags: Vec<Tag>,
    remove_tags: Vec<Tag>,
    /// Checked when applied, against the due the task will have.
    recurrence: Option<Option<String>>,
    completed: Option<bool>,
}

/// The values of a change that one `update` statement makes (see
/// [`TaskPatch::in_place`]).
pub(crate) struct InPlace<'a> {
    pub(crate) title: Option<&'a str>,
    pub(crate) description: Option<Option<&'a str>>,
    /// The due as shown and its sort key; `Some(None)` clears it.
    pub(crate) due: Option<Option<(String, String)>>,
    pub(crate) priority: Option<i32>,
    pub(crate) completed: Option<bool>,
}

/// For serde's `deserialize_with` on an `Option<Option<T>>` field: a
/// field that is present, even as `null`, is `Some` (with `default`, an
/// absent one stays `None`): how a change tells "clear it" from "keep it".
pub fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A change as a client sent it. `Some(None)` clears a field.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawPatch<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub due: Option<Option<&'a str>>,
    pub priority: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub add_tags: Option<&'a [String]>,
    pub remove_tags: Option<&'a [String]>,
    pub recurrence: Option<Option<&'a str>>,
    pub completed: Option<bool>,
}

impl TaskPatch {
    pub fn parse(raw: RawPatch<'_>) -> Result<Self> {
        if raw.tags.is_some() && (raw.add_tags.is_some() || raw.remove_tags.is_some()) {
            return Err(Error::invalid(
                "tags",
                "give either tags (the whole new list) or add_tags/remove_tags, not both",
            ));
        }
        let list = |field, raw: Option<&[String]>| -> Result<Vec<Tag>> {
            raw.map(|r| parse_tag_list(field, r))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let patch = Self {
            title: raw.title.map(Title::parse).transpose()?,
            description: raw.description.map(Description::parse).transpose()?,
            due: raw
                .due
                .map(|d| d.map(|d| Due::parse("due", d)).transpose())
                .transpose()?,
            priority: raw
                .priority
                .map(|p| Priority::parse("priority", p))
                .transpose()?,
            tags: raw.tags.map(|t| Tags::parse("tags", t)).transpose()?,
            add_tags: list("add_tags", raw.add_tags)?,
            remove_tags: list("remove_tags", raw.remove_tags)?,
            recurrence: raw.recurrence.map(|r| r.map(str::to_owned)),
            completed: raw.completed,
        };
        if patch == Self::default() {
            return Err(Error::invalid(
                "title",
                "give at least one field to change: title, description, due, priority, tags, add_tags, remove_tags, recurrence or completed",
            ));
        }
        Ok(patch)
    }

    /// A new title and/or description, as `update_task` always took.
    pub fn new(title: Option<Title>, description: Option<Description>) -> Result<Self> {
        if title.is_none() && description.is_none() {
            return Err(Error::invalid(
                "title",
                "give a new title, a new description, or both",
            ));
        }
        Ok(Self {
            title,
            description,
            ..Self::default()
        })
    }

    /// This change as one statement's values, when it needs nothing of the
    /// task as it is but what SQL can check (no tag edits, no new repeat
    /// rule): the common case, written without a transaction.
    pub(crate) fn in_place(&self) -> Option<InPlace<'_>> {
        if self.tags.is_some()
            || !self.add_tags.is_empty()
            || !self.remove_tags.is_empty()
            || self.recurrence.is_some()
        {
            return None;
        }
        Some(InPlace {
            title: self.title.as_ref().map(Title::as_str),
            description: self.description.as_ref().map(Description::as_deref),
            due: self.due.map(|due| due.map(|d| (d.to_text(), d.key()))),
            priority: self.priority.map(Priority::rank),
            completed: self.completed,
        })
    }

    /// `task` with this change made at `now`.
    pub fn apply(&self, task: &Task, now: DateTime<Utc>) -> Result<Task> {
        let mut next = task.clone();
        if let Some(title) = &self.title {
            next.title = title.as_str().to_owned();
        }
        if let Some(description) = &self.description {
            next.description = description.as_deref().map(str::to_owned);
        }
        if let Some(priority) = self.priority {
            next.priority = priority;
        }
        if let Some(tags) = &self.tags {
            next.tags = tags.clone();
        } else if !self.add_tags.is_empty() || !self.remove_tags.is_empty() {
            next.tags = task.tags.edited(&self.add_tags, &self.remove_tags)?;
        }
        if let Some(due) = self.due {
            next.due = due;
        }
        match &self.recurrence {
            Some(Some(rule)) => next.recurrence = Some(Recurrence::parse(rule, next.due.as_ref())?),
            Some(None) => next.recurrence = None,
            None if next.recurrence.is_some() && next.due.is_none() => {
                return Err(Error::invalid(
                    "due",
                    "this task repeats, and a repeating task needs a due date: give a due, or clear the repeat too (recurrence: null)",
                ));
            }
            None => {}
        }
        // The series restarts from the new due whenever the due or the rule
        // is given anew.
        next.recurrence_start = match &next.recurrence {
            None => None,
            Some(_) if self.due.is_some() || self.recurrence.is_some() => next.due,
            Some(_) => task.recurrence_start.or(next.due),
        };
        match self.completed {
            Some(true) if !task.completed => {
                next.completed = true;
                next.completed_at = Some(now);
            }
            Some(false) => {
                next.completed = false;
                next.completed_at = None;
            }
            _ => {}
        }
        next.updated_at = now;
        Ok(next)
    }
}
