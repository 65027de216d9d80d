//! `complete_task`: mark one task done (twice is fine).

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, TaskId};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::TaskResult;

/// Arguments naming one task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdArgs {
    /// The task's id, as returned by list_tasks or add_task. Never guess it.
    #[schemars(range(min = 1))]
    pub task_id: i64,
}

pub struct CompleteTask;

impl TaskTool for CompleteTask {
    type Args = TaskIdArgs;
    type Output = TaskResult;

    const NAME: &'static str = "complete_task";
    const TITLE: &'static str = "Complete a task";
    const DESCRIPTION: &'static str = "Mark one task as completed (done). Needs the task's id: to act on a task named by the \
         user, call list_tasks first to find its id. Completing an already completed task is \
         fine (already_completed tells).";
    const HINTS: Hints = Hints::MARKS;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let done = task::complete(store, caller.user(), TaskId::parse(args.task_id)?).await?;
        let mut result = TaskResult::new("completed", done.task);
        result.already_completed = Some(done.was_already_completed);
        Ok(result)
    }
}
