//! SQL of the `conversations` table. Every statement filters on the
//! conversation's `user_id`.

use chrono::{DateTime, Utc};

use crate::conversation::message::{Conversation, Message, MessageBody};
use crate::store::messages::{MESSAGE_INSERT_COLUMNS, sqlite_insert_messages};
use sqlx::Connection as _;

use crate::store::lease::Removal;
use crate::store::pool::{Pool, Store, Writer};
use crate::user::UserId;

macro_rules! conversation_columns {
    () => {
        "id, title, created_at, updated_at"
    };
}

impl Store {
    /// A new conversation with its first message, atomically, its lease
    /// already taken by `lease` (owner, expiry in Unix ms) when given.
    pub(crate) async fn insert_conversation(
        &self,
        user: &UserId,
        title: &str,
        first: &MessageBody,
        now: DateTime<Utc>,
        lease: Option<(&str, i64)>,
    ) -> Result<(Conversation, Message), sqlx::Error> {
        let conversation = concat!(
            "insert into conversations (user_id, title, created_at, updated_at, lease_owner, lease_until) \
             values ($1, $2, $3, $3, $4, $5) returning ",
            conversation_columns!()
        );
        let started = match self.writer().await? {
            // One statement, one round trip, atomic by itself.
            Writer::Postgres(mut connection) => {
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
                .fetch_one(&mut *connection)
                .await?;
                connection.keep();
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
            Writer::Sqlite(mut connection) => {
                let insert = sqlite_insert_messages(1);
                let mut tx = connection.begin().await?;
                let conversation = sqlx::query_as::<_, Conversation>(conversation)
                    .bind(user.as_str())
                    .bind(title)
                    .bind(now)
                    .bind(lease.map(|(owner, _)| owner))
                    .bind(lease.map(|(_, until)| until))
                    .fetch_one(&mut *tx)
                    .await?;
                let message = bind_messages!(
                    sqlx::query_as::<_, Message>(sqlx::AssertSqlSafe(insert))
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
        let message = Message {
            id: message_id,
            body: first.clone(),
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

    /// Delete a conversation and (by cascade) its messages, unless a turn
    /// holds its lease (one that has not expired by `now_ms`).
    pub(crate) async fn delete_conversation(
        &self,
        user: &UserId,
        id: i64,
        now_ms: i64,
    ) -> Result<Removal, sqlx::Error> {
        let sql = "delete from conversations where id = $1 and user_id = $2 \
                   and (lease_owner is null or lease_until < $3)";
        let done = on_writer!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(user.as_str())
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 1 {
            return Ok(Removal::Deleted);
        }
        // Nothing deleted: held by a turn, or not the user's at all.
        let sql = "select count(*) from conversations where id = $1 and user_id = $2";
        let found: i64 = on_pool!(self.reader(), |pool| sqlx::query_scalar(sql)
            .bind(id)
            .bind(user.as_str())
            .fetch_one(pool)
            .await)?;
        Ok(if found > 0 {
            Removal::Busy
        } else {
            Removal::Missing
        })
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
