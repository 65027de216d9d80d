//! `add_task`: a new task.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, NewTask, RawNewTask};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::TaskResult;

/// Arguments of add_task (and each item of add_tasks).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTaskArgs {
    /// Short title of the task, as the user said it (1 to 200 characters), e.g. "Pay the electricity bill".
    pub title: String,
    /// Optional longer notes or details (up to 2,000 characters; newlines allowed).
    #[serde(default)]
    pub description: Option<String>,
    /// When it is due: a date like "2026-12-24" for a whole day, or a date-time with offset like "2026-12-24T09:00:00+01:00" for a time. Convert words like "tomorrow" or "next Friday" yourself, from the current date in the user's time zone. Omit when no date was given.
    #[serde(default)]
    pub due: Option<String>,
    /// "none" (default), "low", "medium" or "high". Use "high" for urgent or important tasks.
    #[serde(default)]
    #[schemars(extend("enum" = ["none", "low", "medium", "high"], "default" = "none"))]
    pub priority: Option<String>,
    /// Labels such as "work" or "home" (up to 20, each 1 to 40 characters; stored lower-case).
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub tags: Option<Vec<String>>,
    /// How the task repeats, as an RFC 5545 RRULE without DTSTART, e.g. "FREQ=MONTHLY;BYMONTHDAY=1" (every 1st of the month), "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=DAILY;COUNT=5". Needs due (the first occurrence). Supported: FREQ DAILY/WEEKLY/MONTHLY/YEARLY with INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, COUNT, UNTIL.
    #[serde(default)]
    pub recurrence: Option<String>,
}

impl AddTaskArgs {
    pub fn parse(&self) -> Result<NewTask> {
        NewTask::parse(RawNewTask {
            title: &self.title,
            description: self.description.as_deref(),
            due: self.due.as_deref(),
            priority: self.priority.as_deref(),
            tags: self.tags.as_deref(),
            recurrence: self.recurrence.as_deref(),
        })
    }
}

pub struct AddTask;

impl TaskTool for AddTask {
    type Args = AddTaskArgs;
    type Output = TaskResult;

    const NAME: &'static str = "add_task";
    const TITLE: &'static str = "Add a task";
    const DESCRIPTION: &'static str = "Create a new task for the user, e.g. when they say \"remind me to pay the bills\" or \
         \"add buy milk to my list\". Give due, priority, tags and recurrence when the user says \
         them (\"pay rent on the 1st of every month\": due = the next 1st, recurrence = \
         FREQ=MONTHLY;BYMONTHDAY=1). Returns the new task with its id; confirm it to the user \
         by title. To add several tasks at once, use add_tasks.";
    const HINTS: Hints = Hints::ADDS;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let task = task::add(store, caller.user(), args.parse()?).await?;
        Ok(TaskResult::new("created", task))
    }
}
