//! What one user may keep: tasks (checked in the insert itself, see
//! `tasks.rs`), conversations, and messages per conversation; counted up to
//! the quota only, so a count costs at most that many index entries.

use crate::store::pool::{Pool, Quotas, Store};
use crate::user::UserId;

impl Store {
    /// This store, holding users to `quotas`.
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    pub fn quotas(&self) -> Quotas {
        self.quotas
    }

    /// The user's conversations, counted up to `up_to`.
    pub(crate) async fn count_conversations(
        &self,
        user: &UserId,
        up_to: i64,
    ) -> Result<i64, sqlx::Error> {
        let sql = "select count(*) from (select 1 from conversations where user_id = $1 limit $2) as kept";
        on_pool!(self.reader(), |pool| sqlx::query_scalar(sql)
            .bind(user.as_str())
            .bind(up_to)
            .fetch_one(pool)
            .await)
    }

    /// The messages of the user's conversation `id`, counted up to `up_to`.
    pub(crate) async fn count_messages(
        &self,
        user: &UserId,
        id: i64,
        up_to: i64,
    ) -> Result<i64, sqlx::Error> {
        let sql = "select count(*) from (select 1 from messages m join conversations c \
                   on c.id = m.conversation_id where c.id = $1 and c.user_id = $2 limit $3) as kept";
        on_pool!(self.reader(), |pool| sqlx::query_scalar(sql)
            .bind(id)
            .bind(user.as_str())
            .bind(up_to)
            .fetch_one(pool)
            .await)
    }
}
