//! SQL of the `messages` table. Messages are reached through their
//! conversation, whose `user_id` every statement filters on.

use chrono::{DateTime, Utc};

use crate::conversation::message::{Message, MessageBody};
use crate::store::lease::{Appended, LeaseChange};
use sqlx::Connection as _;

use crate::store::pool::{Pool, Store, Writer};
use crate::user::UserId;

/// The columns of [`Message`], bare or of the table aliased `m`.
macro_rules! message_columns {
    () => {
        "id, role, content, tool_calls, tool_call_id, tool_name, is_error, created_at"
    };
    (m) => {
        "m.id, m.role, m.content, m.tool_calls, m.tool_call_id, m.tool_name, m.is_error, m.created_at"
    };
}

/// Which messages of a conversation, around one of them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    /// Those with a smaller id, newest first.
    Before(i64),
    /// Those with a larger id, oldest first.
    After(i64),
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

impl Store {
    /// Append messages and touch the conversation, atomically, doing to
    /// its lease what `lease` says. Nothing is written when the user has no
    /// such conversation, or when another owner holds the lease that
    /// [`LeaseChange::Take`] asks for.
    pub(crate) async fn append_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        messages: &[MessageBody],
        now: DateTime<Utc>,
        lease: LeaseChange<'_>,
    ) -> Result<Appended, sqlx::Error> {
        let touch = lease.touch_sql();
        let mut stored = match self.writer().await? {
            // One statement, one round trip, atomic by itself: the UPDATE
            // feeds the INSERT, which writes nothing when it touched nothing.
            Writer::Postgres(mut connection) if !messages.is_empty() => {
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
                let query = sqlx::query_as::<_, Message>(sqlx::AssertSqlSafe(sql))
                    .bind(conversation_id)
                    .bind(user.as_str())
                    .bind(now);
                let rows = bind_messages!(bind_lease!(query, lease), messages)
                    .fetch_all(&mut *connection)
                    .await?;
                connection.keep();
                if rows.is_empty() {
                    return self.why_not_touched(user, conversation_id).await;
                }
                rows
            }
            Writer::Postgres(mut connection) => {
                let query = sqlx::query(touch)
                    .bind(conversation_id)
                    .bind(user.as_str())
                    .bind(now);
                let touched = bind_lease!(query, lease)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
                connection.keep();
                if touched != 1 {
                    return self.why_not_touched(user, conversation_id).await;
                }
                Vec::new()
            }
            Writer::Sqlite(mut connection) => {
                // The first statement writes, so the transaction takes the
                // write lock at once and never has to upgrade a read lock.
                let mut tx = connection.begin().await?;
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
                        sqlx::query_as::<_, Message>(sqlx::AssertSqlSafe(insert))
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

    /// Up to `limit` messages of the conversation on one side of a message:
    /// the last ones before it (newest first) or the first ones after it
    /// (oldest first).
    pub(crate) async fn messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        side: Side,
        limit: u32,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let (sql, bound) = match side {
            Side::Before(id) => (
                concat!(
                    "select ",
                    message_columns!(m),
                    " from messages m join conversations c on c.id = m.conversation_id \
                     where m.conversation_id = $1 and c.user_id = $2 and m.id < $3 order by m.id desc limit $4"
                ),
                id,
            ),
            Side::After(id) => (
                concat!(
                    "select ",
                    message_columns!(m),
                    " from messages m join conversations c on c.id = m.conversation_id \
                     where m.conversation_id = $1 and c.user_id = $2 and m.id > $3 order by m.id limit $4"
                ),
                id,
            ),
        };
        on_pool!(self.reader(), |pool| sqlx::query_as::<_, Message>(sql)
            .bind(conversation_id)
            .bind(user.as_str())
            .bind(bound)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)
    }
}

pub(super) const MESSAGE_INSERT_COLUMNS: &str =
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
pub(super) fn sqlite_insert_messages(rows: usize) -> String {
    format!(
        "insert into messages {MESSAGE_INSERT_COLUMNS} values {} returning {}",
        message_rows(3, rows, |_| "$1, $2, ".to_owned()),
        message_columns!()
    )
}
