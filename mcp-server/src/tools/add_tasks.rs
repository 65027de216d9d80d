//! `add_tasks`: several new tasks at once, all or none.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, NewTask};
use todo_domain::{Error, Result, Store};
use todo_server::Caller;

use crate::tools::add_task::AddTaskArgs;
use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::TaskResults;

/// Arguments of add_tasks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTasksArgs {
    /// The tasks to add (1 to 50), each as add_task takes it.
    #[schemars(length(min = 1, max = 50))]
    pub tasks: Vec<AddTaskArgs>,
}

pub struct AddTasks;

impl TaskTool for AddTasks {
    type Args = AddTasksArgs;
    type Output = TaskResults;

    const NAME: &'static str = "add_tasks";
    const TITLE: &'static str = "Add several tasks";
    const DESCRIPTION: &'static str = "Create several tasks in one call (1 to 50), e.g. when the user lists things to do or \
         pastes a shopping list. Each item takes the same fields as add_task. All are added or, \
         if any item is invalid, none (the error names the item): fix it and call again. \
         Returns each new task with its id.";
    const HINTS: Hints = Hints::ADDS;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let tasks = args
            .tasks
            .iter()
            .enumerate()
            .map(|(i, item)| item.parse().map_err(|e| name_item(i, e)))
            .collect::<Result<Vec<NewTask>>>()?;
        let added = task::add_many(store, caller.user(), tasks).await?;
        Ok(TaskResults::new("created", added))
    }
}

/// The error of item `i`, saying which item it is.
fn name_item(i: usize, error: Error) -> Error {
    match error {
        Error::Invalid { field, message } => Error::Invalid {
            field,
            message: format!("tasks[{i}]: {message}"),
        },
        other => other,
    }
}
