//! `complete_task`: mark one task or several done (twice is fine); a
//! repeating task moves to its next occurrence instead.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, TaskTarget};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::{OneOrMany, TaskResult, TaskResults};

/// Arguments naming one task (task_id) or several (task_ids).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdArgs {
    /// The task's id, as returned by list_tasks or add_task. Never guess it.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub task_id: Option<i64>,
    /// Instead of task_id: several task ids (1 to 100), changed together; if any is not found, none is changed.
    #[serde(default)]
    #[schemars(length(min = 1, max = 100))]
    pub task_ids: Option<Vec<i64>>,
}

impl TaskIdArgs {
    /// The task or tasks named (the answer's form follows).
    pub fn target(&self) -> Result<TaskTarget> {
        TaskTarget::parse(self.task_id, self.task_ids.as_deref())
    }
}

pub struct CompleteTask;

impl TaskTool for CompleteTask {
    type Args = TaskIdArgs;
    type Output = OneOrMany;

    const NAME: &'static str = "complete_task";
    const TITLE: &'static str = "Complete a task";
    const DESCRIPTION: &'static str = "Mark a task as completed (done), or several at once with task_ids. Needs the task's \
         id: to act on a task named by the user, call list_tasks first to find its id. \
         Completing an already completed task is fine (already_completed tells). A repeating \
         task stays open and moves to its next occurrence (recurred is true and due is the new \
         date); when its rule has ended it completes.";
    const HINTS: Hints = Hints::ADVANCES;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        match args.target()? {
            TaskTarget::One(id) => {
                let done = task::complete(store, caller.user(), id, caller.zone()).await?;
                Ok(OneOrMany::One(Box::new(TaskResult::completed(done))))
            }
            TaskTarget::Many(ids) => {
                let done = task::complete_many(store, caller.user(), &ids, caller.zone()).await?;
                Ok(OneOrMany::Many(TaskResults {
                    tasks: done.into_iter().map(TaskResult::completed).collect(),
                }))
            }
        }
    }
}
