//! `update_task`: change any field of one task or several.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, RawPatch, TaskPatch, TaskTarget};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::{OneOrMany, TaskResult, TaskResults};

/// Arguments of update_task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    /// The task's id, as returned by list_tasks or add_task. Never guess it.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub task_id: Option<i64>,
    /// Instead of task_id: several task ids (1 to 100) that all get the same change; if any is not found, none is changed.
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub task_ids: Option<Vec<i64>>,
    /// New title (1 to 200 characters). Omit to keep the current one.
    #[serde(default)]
    pub title: Option<String>,
    /// New description (up to 2,000 characters); an empty string removes it. Omit to keep the current one.
    #[serde(default)]
    pub description: Option<String>,
    /// New due: a date like "2026-12-24" or a date-time with offset like "2026-12-24T09:00:00+01:00"; null removes it. Omit to keep it.
    #[serde(default, deserialize_with = "task::present")]
    pub due: Option<Option<String>>,
    /// New priority: "none", "low", "medium" or "high".
    #[serde(default)]
    #[schemars(extend("enum" = ["none", "low", "medium", "high"]))]
    pub priority: Option<String>,
    /// The whole new list of tags ([] removes them all). To add or remove some, use add_tags / remove_tags instead.
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub tags: Option<Vec<String>>,
    /// Tags to add, keeping the others.
    #[serde(default)]
    #[schemars(length(min = 1, max = 20))]
    pub add_tags: Option<Vec<String>>,
    /// Tags to remove, keeping the others.
    #[serde(default)]
    #[schemars(length(min = 1, max = 20))]
    pub remove_tags: Option<Vec<String>>,
    /// New repeat rule (an RRULE like "FREQ=WEEKLY;BYDAY=MO"; needs a due); null makes the task stop repeating.
    #[serde(default, deserialize_with = "task::present")]
    pub recurrence: Option<Option<String>>,
    /// false reopens a completed task; true marks it completed without moving a repeating task on (use complete_task for that).
    #[serde(default)]
    pub completed: Option<bool>,
}

pub struct UpdateTask;

impl TaskTool for UpdateTask {
    type Args = UpdateTaskArgs;
    type Output = OneOrMany;

    const NAME: &'static str = "update_task";
    const TITLE: &'static str = "Update a task";
    const DESCRIPTION: &'static str = "Change a task: its title, description, due, priority, tags (or add_tags/remove_tags), \
         recurrence, or reopen it (completed: false). Give only what changes; null clears due \
         or recurrence. Needs the task's id: to act on a task named by the user, call \
         list_tasks first to find its id. With task_ids, the same change applies to several \
         tasks at once (e.g. \"move everything due today to tomorrow\"), all or none.";
    const HINTS: Hints = Hints::OVERWRITES;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let target = TaskTarget::parse(args.task_id, args.task_ids.as_deref())?;
        let patch = TaskPatch::parse(RawPatch {
            title: args.title.as_deref(),
            description: args.description.as_deref(),
            due: args.due.as_ref().map(Option::as_deref),
            priority: args.priority.as_deref(),
            tags: args.tags.as_deref(),
            add_tags: args.add_tags.as_deref(),
            remove_tags: args.remove_tags.as_deref(),
            recurrence: args.recurrence.as_ref().map(Option::as_deref),
            completed: args.completed,
        })?;
        match target {
            TaskTarget::One(id) => {
                let task = task::update(store, caller.user(), id, patch).await?;
                Ok(OneOrMany::One(Box::new(TaskResult::new("updated", task))))
            }
            TaskTarget::Many(ids) => {
                let updated = task::update_many(store, caller.user(), &ids, &patch).await?;
                Ok(OneOrMany::Many(TaskResults::new("updated", updated)))
            }
        }
    }
}
