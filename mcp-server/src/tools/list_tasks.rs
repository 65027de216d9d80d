//! `list_tasks`: a page of the user's tasks, filtered and sorted.

use schemars::JsonSchema;
use serde::Deserialize;
use todo_domain::page::Limit;
use todo_domain::task::{
    self, Cursor, Due, DueBound, ListRequest, Priority, SearchQuery, Sort, StatusFilter,
    TaskFilter, TaskList, parse_tag_list, service::default_sort,
};
use todo_domain::time::now_utc;
use todo_domain::{Result, Store, Zone};
use todo_server::Caller;

use crate::tools::registry::{Hints, TaskTool};

/// Arguments of list_tasks. Every filter given must hold (they combine with AND).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasksArgs {
    /// Which tasks to list: "all" (default), "pending" (not completed yet) or "completed".
    #[serde(default)]
    #[schemars(extend("enum" = ["all", "pending", "completed"], "default" = "all"))]
    pub status: Option<String>,
    /// Only tasks due on or before this date ("2026-12-24", the whole day in the user's time zone) or date-time with offset.
    #[serde(default)]
    pub due_before: Option<String>,
    /// Only tasks due on or after this date or date-time with offset.
    #[serde(default)]
    pub due_after: Option<String>,
    /// true: only open tasks whose due has passed (a whole-day due counts from the next day, in the user's time zone).
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Only tasks of at least this priority: "low", "medium" (medium and high) or "high".
    #[serde(default)]
    #[schemars(extend("enum" = ["none", "low", "medium", "high"]))]
    pub priority: Option<String>,
    /// Only tasks with any of these tags.
    #[serde(default)]
    #[schemars(length(min = 1, max = 20))]
    pub tags: Option<Vec<String>>,
    /// Words to search for in titles and descriptions (case and accents do not matter; every word must match, as a word or its beginning). Without sort, best matches come first.
    #[serde(default)]
    pub query: Option<String>,
    /// Order: "created" (default, newest first), "due" (soonest first, no due date last), "priority" (highest first) or "updated" (latest change first).
    #[serde(default)]
    #[schemars(extend("enum" = ["created", "due", "priority", "updated"]))]
    pub sort: Option<String>,
    /// How many tasks to return, 1 to 200 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200), extend("default" = 50))]
    pub limit: Option<i64>,
    /// To get the next page, pass the next_cursor value of the previous result (with the same filters and sort); omit for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl ListTasksArgs {
    /// The request these arguments make, with date bounds read in `zone`.
    pub fn request(&self, zone: Zone) -> Result<ListRequest> {
        let query = self.query.as_deref().map(SearchQuery::parse).transpose()?;
        let sort = match self.sort.as_deref() {
            Some(sort) => Sort::parse(sort)?,
            None => default_sort(query.is_some()),
        };
        let bound =
            |field, raw: &Option<String>| raw.as_deref().map(|r| Due::parse(field, r)).transpose();
        let filter = TaskFilter {
            status: self
                .status
                .as_deref()
                .map(StatusFilter::parse)
                .transpose()?
                .unwrap_or_default(),
            due_before: bound("due_before", &self.due_before)?.map(|b| DueBound::before(b, zone)),
            due_after: bound("due_after", &self.due_after)?.map(|b| DueBound::after(b, zone)),
            overdue: (self.overdue == Some(true)).then(|| DueBound::overdue(now_utc(), zone)),
            min_priority: self
                .priority
                .as_deref()
                .map(|p| Priority::parse("priority", p))
                .transpose()?,
            tags: self
                .tags
                .as_deref()
                .map(|t| parse_tag_list("tags", t))
                .transpose()?
                .unwrap_or_default(),
            query,
        };
        Ok(ListRequest {
            filter,
            sort,
            limit: self
                .limit
                .map(Limit::parse)
                .transpose()?
                .unwrap_or_default(),
            cursor: self
                .cursor
                .as_deref()
                .map(|c| Cursor::parse(c, sort))
                .transpose()?,
        })
    }
}

pub struct ListTasks;

impl TaskTool for ListTasks {
    type Args = ListTasksArgs;
    type Output = TaskList;

    const NAME: &'static str = "list_tasks";
    const TITLE: &'static str = "List tasks";
    const DESCRIPTION: &'static str = "List the user's tasks, newest first unless sort says otherwise. Filters: status, \
         due_before/due_after (\"what's due this week\": due_before = the last day of the week, \
         status pending), overdue, priority (a minimum), tags (any of) and query (words in the \
         title or description). Use it to answer questions about the list, and to find a task's \
         id before acting on a task the user names by its title. Pages hold up to 200 tasks; \
         when next_cursor is present, pass it as cursor for more.";
    const HINTS: Hints = Hints::READS;

    async fn run(store: &Store, caller: &Caller, args: Self::Args) -> Result<Self::Output> {
        let request = args.request(caller.zone())?;
        let page = task::list(store, caller.user(), &request).await?;
        Ok(TaskList::from(page))
    }
}
