//! A task to add, validated as a whole.

use crate::error::Result;
use crate::task::due::Due;
use crate::task::input::{Description, Title};
use crate::task::priority::Priority;
use crate::task::recurrence::Recurrence;
use crate::task::tags::Tags;

/// Everything a new task can start with. A recurrence needs a due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub description: Description,
    pub due: Option<Due>,
    pub priority: Priority,
    pub tags: Tags,
    pub recurrence: Option<Recurrence>,
}

/// A new task as a client sent it, fields still raw text.
#[derive(Debug, Clone, Default)]
pub struct RawNewTask<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub due: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub recurrence: Option<&'a str>,
}

impl NewTask {
    pub fn parse(raw: RawNewTask<'_>) -> Result<Self> {
        let title = Title::parse(raw.title)?;
        let description = match raw.description {
            Some(d) => Description::parse(d)?,
            None => Description::none(),
        };
        let due = raw.due.map(|d| Due::parse("due", d)).transpose()?;
        let priority = raw
            .priority
            .map(|p| Priority::parse("priority", p))
            .transpose()?
            .unwrap_or_default();
        let tags = raw
            .tags
            .map(|t| Tags::parse("tags", t))
            .transpose()?
            .unwrap_or_default();
        let recurrence = raw
            .recurrence
            .map(|r| Recurrence::parse(r, due.as_ref()))
            .transpose()?;
        Ok(Self {
            title,
            description,
            due,
            priority,
            tags,
            recurrence,
        })
    }

    /// Just a title and a description, as `add_task` always took.
    pub fn plain(title: Title, description: Description) -> Self {
        Self {
            title,
            description,
            due: None,
            priority: Priority::None,
            tags: Tags::default(),
            recurrence: None,
        }
    }
}
