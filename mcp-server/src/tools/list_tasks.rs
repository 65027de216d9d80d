//! `list_tasks`: a page of the user's tasks, newest first.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::page::Limit;
use todo_domain::task::{self, Cursor, StatusFilter, TaskList};
use todo_domain::{Result, Store};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};

/// Arguments of list_tasks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasksArgs {
    /// Which tasks to list: "all" (default), "pending" (not completed yet) or "completed".
    #[serde(default)]
    #[schemars(extend("enum" = ["all", "pending", "completed"], "default" = "all"))]
    pub status: Option<String>,
    /// How many tasks to return, 1 to 200 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200), extend("default" = 50))]
    pub limit: Option<i64>,
    /// To get the next page, pass the next_cursor value of the previous result; omit for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub struct ListTasks;

impl TaskTool for ListTasks {
    type Args = ListTasksArgs;
    type Output = TaskList;

    const NAME: &'static str = "list_tasks";
    const TITLE: &'static str = "List tasks";
    const DESCRIPTION: &'static str = "List the user's tasks, newest first, optionally only pending or only completed ones. \
         Use it to answer questions about the list, and to find a task's id before acting on \
         a task the user names by its title. Pages hold up to 200 tasks; when next_cursor is \
         present, pass it as cursor for more.";
    const HINTS: Hints = Hints::READS;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let status = match args.status.as_deref() {
            Some(s) => StatusFilter::parse(s)?,
            None => StatusFilter::All,
        };
        let limit = args
            .limit
            .map(Limit::parse)
            .transpose()?
            .unwrap_or_default();
        let cursor = args.cursor.as_deref().map(Cursor::parse).transpose()?;
        let page = task::list(store, caller.user(), status, limit, cursor).await?;
        Ok(TaskList::from(page))
    }
}
