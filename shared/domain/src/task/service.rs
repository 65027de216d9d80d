//! The task service: what both front doors (MCP tools, HTTP handlers) call.
//!
//! Every function takes the caller's [`UserId`] and passes it to the store,
//! whose every query filters on it: a task of another user is "not found"
//! through the very same code path as a task that does not exist.

use crate::error::{Error, Result};
use crate::page::Limit;
use crate::store::Store;
use crate::task::input::{Cursor, Description, StatusFilter, TaskId, TaskPatch, Title};
use crate::task::model::{Completed, Task, TaskPage};
use crate::time::now;
use crate::user::UserId;

pub async fn add(
    store: &Store,
    user: &UserId,
    title: Title,
    description: Description,
) -> Result<Task> {
    Ok(store.insert_task(user, &title, &description, now()).await?)
}

pub async fn list(
    store: &Store,
    user: &UserId,
    status: StatusFilter,
    limit: Limit,
    cursor: Option<Cursor>,
) -> Result<TaskPage> {
    let mut tasks = store
        .list_tasks(
            user,
            status.completed(),
            limit.get() + 1,
            cursor.map(Cursor::before_id),
        )
        .await?;
    let next_cursor = if tasks.len() > limit.get() as usize {
        tasks.truncate(limit.get() as usize);
        tasks.last().map(|t| Cursor::after(t.id))
    } else {
        None
    };
    Ok(TaskPage { tasks, next_cursor })
}

pub async fn get(store: &Store, user: &UserId, id: TaskId) -> Result<Task> {
    store.get_task(user, id.get()).await?.ok_or(not_found(id))
}

pub async fn complete(store: &Store, user: &UserId, id: TaskId) -> Result<Completed> {
    let (task, was_already_completed) = store
        .complete_task(user, id.get(), now())
        .await?
        .ok_or(not_found(id))?;
    Ok(Completed {
        task,
        was_already_completed,
    })
}

pub async fn delete(store: &Store, user: &UserId, id: TaskId) -> Result<Task> {
    store
        .delete_task(user, id.get())
        .await?
        .ok_or(not_found(id))
}

pub async fn update(store: &Store, user: &UserId, id: TaskId, patch: TaskPatch) -> Result<Task> {
    store
        .update_task(user, id.get(), &patch, now())
        .await?
        .ok_or(not_found(id))
}

fn not_found(id: TaskId) -> Error {
    Error::NotFound {
        what: "Task",
        id: id.get(),
    }
}
