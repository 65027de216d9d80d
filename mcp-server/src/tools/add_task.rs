//! `add_task`: a new task.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::task::{self, Description, Title};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};
use crate::tools::result::TaskResult;

/// Arguments of add_task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTaskArgs {
    /// Short title of the task, as the user said it (1 to 200 characters), e.g. "Pay the electricity bill".
    pub title: String,
    /// Optional longer notes or details (up to 2,000 characters; newlines allowed).
    #[serde(default)]
    pub description: Option<String>,
}

pub struct AddTask;

impl TaskTool for AddTask {
    type Args = AddTaskArgs;
    type Output = TaskResult;

    const NAME: &'static str = "add_task";
    const TITLE: &'static str = "Add a task";
    const DESCRIPTION: &'static str = "Create a new task for the user, e.g. when they say \"remind me to pay the bills\" or \
         \"add buy milk to my list\". Returns the new task with its id; confirm it to the user \
         by title.";
    const HINTS: Hints = Hints::ADDS;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let title = Title::parse(&args.title)?;
        let description = match &args.description {
            Some(d) => Description::parse(d)?,
            None => Description::none(),
        };
        let task = task::add(store, caller.user(), title, description).await?;
        Ok(TaskResult::new("created", task))
    }
}
