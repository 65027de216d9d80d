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

/// Bind the six parameters of each message (see [`message_rows`]).
macro_rules! bind_messages {
    ($query:expr, $messages:expr) => {{
        let mut query = $query;
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

/// Bind the parameters of [`LeaseChange::touch_sql`] after `$1` to `$3`.
macro_rules! bind_lease {
    ($query:expr, $lease:expr) => {
        match $lease {
            LeaseChange::Keep => $query,
            LeaseChange::Take {
                owner,
                now_ms,
                until_ms,
            } => $query.bind(owner).bind(until_ms).bind(now_ms),
            LeaseChange::Renew { owner, until_ms } => $query.bind(owner).bind(until_ms),
            LeaseChange::Release { owner } => $query.bind(owner),
        }
    };
}

impl Store {
    /// A new conversation with its first message, atomically, its lease
    /// already taken by `lease` (owner, expiry in Unix ms) when given.
    pub(crate) async fn insert_conversation(
        &self,
        user: &UserId,
        title: &str,
        first: &NewMessage,
        now: DateTime<Utc>,
        lease: Option<(&str, i64)>,
    ) -> Result<(Conversation, MessageRow), sqlx::Error> {
        let conversation = concat!(
            "insert into conversations (user_id, title, created_at, updated_at, lease_owner, lease_until) \
             values ($1, $2, $3, $3, $4, $5) returning ",
            conversation_columns!()
        );
        let started = match self.writer() {
            // One statement, one round trip, atomic by itself.
            Pool::Postgres(pool) => {
                let sql = format!(
                    "with c as ({conversation}), \
                     m as (insert into messages {MESSAGE_INSERT_COLUMNS} \
                           select c.id, $3, $6, $7, $8, $9, $10, $11 from c returning id, created_at) \
                     select c.id, c.title, c.created_at, c.updated_at, \
                            m.id as message_id, m.created_at as message_created_at from c, m"
                );
                let row = bind_messages!(
                    sqlx::query_as::<_, StartedRow>(sqlx::AssertSqlSafe(sql))
                        .bind(user.as_str())
                        .bind(title)
                        .bind(now)
                        .bind(lease.map(|(owner, _)| owner))
                        .bind(lease.map(|(_, until)| until)),
                    std::slice::from_ref(first)
                )
                .fetch_one(pool)
                .await?;
                (
                    Conversation {
                        id: row.id,
                        title: row.title,
                        created_at: row.created_at,
                        updated_at: row.updated_at,
                    },
                    row.message_id,
                    row.message_created_at,
                )
            }
            Pool::Sqlite(pool) => {
                let insert = sqlite_insert_messages(1);
                let mut tx = pool.begin().await?;
                let conversation = sqlx::query_as::<_, Conversation>(conversation)
                    .bind(user.as_str())
                    .bind(title)
                    .bind(now)
                    .bind(lease.map(|(owner, _)| owner))
                    .bind(lease.map(|(_, until)| until))
                    .fetch_one(&mut *tx)
                    .await?;
                let message = bind_messages!(
                    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(insert))
                        .bind(conversation.id)
                        .bind(now),
                    std::slice::from_ref(first)
                )
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                (conversation, message.id, message.created_at)
            }
        };
        let (conversation, message_id, message_created_at) = started;
        let message = MessageRow {
            id: message_id,
            role: first.role.as_str().to_owned(),
            content: first.content.clone(),
            tool_calls: first.tool_calls.clone(),
            tool_call_id: first.tool_call_id.clone(),
            tool_name: first.tool_name.clone(),
            is_error: first.is_error,
            created_at: message_created_at,
        };
        Ok((conversation, message))
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

    /// Append messages and touch the conversation, atomically, doing to
    /// its lease what `lease` says. Nothing is written when the user has no
    /// such conversation, or when another owner holds the lease that
    /// [`LeaseChange::Take`] asks for.
    pub(crate) async fn append_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        messages: &[NewMessage],
        now: DateTime<Utc>,
        lease: LeaseChange<'_>,
    ) -> Result<Appended, sqlx::Error> {
        let touch = lease.touch_sql();
        let mut stored = match self.writer() {
            // One statement, one round trip, atomic by itself: the UPDATE
            // feeds the INSERT, which writes nothing when it touched nothing.
            Pool::Postgres(pool) if !messages.is_empty() => {
                let first = 4 + lease.parameters();
                let values = message_rows(first, messages.len(), |row| format!("{row}, "));
                let sql = format!(
                    "with touched as ({touch} returning id) \
                     insert into messages {MESSAGE_INSERT_COLUMNS} \
                     select touched.id, $3, v.role, v.content, v.tool_calls, v.tool_call_id, v.tool_name, v.is_error \
                     from touched cross join (values {values}) \
                     as v(n, role, content, tool_calls, tool_call_id, tool_name, is_error) \
                     order by v.n returning {}",
                    message_columns!()
                );
                let query = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql))
                    .bind(conversation_id)
                    .bind(user.as_str())
                    .bind(now);
                let rows = bind_messages!(bind_lease!(query, lease), messages)
                    .fetch_all(pool)
                    .await?;
                if rows.is_empty() {
                    return self.why_not_touched(user, conversation_id).await;
                }
                rows
            }
            Pool::Postgres(pool) => {
                let query = sqlx::query(touch)
                    .bind(conversation_id)
                    .bind(user.as_str())
                    .bind(now);
                let touched = bind_lease!(query, lease)
                    .execute(pool)
                    .await?
                    .rows_affected();
                if touched != 1 {
                    return self.why_not_touched(user, conversation_id).await;
                }
                Vec::new()
            }
            Pool::Sqlite(pool) => {
                // The first statement writes, so the transaction takes the
                // write lock at once and never has to upgrade a read lock.
                let mut tx = pool.begin().await?;
                let query = sqlx::query(touch)
                    .bind(conversation_id)
                    .bind(user.as_str())
                    .bind(now);
                let touched = bind_lease!(query, lease)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if touched != 1 {
                    tx.rollback().await?;
                    return self.why_not_touched(user, conversation_id).await;
                }
                let stored = if messages.is_empty() {
                    Vec::new()
                } else {
                    let insert = sqlite_insert_messages(messages.len());
                    bind_messages!(
                        sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(insert))
                            .bind(conversation_id)
                            .bind(now),
                        messages
                    )
                    .fetch_all(&mut *tx)
                    .await?
                };
                tx.commit().await?;
                stored
            }
        };
        // RETURNING promises no order; ids follow the VALUES.
        stored.sort_by_key(|m| m.id);
        Ok(Appended::Stored(stored))
    }

    /// Why an append touched no conversation: someone else's lease, or no
    /// such conversation of this user.
    async fn why_not_touched(
        &self,
        user: &UserId,
        conversation_id: i64,
    ) -> Result<Appended, sqlx::Error> {
        Ok(
            if self
                .get_conversation(user, conversation_id)
                .await?
                .is_some()
            {
                Appended::Busy
            } else {
                Appended::Missing
            },
        )
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

impl LeaseChange<'_> {
    /// The UPDATE that touches the conversation: `$1` is its id, `$2` the
    /// user, `$3` the time, then [`LeaseChange::parameters`] more. SET reads
    /// the old row, so every CASE tests the old owner.
    fn touch_sql(self) -> &'static str {
        match self {
            Self::Keep => "update conversations set updated_at = $3 where id = $1 and user_id = $2",
            Self::Take { .. } => {
                "update conversations set updated_at = $3, lease_owner = $4, lease_until = $5 \
                 where id = $1 and user_id = $2 \
                 and (lease_owner is null or lease_owner = $4 or lease_until < $6)"
            }
            Self::Renew { .. } => {
                "update conversations set updated_at = $3, \
                 lease_until = case when lease_owner = $4 then $5 else lease_until end \
                 where id = $1 and user_id = $2"
            }
            Self::Release { .. } => {
                "update conversations set updated_at = $3, \
                 lease_owner = case when lease_owner = $4 then null else lease_owner end, \
                 lease_until = case when lease_owner = $4 then null else lease_until end \
                 where id = $1 and user_id = $2"
            }
        }
    }

    fn parameters(self) -> usize {
        match self {
            Self::Keep => 0,
            Self::Take { .. } => 3,
            Self::Renew { .. } => 2,
            Self::Release { .. } => 1,
        }
    }
}

/// A started conversation with the id and time of its first message.
#[derive(sqlx::FromRow)]
struct StartedRow {
    id: i64,
    title: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    message_id: i64,
    message_created_at: DateTime<Utc>,
}

const MESSAGE_INSERT_COLUMNS: &str =
    "(conversation_id, created_at, role, content, tool_calls, tool_call_id, tool_name, is_error)";

/// `rows` groups of the six parameters of a message (bound by
/// `bind_messages!`) from `$first` on, each group led by `lead(row)`. Only
/// placeholders are generated, which is why the SQL built from them may be
/// marked `AssertSqlSafe`.
fn message_rows(first: usize, rows: usize, lead: impl Fn(usize) -> String) -> String {
    (0..rows)
        .map(|row| {
            let p = first + row * 6;
            format!(
                "({}${p}, ${}, ${}, ${}, ${}, ${})",
                lead(row),
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQLite's INSERT of `rows` messages: `$1` is the conversation, `$2` the
/// time, then the messages.
fn sqlite_insert_messages(rows: usize) -> String {
    format!(
        "insert into messages {MESSAGE_INSERT_COLUMNS} values {} returning {}",
        message_rows(3, rows, |_| "$1, $2, ".to_owned()),
        message_columns!()
    )
}
