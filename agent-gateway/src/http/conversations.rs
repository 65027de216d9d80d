//! `/api/{user_id}/conversations`: the user's conversations, a page of one
//! conversation's messages, and deleting one.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use todo_domain::conversation::{self, ConversationId, Role};
use todo_domain::page::MAX_PAGE_SIZE;
use todo_domain::time::format_timestamp;
use todo_server::Caller;

use crate::http::conversation_views::{
    ConversationDetail, ConversationList, ConversationView, message_views,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::http::params::{ConversationPath, UserPath, conversation_id, page_limit};
use crate::http::state::AppState;

/// A page of conversations.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationPage {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The id of the last conversation of the previous page (its `next_after`).
    #[param(minimum = 1)]
    pub after: Option<i64>,
}

/// A page of messages.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagePage {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The id of the last message of the previous page (its `next_after`);
    /// 0 or absent for the first page.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// List the user's conversations, most recently active first.
#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations",
    tag = "conversations",
    params(UserPath, ConversationPage),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationList),
        (status = 404, description = "`after` names no conversation of the user", body = ErrorBody),
        (status = 422, description = "`after` is not a positive id", body = ErrorBody),
    )
)]
pub async fn list_conversations(
    State(state): State<Arc<AppState>>,
    Caller { user, .. }: Caller,
    ApiQuery(query): ApiQuery<ConversationPage>,
) -> Result<Json<ConversationList>, ApiError> {
    let limit = page_limit(query.limit)?;
    let after = match query.after {
        Some(id) => Some(conversation::get(&state.store, &user, ConversationId::parse(id)?).await?),
        None => None,
    };
    let page = conversation::list(&state.store, &user, limit, after.as_ref()).await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|c| c.id))
        .flatten();
    let items: Vec<ConversationView> = page
        .into_iter()
        .map(|c| ConversationView {
            id: c.id,
            title: c.title,
            created_at: format_timestamp(&c.created_at),
            updated_at: format_timestamp(&c.updated_at),
        })
        .collect();
    Ok(Json(ConversationList {
        conversations: items,
        next_after: next,
    }))
}

/// Read a conversation and a page of its messages. Another user's
/// conversation answers 404, like one that does not exist.
#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations/{id}",
    tag = "conversations",
    params(ConversationPath, MessagePage),
    responses(
        (status = 200, description = "The conversation and a page of messages", body = ConversationDetail),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "The id is not a positive integer", body = ErrorBody),
    )
)]
pub async fn get_conversation(
    State(state): State<Arc<AppState>>,
    Caller { user, .. }: Caller,
    Path((_, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<MessagePage>,
) -> Result<Json<ConversationDetail>, ApiError> {
    let id = conversation_id(&id)?;
    let limit = page_limit(query.limit)?;
    let found = conversation::get(&state.store, &user, id).await?;
    let after = match query.after.unwrap_or(0) {
        after @ 0.. => after,
        after => {
            return Err(ApiError::BadRequest(format!(
                "after must be 0 or a message id, got {after}"
            )));
        }
    };
    let mut messages = conversation::page(&state.store, &user, id, after, limit).await?;
    let full = messages.len() == limit as usize;
    // A page never ends between a step's calls and their results.
    if full
        && let Some(last) = messages.last()
        && (last.body.role == Role::Tool || last.body.tool_calls.is_some())
    {
        let rest = conversation::page(&state.store, &user, id, last.id, MAX_PAGE_SIZE).await?;
        messages.extend(rest.into_iter().take_while(|m| m.body.role == Role::Tool));
    }
    let next = full.then(|| messages.last().map(|m| m.id)).flatten();
    Ok(Json(ConversationDetail {
        conversation_id: found.id,
        title: found.title,
        created_at: format_timestamp(&found.created_at),
        updated_at: format_timestamp(&found.updated_at),
        messages: message_views(&messages),
        next_after: next,
    }))
}

/// Delete a conversation and all its messages (the tasks stay).
#[utoipa::path(
    delete,
    path = "/api/{user_id}/conversations/{id}",
    tag = "conversations",
    params(ConversationPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "The id is not a positive integer", body = ErrorBody),
        (status = 409, description = "A turn on it is still running", body = ErrorBody),
    )
)]
pub async fn delete_conversation(
    State(state): State<Arc<AppState>>,
    Caller { user, .. }: Caller,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    conversation::delete(&state.store, &user, conversation_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
