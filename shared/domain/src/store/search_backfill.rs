//! Rows written before search existed (or by an older release during a
//! rolling upgrade) have no folded text yet: fill it in, in batches, after
//! the migrations. Folding is the application's (accents and case, the same
//! way on both databases), so SQL alone cannot do it.

use sqlx::Acquire as _;

use crate::store::pool::{Pool, Store};
use crate::task::search::{fold, scope};
use crate::user::UserId;

const BATCH: i64 = 500;

impl Store {
    /// Fold the text of every task that has none yet. Returns how many.
    pub async fn backfill_search(&self) -> Result<u64, sqlx::Error> {
        let mut done = 0;
        loop {
            let rows: Vec<(i64, String, String, Option<String>)> =
                on_pool!(self.reader(), |pool| {
                    sqlx::query_as(
                    "select id, user_id, title, description from tasks where search_title is null \
                     order by id limit $1",
                )
                .bind(BATCH)
                .fetch_all(pool)
                .await
                })?;
            if rows.is_empty() {
                return Ok(done);
            }
            on_writer!(self, |pool| {
                let mut tx = pool.begin().await?;
                for (id, user, title, description) in &rows {
                    // A user id that no longer parses gets the scope of none:
                    // its rows stay unsearchable rather than stop the start.
                    let scope = UserId::parse(user).map(|u| scope(&u)).unwrap_or_default();
                    sqlx::query(
                        "update tasks set search_title = $2, search_body = $3 where id = $1",
                    )
                    .bind(id)
                    .bind(fold(&scope, title))
                    .bind(
                        description
                            .as_deref()
                            .map(|d| fold(&scope, d))
                            .unwrap_or_default(),
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            })?;
            done += rows.len() as u64;
            self.queue_changed();
        }
    }
}
