//! SQL of the `conversations` and `messages` tables. Every statement filters
//! on the conversation's `user_id` (messages through their conversation).

use chrono::{DateTime, Utc};

use super::{Pool, Store};
use crate::conversation::{Conversation, Lease, MessageRow, NewMessage};
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

impl Store {
    /// A new conversation, with its lease already taken by `lease` (owner,
    /// expiry in Unix ms) when given.
    pub async fn insert_conversation(
        &self,
        user: &UserId,
        title: &str,
        now: DateTime<Utc>,
        lease: Option<(&str, i64)>,
    ) -> Result<Conversation, sqlx::Error> {
        let sql = concat!(
            "insert into conversations (user_id, title, created_at, updated_at, lease_owner, lease_until) \
             values ($1, $2, $3, $3, $4, $5) returning ",
            conversation_columns!()
        );
        on_pool!(self.writer(), |pool| sqlx::query_as::<_, Conversation>(sql)
            .bind(user.as_str())
            .bind(title)
            .bind(now)
            .bind(lease.map(|(owner, _)| owner))
            .bind(lease.map(|(_, until)| until))
            .fetch_one(pool)
            .await)
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

    /// Append messages and touch the conversation, in one transaction, also
    /// giving back the lease of `release` (an owner) when given. None when
    /// the user has no such conversation (then nothing is written).
    pub(crate) async fn append_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        messages: &[NewMessage],
        now: DateTime<Utc>,
        release: Option<&str>,
    ) -> Result<Option<Vec<MessageRow>>, sqlx::Error> {
        // SET reads the old row, so both CASEs test the old owner.
        let touch = "update conversations set updated_at = $3, \
                     lease_owner = case when lease_owner = $4 then null else lease_owner end, \
                     lease_until = case when lease_owner = $4 then null else lease_until end \
                     where id = $1 and user_id = $2";
        let insert = concat!(
            "insert into messages (conversation_id, role, content, tool_calls, tool_call_id, tool_name, is_error, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) returning ",
            message_columns!()
        );
        on_pool!(self.writer(), |pool| {
            // The first statement writes, so a SQLite transaction takes the
            // write lock at once and never has to upgrade a read lock.
            let mut tx = pool.begin().await?;
            let touched = sqlx::query(touch)
                .bind(conversation_id)
                .bind(user.as_str())
                .bind(now)
                .bind(release)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if touched != 1 {
                tx.rollback().await?;
                return Ok(None);
            }
            let mut stored = Vec::with_capacity(messages.len());
            for message in messages {
                let row = sqlx::query_as::<_, MessageRow>(insert)
                    .bind(conversation_id)
                    .bind(message.role.as_str())
                    .bind(message.content.as_deref())
                    .bind(message.tool_calls.as_deref())
                    .bind(message.tool_call_id.as_deref())
                    .bind(message.tool_name.as_deref())
                    .bind(message.is_error)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                stored.push(row);
            }
            tx.commit().await?;
            Ok(Some(stored))
        })
    }

    /// The last `limit` messages, newest first.
    pub(crate) async fn recent_messages(
        &self,
        user: &UserId,
        conversation_id: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>, sqlx::Error> {
        let sql = "select m.id, m.role, m.content, m.tool_calls, m.tool_call_id, m.tool_name, m.is_error, m.created_at \
                   from messages m join conversations c on c.id = m.conversation_id \
                   where m.conversation_id = $1 and c.user_id = $2 order by m.id desc limit $3";
        on_pool!(self.reader(), |pool| sqlx::query_as::<_, MessageRow>(sql)
            .bind(conversation_id)
            .bind(user.as_str())
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

    /// Take the lease (owner, expiry in Unix ms) unless someone else holds an
    /// unexpired one.
    pub async fn acquire_lease(
        &self,
        user: &UserId,
        conversation_id: i64,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Lease, sqlx::Error> {
        let sql = "update conversations set lease_owner = $3, lease_until = $4 \
                   where id = $1 and user_id = $2 \
                   and (lease_owner is null or lease_owner = $3 or lease_until < $5)";
        let taken = on_pool!(self.writer(), |pool| sqlx::query(sql)
            .bind(conversation_id)
            .bind(user.as_str())
            .bind(owner)
            .bind(until_ms)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if taken == 1 {
            return Ok(Lease::Acquired);
        }
        Ok(match self.get_conversation(user, conversation_id).await? {
            Some(_) => Lease::Busy,
            None => Lease::NotFound,
        })
    }

    pub async fn release_lease(
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
