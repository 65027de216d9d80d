//! `delete_task`: delete one task for good.

use todo_domain::task::{self, TaskId};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::complete_task::TaskIdArgs;
use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::TaskResult;

pub struct DeleteTask;

impl TaskTool for DeleteTask {
    type Args = TaskIdArgs;
    type Output = TaskResult;

    const NAME: &'static str = "delete_task";
    const TITLE: &'static str = "Delete a task";
    const DESCRIPTION: &'static str = "Permanently delete one task. Needs the task's id: to act on a task named by the user, \
         call list_tasks first to find its id. If the request is ambiguous (several tasks \
         match), ask the user which one before deleting.";
    const HINTS: Hints = Hints::OVERWRITES;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let task = task::delete(store, caller.user(), TaskId::parse(args.task_id)?).await?;
        Ok(TaskResult::new("deleted", task))
    }
}
