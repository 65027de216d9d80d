//! One tool call on behalf of a route, and its answer as HTTP: a result, a
//! 404 for a task that is not the user's, a 422 with the tool's own message
//! for anything else it refused.

use serde::Serialize;
use serde_json::Value;
use todo_domain::task::TaskItem;
use todo_server::Caller;

use crate::agent::TurnError;
use crate::http::error::ApiError;
use crate::http::extract::Trace;
use crate::http::state::AppState;

/// Call `tool` with `arguments` (anything that serializes to a JSON
/// object) for `caller`: its structured result.
pub async fn call(
    state: &AppState,
    caller: &Caller,
    trace: &Trace,
    tool: &str,
    arguments: &impl Serialize,
) -> Result<Value, ApiError> {
    let arguments = serde_json::to_string(arguments).map_err(|e| {
        ApiError::Domain(todo_domain::Error::internal(format!(
            "cannot encode the arguments of {tool}: {e}"
        )))
    })?;
    let outcome = state
        .agent
        .tasks
        .call(caller, tool, &arguments, &trace.0)
        .await
        .map_err(|e| ApiError::Turn(TurnError::Mcp(e)))?;
    match outcome.structured {
        Some(result) if !outcome.is_error => Ok(result),
        _ if is_not_found(&outcome.text) => Err(ApiError::NotFound(outcome.text)),
        _ => Err(ApiError::Unprocessable(outcome.text)),
    }
}

/// "Task 42 not found": the task server's one answer for a task that does
/// not exist and for another user's.
fn is_not_found(text: &str) -> bool {
    text.strip_prefix("Task ")
        .and_then(|rest| rest.strip_suffix(" not found"))
        .is_some_and(|id| id.parse::<i64>().is_ok())
}

/// A tool's result for one task (`task_id`, `status`, …) as the API's task.
pub fn task_view(mut result: Value) -> Result<TaskItem, ApiError> {
    if let Some(object) = result.as_object_mut()
        && let Some(id) = object.remove("task_id")
    {
        object.insert("id".to_owned(), id);
    }
    serde_json::from_value(result).map_err(|e| {
        ApiError::Domain(todo_domain::Error::internal(format!(
            "the task server gave an unexpected result: {e}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::is_not_found;

    #[test]
    fn only_the_task_servers_not_found_is_a_404() {
        assert!(is_not_found("Task 42 not found"));
        assert!(!is_not_found("Task x not found"));
        assert!(!is_not_found("due must be a date like 2026-12-24"));
    }
}
