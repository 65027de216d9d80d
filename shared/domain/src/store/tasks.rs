//! SQL of the `tasks` table. Every statement filters on `user_id`.

use chrono::{DateTime, Utc};

use crate::store::pool::{Pool, Store};
use crate::task::input::{Description, TaskPatch, Title};
use crate::task::model::Task;
use crate::user::UserId;

/// The columns of [`Task`], in a macro so that queries stay `&'static str`
/// (sqlx refuses run-time SQL strings unless audited).
macro_rules! task_columns {
    () => {
        "id, title, description, completed, created_at, updated_at"
    };
}

impl Store {
    pub async fn insert_task(
        &self,
        user: &UserId,
        title: &Title,
        description: &Description,
        now: DateTime<Utc>,
    ) -> Result<Task, sqlx::Error> {
        let sql = concat!(
            "insert into tasks (user_id, title, description, completed, created_at, updated_at) \
             values ($1, $2, $3, false, $4, $4) returning ",
            task_columns!()
        );
        on_pool!(self.writer(), |pool| sqlx::query_as::<_, Task>(sql)
            .bind(user.as_str())
            .bind(title.as_str())
            .bind(description.as_deref())
            .bind(now)
            .fetch_one(pool)
            .await)
    }

    /// Up to `limit` tasks of `user`, newest first, with id below `before_id`.
    pub async fn list_tasks(
        &self,
        user: &UserId,
        completed: Option<bool>,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<Task>, sqlx::Error> {
        let before_id = before_id.unwrap_or(i64::MAX);
        let limit = i64::from(limit);
        match completed {
            None => {
                let sql = concat!(
                    "select ",
                    task_columns!(),
                    " from tasks where user_id = $1 and id < $2 order by id desc limit $3"
                );
                on_pool!(self.reader(), |pool| sqlx::query_as::<_, Task>(sql)
                    .bind(user.as_str())
                    .bind(before_id)
                    .bind(limit)
                    .fetch_all(pool)
                    .await)
            }
            Some(completed) => {
                let sql = concat!(
                    "select ",
                    task_columns!(),
                    " from tasks where user_id = $1 and completed = $2 and id < $3 order by id desc limit $4"
                );
                on_pool!(self.reader(), |pool| sqlx::query_as::<_, Task>(sql)
                    .bind(user.as_str())
                    .bind(completed)
                    .bind(before_id)
                    .bind(limit)
                    .fetch_all(pool)
                    .await)
            }
        }
    }

    pub async fn get_task(&self, user: &UserId, id: i64) -> Result<Option<Task>, sqlx::Error> {
        let sql = concat!(
            "select ",
            task_columns!(),
            " from tasks where id = $1 and user_id = $2"
        );
        on_pool!(self.reader(), |pool| sqlx::query_as::<_, Task>(sql)
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(pool)
            .await)
    }

    /// Mark a task completed. Returns the task and whether it already was.
    /// The write is one statement; the read that follows a no-op only tells
    /// "already completed" from "not found".
    pub async fn complete_task(
        &self,
        user: &UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<(Task, bool)>, sqlx::Error> {
        let sql = concat!(
            "update tasks set completed = true, updated_at = $3 \
             where id = $1 and user_id = $2 and completed = false returning ",
            task_columns!()
        );
        let changed = on_pool!(self.writer(), |pool| sqlx::query_as::<_, Task>(sql)
            .bind(id)
            .bind(user.as_str())
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        match changed {
            Some(task) => Ok(Some((task, false))),
            None => Ok(self.get_task(user, id).await?.map(|task| (task, true))),
        }
    }

    pub async fn delete_task(&self, user: &UserId, id: i64) -> Result<Option<Task>, sqlx::Error> {
        let sql = concat!(
            "delete from tasks where id = $1 and user_id = $2 returning ",
            task_columns!()
        );
        on_pool!(self.writer(), |pool| sqlx::query_as::<_, Task>(sql)
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(pool)
            .await)
    }

    pub async fn update_task(
        &self,
        user: &UserId,
        id: i64,
        patch: &TaskPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>, sqlx::Error> {
        let sql = concat!(
            "update tasks set title = coalesce($3, title), \
             description = case when $4 then $5 else description end, updated_at = $6 \
             where id = $1 and user_id = $2 returning ",
            task_columns!()
        );
        let new_description = patch.description().and_then(Description::as_deref);
        on_pool!(self.writer(), |pool| sqlx::query_as::<_, Task>(sql)
            .bind(id)
            .bind(user.as_str())
            .bind(patch.title().map(Title::as_str))
            .bind(patch.description().is_some())
            .bind(new_description)
            .bind(now)
            .fetch_optional(pool)
            .await)
    }

    /// How many tasks `user` has (tests and operators' checks).
    pub async fn count_tasks(&self, user: &UserId) -> Result<i64, sqlx::Error> {
        on_pool!(self.reader(), |pool| sqlx::query_scalar::<_, i64>(
            "select count(*) from tasks where user_id = $1"
        )
        .bind(user.as_str())
        .fetch_one(pool)
        .await)
    }
}
