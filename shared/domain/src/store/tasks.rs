//! SQL of the `tasks` and `task_tags` tables (listing is in
//! [`crate::store::task_list`]). Every statement filters on `user_id`.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use sqlx::Acquire as _;

use crate::store::pool::{Pool, Store};
use crate::store::task_row::{TaskRow, TaskWrite};
use crate::store::writer::BeginWrite as _;
use crate::task::model::Task;
use crate::task::new::NewTask;
use crate::task::patch::InPlace;
use crate::task::search::{fold, scope};
use crate::task::tags::Tags;
use crate::user::UserId;

const INSERT: &str = concat!(
    "insert into tasks (user_id, created_at, title, description, completed, due, due_key, \
     priority, tags, recurrence, recurrence_start, completed_at, updated_at, search_title, \
     search_body) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     returning ",
    task_columns!()
);
/// [`INSERT`] unless the user keeps `$16` tasks already (then no row).
const INSERT_WITHIN_QUOTA: &str = concat!(
    "insert into tasks (user_id, created_at, title, description, completed, due, due_key, \
     priority, tags, recurrence, recurrence_start, completed_at, updated_at, search_title, \
     search_body) select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
     where (select count(*) from (select 1 from tasks where user_id = $1 limit $16) as kept) < $16 \
     returning ",
    task_columns!()
);
const WRITE: &str = concat!(
    "update tasks set ",
    task_values!(),
    " where id = $1 and user_id = $2"
);
const GET: &str = concat!(
    "select ",
    task_columns!(),
    " from tasks where id = $1 and user_id = $2"
);
/// PostgreSQL locks the row until the transaction ends; SQLite needs no
/// lock, as its writes go through one connection.
const LOCK_PG: &str = concat!(
    "select ",
    task_columns!(),
    " from tasks where id = $1 and user_id = $2 for update"
);
const DELETE: &str = concat!(
    "delete from tasks where id = $1 and user_id = $2 returning ",
    task_columns!()
);

/// Add the tag rows of task `$id` (a new task has none yet; a changed one
/// has had its old ones deleted).
macro_rules! insert_tags {
    ($tx:expr, $id:expr, $user:expr, $tags:expr) => {{
        let tags: &Tags = $tags;
        if !tags.is_empty() {
            let mut insert =
                sqlx::QueryBuilder::new("insert into task_tags (task_id, user_id, tag) ");
            insert.push_values(tags.iter(), |mut row, tag| {
                row.push_bind($id)
                    .push_bind($user.as_str())
                    .push_bind(tag.as_str().to_owned());
            });
            insert.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// Add `tasks`, all or none, in order.
    pub async fn insert_tasks(
        &self,
        user: &UserId,
        tasks: &[NewTask],
        now: DateTime<Utc>,
    ) -> Result<Vec<Task>> {
        let drafts: Vec<Task> = tasks.iter().map(|t| draft(t, now)).collect();
        let scope = scope(user);
        let writes: Vec<TaskWrite<'_>> = drafts.iter().map(|d| TaskWrite::new(d, &scope)).collect();
        // Within the quota, the insert checks the user's count itself: one
        // statement still, and no row when the user keeps enough already.
        let (sql, quota) = match self.quotas.tasks {
            Some(quota) => (INSERT_WITHIN_QUOTA, quota),
            None => (INSERT, 0),
        };
        // A macro, not a closure: the query is typed for each backend.
        macro_rules! insert {
            ($write:expr) => {{
                let query = bind_task!(
                    sqlx::query_as::<_, TaskRow>(sql)
                        .bind(user.as_str())
                        .bind(now),
                    $write
                );
                if self.quotas.tasks.is_some() {
                    query.bind(quota)
                } else {
                    query
                }
            }};
        }
        if let [write] = writes.as_slice()
            && write.task.tags.is_empty()
        {
            // The common case, one plain task: one statement, no transaction.
            let row = on_writer!(self, |pool| insert!(write).fetch_optional(pool).await)?;
            let row = row.ok_or_else(|| over_quota(quota))?;
            self.queue_changed();
            return Ok(vec![row.into()]);
        }
        let added = on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut added = Vec::with_capacity(writes.len());
            let mut full = false;
            for write in &writes {
                let Some(row) = insert!(write).fetch_optional(&mut *tx).await? else {
                    full = true;
                    break;
                };
                let task = Task::from(row);
                insert_tags!(tx, task.id, user, &write.task.tags);
                added.push(task);
            }
            // All or none: past the quota, none.
            if full {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            Ok::<_, Error>((!full).then_some(added))
        })?;
        let added = added.ok_or_else(|| over_quota(quota))?;
        self.queue_changed();
        Ok(added)
    }

    pub async fn get_task(&self, user: &UserId, id: i64) -> Result<Option<Task>, sqlx::Error> {
        let row = on_pool!(self.reader(), |pool| sqlx::query_as::<_, TaskRow>(GET)
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Task::from))
    }

    /// Complete a task that does not repeat and is open, in one statement.
    /// `None` when it does not apply (missing, repeating or completed):
    /// then [`Store::change_tasks`] decides.
    pub async fn complete_plain_task(
        &self,
        user: &UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>, sqlx::Error> {
        let sql = concat!(
            "update tasks set completed = true, completed_at = $3, updated_at = $3 \
             where id = $1 and user_id = $2 and completed = false and recurrence is null \
             returning ",
            task_columns!()
        );
        let row = on_writer!(self, |pool| sqlx::query_as::<_, TaskRow>(sql)
            .bind(id)
            .bind(user.as_str())
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Task::from))
    }

    /// Make `change` to one task in one statement. `None` when no row
    /// changed: the task is missing, or the change would leave a repeating
    /// task without a due (then [`Store::change_tasks`] tells which).
    pub(crate) async fn update_in_place(
        &self,
        user: &UserId,
        id: i64,
        change: &InPlace<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>, sqlx::Error> {
        let sql = concat!(
            "update tasks set \
             title = case when $3 then $4 else title end, \
             search_title = case when $3 then $5 else search_title end, \
             description = case when $6 then $7 else description end, \
             search_body = case when $6 then $8 else search_body end, \
             due = case when $9 then $10 else due end, \
             due_key = case when $9 then $11 else due_key end, \
             recurrence_start = case when $9 and recurrence is not null then $10 else recurrence_start end, \
             priority = coalesce($12, priority), \
             completed = coalesce($13, completed), \
             completed_at = case when $13 and not completed then $14 \
                                 when not $13 then null else completed_at end, \
             updated_at = $14 \
             where id = $1 and user_id = $2 and not ($9 and $10 is null and recurrence is not null) \
             returning ",
            task_columns!()
        );
        let scope = scope(user);
        let due = change.due.as_ref().map(|d| d.as_ref());
        let description = change.description.flatten();
        let row = on_writer!(self, |pool| sqlx::query_as::<_, TaskRow>(sql)
            .bind(id)
            .bind(user.as_str())
            .bind(change.title.is_some())
            .bind(change.title)
            .bind(change.title.map(|t| fold(&scope, t)))
            .bind(change.description.is_some())
            .bind(description)
            .bind(description.map(|d| fold(&scope, d)).unwrap_or_default())
            .bind(due.is_some())
            .bind(due.flatten().map(|(text, _)| text.as_str()))
            .bind(due.flatten().map(|(_, key)| key.as_str()))
            .bind(change.priority)
            .bind(change.completed)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        if change.title.is_some() || change.description.is_some() {
            self.queue_changed();
        }
        Ok(row.map(Task::from))
    }

    /// Change the tasks `ids` of `user` in one transaction: `change` gets
    /// each task as it is and answers its new state, or `None` to leave it.
    /// A missing id (or another user's) changes nothing and names the id;
    /// so does an error of `change`. Answers each task after the change.
    pub async fn change_tasks<F>(
        &self,
        user: &UserId,
        ids: &[i64],
        mut change: F,
    ) -> Result<Vec<Task>>
    where
        F: FnMut(&Task) -> Result<Option<Task>> + Send,
    {
        let lock = match self.reader() {
            Pool::Sqlite(_) => GET,
            Pool::Postgres(_) => LOCK_PG,
        };
        let scope = scope(user);
        let changed = on_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut changed = Vec::with_capacity(ids.len());
            for &id in ids {
                let row = sqlx::query_as::<_, TaskRow>(lock)
                    .bind(id)
                    .bind(user.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let task = Task::from(row.ok_or(Error::NotFound { what: "Task", id })?);
                let Some(next) = change(&task)? else {
                    changed.push(task);
                    continue;
                };
                let write = TaskWrite::new(&next, &scope);
                bind_task!(sqlx::query(WRITE).bind(id).bind(user.as_str()), write)
                    .execute(&mut *tx)
                    .await?;
                if next.tags != task.tags {
                    sqlx::query("delete from task_tags where task_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    insert_tags!(tx, id, user, &next.tags);
                }
                changed.push(next);
            }
            tx.commit().await?;
            Ok::<_, Error>(changed)
        })?;
        self.queue_changed();
        Ok(changed)
    }

    /// Delete the tasks `ids` of `user`, all or none: a missing id (or
    /// another user's) deletes nothing and names the id.
    pub async fn delete_tasks(&self, user: &UserId, ids: &[i64]) -> Result<Vec<Task>> {
        // No `return` in the body: it would leave the macro without keeping
        // the connection, and this function without waking the indexer.
        let deleted = on_writer!(self, |pool| {
            if let [id] = ids {
                // The common case, one task: one statement, no transaction.
                sqlx::query_as::<_, TaskRow>(DELETE)
                    .bind(*id)
                    .bind(user.as_str())
                    .fetch_optional(pool)
                    .await?
                    .map(|row| vec![Task::from(row)])
                    .ok_or(Error::NotFound {
                        what: "Task",
                        id: *id,
                    })
            } else {
                let mut tx = pool.begin().await?;
                let mut deleted = Vec::with_capacity(ids.len());
                for &id in ids {
                    let row = sqlx::query_as::<_, TaskRow>(DELETE)
                        .bind(id)
                        .bind(user.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    deleted.push(Task::from(row.ok_or(Error::NotFound { what: "Task", id })?));
                }
                tx.commit().await?;
                Ok(deleted)
            }
        })?;
        self.queue_changed();
        Ok(deleted)
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

    /// The tag rows of a task, for checking that they follow its tags.
    pub async fn task_tag_rows(&self, user: &UserId, id: i64) -> Result<Vec<String>, sqlx::Error> {
        on_pool!(self.reader(), |pool| sqlx::query_scalar::<_, String>(
            "select tag from task_tags where task_id = $1 and user_id = $2 order by tag"
        )
        .bind(id)
        .bind(user.as_str())
        .fetch_all(pool)
        .await)
    }
}

/// A new task as it will be stored, before the database gives it an id.
fn draft(new: &NewTask, now: DateTime<Utc>) -> Task {
    Task {
        id: 0,
        title: new.title.as_str().to_owned(),
        description: new.description.as_deref().map(str::to_owned),
        completed: false,
        due: new.due,
        priority: new.priority,
        tags: new.tags.clone(),
        recurrence: new.recurrence.clone(),
        recurrence_start: new.recurrence.as_ref().and(new.due),
        completed_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// The refusal of a task past the user's quota.
fn over_quota(quota: i64) -> Error {
    Error::QuotaExceeded(format!(
        "You already have {quota} tasks, the most one user may keep: delete some (completed ones \
         count too) before adding more."
    ))
}
