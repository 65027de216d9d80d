//! Model tokens per user and UTC day (`token_usage`), for the gateway's
//! daily budget.

use crate::store::pool::{Pool, Store};
use crate::user::UserId;

impl Store {
    /// Tokens `user` used on `day` (YYYY-MM-DD); 0 when none.
    pub(crate) async fn tokens_used(&self, user: &UserId, day: &str) -> Result<i64, sqlx::Error> {
        let sql = "select tokens from token_usage where user_id = $1 and day = $2";
        let used: Option<i64> = on_pool!(self.reader(), |pool| sqlx::query_scalar(sql)
            .bind(user.as_str())
            .bind(day)
            .fetch_optional(pool)
            .await)?;
        Ok(used.unwrap_or(0))
    }

    /// Add `tokens` to what `user` used on `day`.
    pub(crate) async fn add_tokens(
        &self,
        user: &UserId,
        day: &str,
        tokens: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = "insert into token_usage (user_id, day, tokens) values ($1, $2, $3) \
                   on conflict (user_id, day) do update set tokens = token_usage.tokens + excluded.tokens";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(user.as_str())
            .bind(day)
            .bind(tokens)
            .execute(pool)
            .await
            .map(drop))
    }

    /// Forget the days before `day`; how many rows went.
    pub(crate) async fn purge_tokens_before(&self, day: &str) -> Result<u64, sqlx::Error> {
        let sql = "delete from token_usage where day < $1";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(day)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    }
}
