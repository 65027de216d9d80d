//! SQL of the `conversations` and `messages` tables. Every statement filters
//! on the conversation's `user_id` (messages through their conversation).

use chrono::{DateTime, Utc};

use super::{Pool, Store};
use crate::conversation::{Conversation, MessageRow, NewMessage};
use crate::user::UserId;

macro_rules! conversation_columns {
    () => {
        "id, title, created_at, updated_at"
    };
}

macro_rules! message_columns {
    () => {
        "id, role, content, tool_calls, tool_call_id, tool_name, is_error, created_at"
    };
}

/// Bind the parameters of [`insert_messages_sql`] to `$query`.
macro_rules! bind_messages {
    ($query:expr, $conversation_id:expr, $now:expr, $messages:expr) => {{
        let mut query = $query.bind($conversation_id).bind($now);
        for message in $messages {
            query = query
                .bind(message.role.as_str())
                .bind(message.content.as_deref())
                .bind(message.tool_calls.as_deref())
                .bind(message.tool_call_id.as_deref())
                .bind(message.tool_name.as_deref())
                .bind(message.is_error);
        }
        query
    }};
}

impl Store {
    /// A new conversation with its first message, in one transaction, its
    /// lease already taken by `lease` (owner, expiry in Unix ms) when given.
    pub(crate) async fn insert_conversation(
        &self,
        user: &UserId,
        title: &str,
        first: &NewMessage,
        now: DateTime<Utc>,
        lease: Option<(&str, i64)>,
    ) -> Result<(Conversation, MessageRow), sqlx::Error> {
        let sql = concat!(
            "insert into conversations (user_id, title, created_at, updated_at, lease_owner, lease_until) \
             values ($1, $2, $3, $3, $4, $5) returning ",
            conversation_columns!()
        );
        let insert = insert_messages_sql(1);
        on_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let conversation = sqlx::query_as::<_, Conversation>(sql)
                .bind(user.as_str())
                .bind(title)
                .bind(now)
                .bind(lease.map(|(owner, _)| owner))
                .bind(lease.map(|(_, until)| until))
                .fetch_one(&mut *tx)
                .await?;
            let message = bind_messages!(
                sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(insert.as_str())),
                conversation.id,
                now,
                std::slice::from_ref(first)
            )
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok((conversation, message))
        })
    }

    pub async fn get_conversation(
        &self,
        user: &UserId,
        id: i64,
    ) -> Result<Option<Conversation>, sqlx::Error> {
        let sql = concat!(
            "select ",
            conversation_columns!(),
            " from conversations where id = $1 and user_id = $2"
        );
        on_pool!(self.reader(), |pool| sqlx::query_as::<_, Conversation>(sql)
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(pool)
            .await)
    }

    /// Most recently active first; `before` is the (updated_at, id) of the
    /// last conversation of the previous page.
    pub async fn list_conversations(
        &self,
        user: &UserId,
        limit: u32,
        before: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<Conversation>, sqlx::Error> {
        let limit = i64::from(limit);
        match before {
            None => {
                let sql = concat!(
                    "select ",
                    conversation_columns!(),
                    " from conversations where user_id = $1 order by updated_at desc, id desc limit $2"
                );
                on_pool!(self.reader(), |pool| sqlx::query_as::<_, Conversation>(sql)
                    .bind(user.as_str())
                    .bind(limit)
                    .fetch_all(pool)
                    .await)
            }
            Some((updated_at, id)) => {
                let sql = concat!(
                    "select ",
                    conversation_columns!(),
                    " from conversations where user_id = $1 and (updated_at < $2 or (updated_at = $2 and id < $3)) \
                     order by updated_at desc, id desc limit $4"
                );
                on_pool!(self.reader(), |pool| sqlx::query_as::<_, Conversation>(sql)
                    .bind(user.as_str())
                    .bind(updated_at)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(pool)
                    .await)
            }
        }
    }

    /// Delete a conversation and (by cascade) its messages. False when the
    /// user has no such conversation.
    pub async fn delete_conversation(&self, user: &UserId, id: i64) -> Result<bool, sqlx::Error> {
        let sql = "delete from conversations where id = $1 and user_id = $2";
        let done = on_pool!(self.writer(), |pool| sqlx::query(sql)
            .bind(id)
            .bind(user.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Append messages and touch the conversation, in one transaction,
    /// doing to its lease what `lease` says. Nothing is written when the
    /// user has no such conversation, or when another owner holds the lease
    /// that [`LeaseChange::Take`] asks for.
    pub(crate) async fn append_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        messages: &[NewMessage],
        now: DateTime<Utc>,
        lease: LeaseChange<'_>,
    ) -> Result<Appended, sqlx::Error> {
        // SET reads the old row, so every CASE tests the old owner.
        let touch = match lease {
            LeaseChange::Keep => {
                "update conversations set updated_at = $3 where id = $1 and user_id = $2"
            }
            LeaseChange::Take { .. } => {
                "update conversations set updated_at = $3, lease_owner = $4, lease_until = $5 \
                 where id = $1 and user_id = $2 \
                 and (lease_owner is null or lease_owner = $4 or lease_until < $6)"
            }
            LeaseChange::Renew { .. } => {
                "update conversations set updated_at = $3, \
                 lease_until = case when lease_owner = $4 then $5 else lease_until end \
                 where id = $1 and user_id = $2"
            }
            LeaseChange::Release { .. } => {
                "update conversations set updated_at = $3, \
                 lease_owner = case when lease_owner = $4 then null else lease_owner end, \
                 lease_until = case when lease_owner = $4 then null else lease_until end \
                 where id = $1 and user_id = $2"
            }
        };
        let insert = insert_messages_sql(messages.len());
        let exists = "select 1 from conversations where id = $1 and user_id = $2";
        on_pool!(self.writer(), |pool| {
            // The first statement writes, so a SQLite transaction takes the
            // write lock at once and never has to upgrade a read lock.
            let mut tx = pool.begin().await?;
            let query = sqlx::query(touch)
                .bind(conversation_id)
                .bind(user.as_str())
                .bind(now);
            let query = match lease {
                LeaseChange::Keep => query,
                LeaseChange::Take {
                    owner,
                    now_ms,
                    until_ms,
                } => query.bind(owner).bind(until_ms).bind(now_ms),
                LeaseChange::Renew { owner, until_ms } => query.bind(owner).bind(until_ms),
                LeaseChange::Release { owner } => query.bind(owner),
            };
            let touched = query.execute(&mut *tx).await?.rows_affected();
            if touched != 1 {
                let found = sqlx::query(exists)
                    .bind(conversation_id)
                    .bind(user.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                tx.rollback().await?;
                return Ok(if found {
                    Appended::Busy
                } else {
                    Appended::Missing
                });
            }
            let mut stored = if messages.is_empty() {
                Vec::new()
            } else {
                bind_messages!(
                    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(insert.as_str())),
                    conversation_id,
                    now,
                    messages
                )
                .fetch_all(&mut *tx)
                .await?
            };
            tx.commit().await?;
            // RETURNING promises no order; ids follow the VALUES.
            stored.sort_by_key(|m| m.id);
            Ok(Appended::Stored(stored))
        })
    }

    /// The last `limit` messages with id below `before_id`, newest first.
    pub(crate) async fn recent_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        before_id: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>, sqlx::Error> {
        let sql = "select m.id, m.role, m.content, m.tool_calls, m.tool_call_id, m.tool_name, m.is_error, m.created_at \
                   from messages m join conversations c on c.id = m.conversation_id \
                   where m.conversation_id = $1 and c.user_id = $2 and m.id < $3 order by m.id desc limit $4";
        on_pool!(self.reader(), |pool| sqlx::query_as::<_, MessageRow>(sql)
            .bind(conversation_id)
            .bind(user.as_str())
            .bind(before_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)
    }

    /// Up to `limit` messages with id above `after_id`, oldest first.
    pub(crate) async fn page_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>, sqlx::Error> {
        let sql = "select m.id, m.role, m.content, m.tool_calls, m.tool_call_id, m.tool_name, m.is_error, m.created_at \
                   from messages m join conversations c on c.id = m.conversation_id \
                   where m.conversation_id = $1 and c.user_id = $2 and m.id > $3 order by m.id limit $4";
        on_pool!(self.reader(), |pool| sqlx::query_as::<_, MessageRow>(sql)
            .bind(conversation_id)
            .bind(user.as_str())
            .bind(after_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)
    }

    /// Give the lease back if `owner` still holds it.
    pub(crate) async fn release_lease(
        &self,
        conversation_id: i64,
        owner: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = "update conversations set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2";
        on_pool!(self.writer(), |pool| sqlx::query(sql)
            .bind(conversation_id)
            .bind(owner)
            .execute(pool)
            .await
            .map(drop))
    }
}

/// What an append does with the conversation's lease; times in Unix ms.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeaseChange<'a> {
    Keep,
    /// Take it unless another owner holds one that ends after `now_ms`.
    Take {
        owner: &'a str,
        now_ms: i64,
        until_ms: i64,
    },
    /// Extend it if `owner` holds it.
    Renew {
        owner: &'a str,
        until_ms: i64,
    },
    /// Give it back if `owner` holds it.
    Release {
        owner: &'a str,
    },
}

/// The outcome of an append.
pub(crate) enum Appended {
    Stored(Vec<MessageRow>),
    /// Another owner holds the lease: nothing was written.
    Busy,
    /// The user has no such conversation: nothing was written.
    Missing,
}

/// One INSERT of `rows` messages of one conversation: `$1` is the
/// conversation, `$2` the time, then six parameters per message. The text
/// is made of placeholders only, which is why callers may `AssertSqlSafe` it.
fn insert_messages_sql(rows: usize) -> String {
    let mut sql = String::from(
        "insert into messages (conversation_id, created_at, role, content, tool_calls, tool_call_id, tool_name, is_error) values ",
    );
    for row in 0..rows {
        let p = 3 + row * 6;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "($1, $2, ${}, ${}, ${}, ${}, ${}, ${})",
            p,
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5
        ));
    }
    sql.push_str(concat!(" returning ", message_columns!()));
    sql
}
