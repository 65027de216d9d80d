//! How the API shows conversations and their messages: the response shapes,
//! and stored messages folded into them (tool results joined to the calls
//! they answer).

use serde::Serialize;
use serde_json::json;
use todo_domain::conversation::{Message, MessageBody, Role};
use todo_domain::time::format_timestamp;

use crate::llm::ToolCall;

/// A conversation, without its messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: i64,
    /// The start of the first message.
    pub title: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the last message was stored.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A page of the user's conversations, most recently active first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// A conversation with a page of its messages, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationDetail {
    pub conversation_id: i64,
    pub title: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// User and assistant messages; tool results are folded into the
    /// assistant message whose calls they answer.
    pub messages: Vec<MessageView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// One message of a conversation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// `user` or `assistant`.
    #[schema(example = "assistant")]
    pub role: &'static str,
    /// The text (null for an assistant step that only called tools).
    pub content: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The tools this assistant message called, with their results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallView>>,
}

/// A stored tool call and its result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ToolCallView {
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: serde_json::Value,
    /// The tool's result (null if none was stored).
    pub result: serde_json::Value,
    pub is_error: bool,
}

/// Messages as the API shows them: user and assistant messages, with the
/// assistant's tool calls joined to their results (tool messages fold in).
/// A step's results are the tool messages stored right after its calls
/// (one statement stores them together), so call ids that a model reuses
/// from turn to turn cannot mix results up.
pub fn message_views(messages: &[Message]) -> Vec<MessageView> {
    let mut views = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        if message.body.role == Role::Tool {
            continue;
        }
        let tool_calls = message.body.tool_calls.as_deref().map(|calls| {
            let results: Vec<&MessageBody> = messages[index + 1..]
                .iter()
                .map(|m| &m.body)
                .take_while(|m| m.role == Role::Tool)
                .collect();
            tool_call_views(calls, &results)
        });
        views.push(MessageView {
            id: message.id,
            role: message.body.role.as_str(),
            content: message.body.content.clone(),
            created_at: format_timestamp(&message.created_at),
            tool_calls,
        });
    }
    views
}

fn tool_call_views(calls: &str, results: &[&MessageBody]) -> Vec<ToolCallView> {
    let calls: Vec<ToolCall> = serde_json::from_str(calls).unwrap_or_default();
    calls
        .iter()
        .map(|call| {
            let result = results
                .iter()
                .find(|m| m.tool_call_id.as_deref() == Some(call.id.as_str()));
            ToolCallView {
                name: call.function.name.clone(),
                arguments: serde_json::from_str(&call.function.arguments)
                    .unwrap_or(serde_json::Value::Null),
                result: result
                    .and_then(|m| m.content.as_deref())
                    .map(|c| serde_json::from_str(c).unwrap_or_else(|_| json!(c)))
                    .unwrap_or(serde_json::Value::Null),
                is_error: result.and_then(|m| m.is_error).unwrap_or(false),
            }
        })
        .collect()
}
