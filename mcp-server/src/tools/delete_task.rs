//! `delete_task`: delete one task or several for good.

use todo_domain::task::{self, TaskTarget};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::complete_task::TaskIdArgs;
use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::{OneOrMany, TaskResult, TaskResults};

pub struct DeleteTask;

impl TaskTool for DeleteTask {
    type Args = TaskIdArgs;
    type Output = OneOrMany;

    const NAME: &'static str = "delete_task";
    const TITLE: &'static str = "Delete a task";
    const DESCRIPTION: &'static str = "Permanently delete a task, or several at once with task_ids (all or none). Needs the \
         task's id: to act on a task named by the user, call list_tasks first to find its id. \
         If the request is ambiguous (several tasks match), ask the user which one before \
         deleting.";
    const HINTS: Hints = Hints::OVERWRITES;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        match args.target()? {
            TaskTarget::One(id) => {
                let task = task::delete(store, caller.user(), id).await?;
                Ok(OneOrMany::One(Box::new(TaskResult::new("deleted", task))))
            }
            TaskTarget::Many(ids) => {
                let deleted = task::delete_many(store, caller.user(), &ids).await?;
                Ok(OneOrMany::Many(TaskResults::new("deleted", deleted)))
            }
        }
    }
}
