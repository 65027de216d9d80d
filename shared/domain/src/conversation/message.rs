//! Messages and conversations as stored, and messages about to be.

use chrono::{DateTime, Utc};

use crate::conversation::input::MessageText;

/// Who wrote a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
        }
    }
}

/// A role the schema does not allow (its CHECK keeps them out).
#[derive(Debug, thiserror::Error)]
#[error("unknown message role {0:?}")]
pub struct UnknownRole(String);

impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(raw: String) -> Result<Self, UnknownRole> {
        match raw.as_str() {
            "user" => Ok(Self::User),
            "assistant" => Ok(Self::Assistant),
            "tool" => Ok(Self::Tool),
            _ => Err(UnknownRole(raw)),
        }
    }
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a message says: who wrote it, and what. Stored as it is given, and
/// read back inside a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageBody {
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub content: Option<String>,
    /// Assistant messages: the tool calls, as the JSON the model sent.
    pub tool_calls: Option<String>,
    /// Tool messages: the call answered, the tool, and whether it failed.
    pub tool_call_id: Option<String>,
    pub tool_name: Option<String>,
    pub is_error: Option<bool>,
}

impl MessageBody {
    /// A message of `role` with `content` and nothing else.
    fn of(role: Role, content: Option<String>) -> Self {
        Self {
            role,
            content,
            tool_calls: None,
            tool_call_id: None,
            tool_name: None,
            is_error: None,
        }
    }

    pub fn user(text: &MessageText) -> Self {
        Self::of(Role::User, Some(text.as_str().to_owned()))
    }

    pub fn assistant(content: Option<String>, tool_calls: Option<String>) -> Self {
        Self {
            tool_calls,
            ..Self::of(Role::Assistant, content)
        }
    }

    pub fn tool(call_id: String, tool: String, result: String, is_error: bool) -> Self {
        Self {
            tool_call_id: Some(call_id),
            tool_name: Some(tool),
            is_error: Some(is_error),
            ..Self::of(Role::Tool, Some(result))
        }
    }
}

/// A message as stored: its body, and the id and time the store gave it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    #[sqlx(flatten)]
    pub body: MessageBody,
    pub created_at: DateTime<Utc>,
}
