//! The path and paging parameters the API's resources share.

use serde::Deserialize;
use todo_domain::Zone;
use todo_domain::conversation::ConversationId;
use todo_domain::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use todo_domain::task::TaskId;
use todo_server::Caller;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::http::error::ApiError;

/// The `{user_id}` of every API path: the signed-in user (the token's `sub`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The signed-in user's id; any other user's is refused with 403.
    pub user_id: String,
}

/// One conversation's path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    /// The signed-in user's id.
    pub user_id: String,
    /// The conversation's id.
    #[param(minimum = 1)]
    pub id: i64,
}

/// `caller`, in the zone a request names (an IANA name), if it names one.
pub fn in_zone(caller: Caller, timezone: Option<&str>) -> Result<Caller, ApiError> {
    Ok(match timezone {
        Some(name) => caller.in_zone(Zone::parse(name)?),
        None => caller,
    })
}

/// The OpenAPI schema of a `timezone` field: one of the IANA names the
/// server knows, listed, so that clients (and generated tests) send only
/// names it accepts.
pub fn timezone_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Zone::names()))
        .examples(["Europe/Paris"])
        .build()
}

/// One task's path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The signed-in user's id.
    pub user_id: String,
    /// The task's id.
    #[param(value_type = i64, minimum = 1)]
    pub id: String,
}

/// A task id from the path: a positive integer.
pub fn task_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .and_then(|id| TaskId::parse(id).ok())
        .map(TaskId::get)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "task id must be a positive integer, got {:?}",
                raw.chars().take(32).collect::<String>()
            ))
        })
}

/// A conversation id from the path: a positive integer.
pub fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    let id = raw.parse::<i64>().map_err(|_| {
        ApiError::BadRequest(format!(
            "conversation id must be an integer, got {:?}",
            raw.chars().take(32).collect::<String>()
        ))
    })?;
    Ok(ConversationId::parse(id)?)
}

/// A page size from the query: 1 to 200, 50 when absent.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE_SIZE) {
        n @ 1..=MAX_PAGE_SIZE => Ok(n),
        n => Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_SIZE}, got {n}"
        ))),
    }
}
