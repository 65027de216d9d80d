//! Messages and conversations as stored, and messages about to be.

use chrono::{DateTime, Utc};

use crate::conversation::input::MessageText;
use crate::error::{Error, Result};

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

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            "tool" => Some(Self::Tool),
            _ => None,
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

/// A message to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub role: Role,
    pub content: Option<String>,
    /// Assistant messages: the tool calls, as the JSON the model sent.
    pub tool_calls: Option<String>,
    /// Tool messages: the call answered, the tool, and whether it failed.
    pub tool_call_id: Option<String>,
    pub tool_name: Option<String>,
    pub is_error: Option<bool>,
}

impl NewMessage {
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

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub role: Role,
    pub content: Option<String>,
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
    pub tool_name: Option<String>,
    pub is_error: Option<bool>,
    pub created_at: DateTime<Utc>,
}

/// The row behind [`Message`]; the role is checked by the schema.
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: i64,
    pub role: String,
    pub content: Option<String>,
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
    pub tool_name: Option<String>,
    pub is_error: Option<bool>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for Message {
    type Error = Error;

    fn try_from(row: MessageRow) -> Result<Self> {
        let role = Role::parse(&row.role).ok_or_else(|| {
            Error::internal(format!(
                "message {} has an unknown role {:?}",
                row.id, row.role
            ))
        })?;
        Ok(Self {
            id: row.id,
            role,
            content: row.content,
            tool_calls: row.tool_calls,
            tool_call_id: row.tool_call_id,
            tool_name: row.tool_name,
            is_error: row.is_error,
            created_at: row.created_at,
        })
    }
}
