//! `update_task`: a new title and/or description for one task.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, Description, TaskId, TaskPatch, Title};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::TaskResult;

/// Arguments of update_task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    /// The task's id, as returned by list_tasks or add_task. Never guess it.
    #[schemars(range(min = 1))]
    pub task_id: i64,
    /// New title (1 to 200 characters). Omit to keep the current one.
    #[serde(default)]
    pub title: Option<String>,
    /// New description (up to 2,000 characters); an empty string removes it. Omit to keep the current one.
    #[serde(default)]
    pub description: Option<String>,
}

pub struct UpdateTask;

impl TaskTool for UpdateTask {
    type Args = UpdateTaskArgs;
    type Output = TaskResult;

    const NAME: &'static str = "update_task";
    const TITLE: &'static str = "Update a task";
    const DESCRIPTION: &'static str = "Change the title and/or the description of one task. Needs the task's id: to act on a \
         task named by the user, call list_tasks first to find its id. Give at least one of \
         title and description.";
    const HINTS: Hints = Hints::OVERWRITES;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let id = TaskId::parse(args.task_id)?;
        let title = args.title.as_deref().map(Title::parse).transpose()?;
        let description = args
            .description
            .as_deref()
            .map(Description::parse)
            .transpose()?;
        let patch = TaskPatch::new(title, description)?;
        let task = task::update(store, caller.user(), id, patch).await?;
        Ok(TaskResult::new("updated", task))
    }
}
