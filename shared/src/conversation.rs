//! Conversations of the chat gateway: validated inputs, stored values, and
//! the service functions over the store. Every function takes the caller's
//! [`UserId`]; another user's conversation is "not found" through the same
//! statements as a missing one.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::store::{Appended, LeaseChange, Store};
use crate::task::now;
use crate::user::UserId;

pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Conversation titles are the start of the first message, this long at most.
pub const TITLE_CHARS: usize = 80;

/// A conversation id as a client sent it, checked to be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationId(i64);

impl ConversationId {
    pub fn parse(raw: i64) -> Result<Self> {
        if raw < 1 {
            return Err(Error::invalid(
                "conversation_id",
                format!("conversation_id must be a positive integer, got {raw}"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A user's chat message: not blank, at most 10,000 characters, no control
/// characters but newlines and tabs. Stored as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.trim().is_empty() {
            return Err(Error::invalid("message", "message must not be empty"));
        }
        let chars = raw.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(Error::invalid(
                "message",
                format!("message must be at most {MAX_MESSAGE_CHARS} characters (got {chars})"),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Error::invalid(
                "message",
                "message must not contain control characters other than newline and tab",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The title of a conversation that starts with this message: its first
    /// line, cut to [`TITLE_CHARS`] with an ellipsis.
    pub fn title(&self) -> String {
        let line = self.0.trim().lines().next().unwrap_or_default().trim();
        if line.chars().count() <= TITLE_CHARS {
            line.to_owned()
        } else {
            let mut cut: String = line.chars().take(TITLE_CHARS - 1).collect();
            cut.push('…');
            cut
        }
    }
}

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
    pub fn user(text: &MessageText) -> Self {
        Self {
            role: Role::User,
            content: Some(text.as_str().to_owned()),
            tool_calls: None,
            tool_call_id: None,
            tool_name: None,
            is_error: None,
        }
    }

    pub fn assistant(content: Option<String>, tool_calls: Option<String>) -> Self {
        Self {
            role: Role::Assistant,
            content,
            tool_calls,
            tool_call_id: None,
            tool_name: None,
            is_error: None,
        }
    }

    pub fn tool(call_id: String, tool: String, result: String, is_error: bool) -> Self {
        Self {
            role: Role::Tool,
            content: Some(result),
            tool_calls: None,
            tool_call_id: Some(call_id),
            tool_name: Some(tool),
            is_error: Some(is_error),
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

/// What storing messages does with the conversation's lease. A turn holds
/// the lease so that turns of one conversation run one after the other, also
/// across gateway instances; a lease that is not given back (a crashed
/// process) ends by itself.
#[derive(Debug, Clone, Copy)]
pub enum Hold<'a> {
    /// Leave it as it is.
    Keep,
    /// Take it for `owner` for this long, unless another owner holds one
    /// that has not ended: then nothing is stored and the answer is
    /// [`Error::Conflict`].
    Take(&'a str, Duration),
    /// Extend `owner`'s lease to this long from now (no effect if `owner`
    /// does not hold it).
    Renew(&'a str, Duration),
    /// Give `owner`'s lease back (no effect if `owner` does not hold it).
    Release(&'a str),
}

/// The answer to a [`Hold::Take`] that found the lease taken.
pub const BUSY_MESSAGE: &str = "another request on this conversation is still running";

// ---- service functions -------------------------------------------------

/// Start a conversation with its first (user) message, which also gives it
/// its title, in one transaction; `lease` (owner, duration) is taken at once
/// when given.
pub async fn start(
    store: &Store,
    user: &UserId,
    first: &MessageText,
    lease: Option<(&str, Duration)>,
) -> Result<(Conversation, Message)> {
    let now = now();
    let lease = lease.map(|(owner, duration)| (owner, until_ms(now, duration)));
    let (conversation, message) = store
        .insert_conversation(user, &first.title(), &NewMessage::user(first), now, lease)
        .await?;
    Ok((conversation, Message::try_from(message)?))
}

pub async fn get(store: &Store, user: &UserId, id: ConversationId) -> Result<Conversation> {
    store
        .get_conversation(user, id.get())
        .await?
        .ok_or(not_found(id))
}

/// A page of the user's conversations, most recently active first, after
/// `before` (the last one of the previous page).
pub async fn list(
    store: &Store,
    user: &UserId,
    limit: u32,
    before: Option<&Conversation>,
) -> Result<Vec<Conversation>> {
    Ok(store
        .list_conversations(user, limit, before.map(|c| (c.updated_at, c.id)))
        .await?)
}

pub async fn delete(store: &Store, user: &UserId, id: ConversationId) -> Result<()> {
    if store.delete_conversation(user, id.get()).await? {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

/// Store messages at the end of a conversation, all or none, doing to its
/// lease what `hold` says in the same transaction.
pub async fn append(
    store: &Store,
    user: &UserId,
    id: ConversationId,
    messages: &[NewMessage],
    hold: Hold<'_>,
) -> Result<Vec<Message>> {
    let now = now();
    let lease = match hold {
        Hold::Keep => LeaseChange::Keep,
        Hold::Take(owner, duration) => LeaseChange::Take {
            owner,
            now_ms: now.timestamp_millis(),
            until_ms: until_ms(now, duration),
        },
        Hold::Renew(owner, duration) => LeaseChange::Renew {
            owner,
            until_ms: until_ms(now, duration),
        },
        Hold::Release(owner) => LeaseChange::Release { owner },
    };
    match store
        .append_messages(user, id.get(), messages, now, lease)
        .await?
    {
        Appended::Stored(rows) => rows.into_iter().map(Message::try_from).collect(),
        Appended::Busy => Err(Error::Conflict(BUSY_MESSAGE.to_owned())),
        Appended::Missing => Err(not_found(id)),
    }
}

/// The last `limit` messages (before message `before` when given), oldest
/// first.
pub async fn recent(
    store: &Store,
    user: &UserId,
    id: ConversationId,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Message>> {
    let mut rows = store
        .recent_messages(user, id.get(), before.unwrap_or(i64::MAX), limit)
        .await?;
    rows.reverse();
    rows.into_iter().map(Message::try_from).collect()
}

/// Up to `limit` messages after message `after_id`, oldest first.
pub async fn page(
    store: &Store,
    user: &UserId,
    id: ConversationId,
    after_id: i64,
    limit: u32,
) -> Result<Vec<Message>> {
    store
        .page_messages(user, id.get(), after_id, limit)
        .await?
        .into_iter()
        .map(Message::try_from)
        .collect()
}

/// Give the lease back (only if `owner` still holds it).
pub async fn release_lease(store: &Store, id: ConversationId, owner: &str) -> Result<()> {
    store.release_lease(id.get(), owner).await?;
    Ok(())
}

/// Unix ms at which a lease taken at `now` for `duration` ends.
fn until_ms(now: DateTime<Utc>, duration: Duration) -> i64 {
    now.timestamp_millis()
        .saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}

fn not_found(id: ConversationId) -> Error {
    Error::NotFound {
        what: "Conversation",
        id: id.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_messages_are_rejected() {
        for raw in ["", "   ", "\n\t "] {
            assert_eq!(
                MessageText::parse(raw)
                    .err()
                    .map(|e| e.to_string())
                    .as_deref(),
                Some("message must not be empty")
            );
        }
    }

    #[test]
    fn message_longer_than_10000_chars_is_rejected() {
        assert!(MessageText::parse(&"m".repeat(10_000)).is_ok());
        assert!(MessageText::parse(&"m".repeat(10_001)).is_err());
    }

    #[test]
    fn message_with_nul_is_rejected_but_newlines_are_kept() {
        assert!(MessageText::parse("a\u{0}b").is_err());
        assert_eq!(
            MessageText::parse("  two\nlines ").ok().map(|m| m.0),
            Some("  two\nlines ".to_owned())
        );
    }

    #[test]
    fn title_is_the_first_line_cut_to_80_chars() {
        let text = MessageText::parse("  Add a task to buy milk\nand eggs").expect("text");
        assert_eq!(text.title(), "Add a task to buy milk");
        let long = MessageText::parse(&"é".repeat(100)).expect("text");
        assert_eq!(long.title().chars().count(), 80);
        assert!(long.title().ends_with('…'));
    }

    #[test]
    fn conversation_id_must_be_positive() {
        assert!(ConversationId::parse(1).is_ok());
        assert!(ConversationId::parse(0).is_err() && ConversationId::parse(-3).is_err());
    }
}
