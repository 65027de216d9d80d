//! The conversation service. Every function takes the caller's [`UserId`];
//! another user's conversation is "not found" through the same statements
//! as a missing one.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::conversation::input::{ConversationId, MessageText};
use crate::conversation::message::{Conversation, Message, MessageBody};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::lease::{Appended, LeaseChange, Removal};
use crate::store::messages::Side;
use crate::time::now;
use crate::user::UserId;

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
    /// Extend `owner`'s lease to this long from now. When `owner` no longer
    /// holds it (it expired and another turn took it), nothing is stored and
    /// the answer is [`Error::Conflict`].
    Renew(&'a str, Duration),
    /// Give `owner`'s lease back, with the same rule as [`Hold::Renew`].
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
    if let Some(quota) = store.quotas().conversations
        && store.count_conversations(user, quota).await? >= quota
    {
        return Err(Error::QuotaExceeded(format!(
            "You already have {quota} conversations, the most one user may keep: delete some \
             before starting another."
        )));
    }
    let now = now();
    let lease = lease.map(|(owner, duration)| (owner, until_ms(now, duration)));
    let (conversation, message) = store
        .insert_conversation(user, &first.title(), &MessageBody::user(first), now, lease)
        .await?;
    Ok((conversation, message))
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
    match store
        .delete_conversation(user, id.get(), now().timestamp_millis())
        .await?
    {
        Removal::Deleted => Ok(()),
        Removal::Busy => Err(Error::Conflict(format!(
            "conversation {} has a message still being answered: delete it once that is done",
            id.get()
        ))),
        Removal::Missing => Err(not_found(id)),
    }
}

/// Store messages at the end of a conversation, all or none, doing to its
/// lease what `hold` says in the same transaction.
pub async fn append(
    store: &Store,
    user: &UserId,
    id: ConversationId,
    messages: &[MessageBody],
    hold: Hold<'_>,
) -> Result<Vec<Message>> {
    // A new turn (the user's message) is refused in a full conversation; a
    // turn under way stores its steps.
    if let (Hold::Take(..), Some(quota)) = (hold, store.quotas().messages_per_conversation)
        && store.count_messages(user, id.get(), quota).await? >= quota
    {
        return Err(Error::QuotaExceeded(format!(
            "This conversation has {quota} messages, the most one may keep: start a new one \
             (or delete this one)."
        )));
    }
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
        Appended::Stored(messages) => Ok(messages),
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
    let before = Side::Before(before.unwrap_or(i64::MAX));
    let mut messages = store.messages(user, id.get(), before, limit).await?;
    messages.reverse();
    Ok(messages)
}

/// Up to `limit` messages after message `after_id`, oldest first.
pub async fn page(
    store: &Store,
    user: &UserId,
    id: ConversationId,
    after_id: i64,
    limit: u32,
) -> Result<Vec<Message>> {
    Ok(store
        .messages(user, id.get(), Side::After(after_id), limit)
        .await?)
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
