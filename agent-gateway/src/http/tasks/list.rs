//! `GET /api/{user_id}/tasks`: the user's tasks, filtered and sorted as
//! list_tasks does it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use todo_domain::page::MAX_PAGE_SIZE;
use todo_domain::task::{StatusFilter, TaskList};
use todo_server::Caller;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, Trace};
use crate::http::params::{UserPath, in_zone, timezone_schema};
use crate::http::state::AppState;
use crate::http::tasks::tool;

/// Filters (all optional; they combine with AND), order and page. An
/// empty parameter is the same as none.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// Which tasks (default all).
    pub status: Option<StatusFilter>,
    /// Due on or before this date (2026-12-24, the whole day in the user's zone) or date-time with offset.
    pub due_before: Option<String>,
    /// Due on or after this date or date-time with offset.
    pub due_after: Option<String>,
    /// true: open tasks whose due has passed.
    pub overdue: Option<bool>,
    /// At least this priority: none, low, medium or high.
    #[param(pattern = "^(none|low|medium|high)?$")]
    pub priority: Option<String>,
    /// Any of these tags, separated by commas (work,home).
    pub tags: Option<String>,
    /// Words to search for in titles and descriptions.
    pub query: Option<String>,
    /// created (default, newest first), due, priority or updated.
    #[param(pattern = "^(created|due|priority|updated)?$")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 200).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The next_cursor of the previous page.
    pub cursor: Option<String>,
    /// The user's IANA time zone for date bounds and overdue (default: the token's zoneinfo claim, else UTC).
    #[param(schema_with = timezone_schema)]
    pub timezone: Option<String>,
}

impl TasksQuery {
    /// The list_tasks arguments.
    fn arguments(&self) -> Value {
        let mut arguments = Map::new();
        // An empty parameter (`?query=`, as a form sends it) is no filter.
        let mut put = |name: &str, value: Option<Value>| match value {
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::Array(a)) if a.is_empty() => {}
            Some(value) => {
                arguments.insert(name.to_owned(), value);
            }
            None => {}
        };
        put("status", self.status.map(|s| json!(s.as_str())));
        put("due_before", self.due_before.as_ref().map(|v| json!(v)));
        put("due_after", self.due_after.as_ref().map(|v| json!(v)));
        put("overdue", self.overdue.map(|v| json!(v)));
        put("priority", self.priority.as_ref().map(|v| json!(v)));
        put(
            "tags",
            self.tags.as_ref().map(|t| {
                json!(
                    t.split(',')
                        .filter(|t| !t.trim().is_empty())
                        .collect::<Vec<_>>()
                )
            }),
        );
        put("query", self.query.as_ref().map(|v| json!(v)));
        put("sort", self.sort.as_ref().map(|v| json!(v)));
        put("limit", Some(json!(self.limit.unwrap_or(MAX_PAGE_SIZE))));
        put("cursor", self.cursor.as_ref().map(|v| json!(v)));
        Value::Object(arguments)
    }
}

/// The user's tasks, read from the task server over MCP (list_tasks) the
/// way the assistant reads them.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    tag = "tasks",
    params(UserPath, TasksQuery),
    responses(
        (status = 200, description = "The tasks, newest first unless sorted otherwise", body = TaskList),
        (status = 422, description = "An invalid filter, sort, cursor or time zone", body = ErrorBody),
        (status = 503, description = "The task server is unreachable", body = ErrorBody),
    )
)]
pub async fn list_tasks(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    trace: Trace,
    ApiQuery(query): ApiQuery<TasksQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let timezone = query.timezone.as_deref().filter(|t| !t.is_empty());
    let caller = in_zone(caller, timezone)?;
    let result = tool::call(&state, &caller, &trace, "list_tasks", &query.arguments()).await?;
    serde_json::from_value(result).map(Json).map_err(|e| {
        ApiError::Domain(todo_domain::Error::internal(format!(
            "list_tasks gave an unexpected result: {e}"
        )))
    })
}
