//! The task service: what both front doors (MCP tools, HTTP handlers) call.
//!
//! Every function takes the caller's [`UserId`] and passes it to the store,
//! whose every query filters on it: a task of another user is "not found"
//! through the very same code path as a task that does not exist.

use crate::error::{Error, Result};
use crate::store::Store;
use crate::task::bulk::TaskIds;
use crate::task::input::TaskId;
use crate::task::listing::{Cursor, CursorKey, ListRequest, Sort};
use crate::task::model::{Completed, Task, TaskPage};
use crate::task::new::NewTask;
use crate::task::patch::TaskPatch;
use crate::time::now;
use crate::user::UserId;
use crate::zone::Zone;

/// The most tasks one `add_many` adds.
pub const MAX_NEW_TASKS: usize = 50;

pub async fn add(store: &Store, user: &UserId, task: NewTask) -> Result<Task> {
    let mut added = store.insert_tasks(user, &[task], now()).await?;
    added
        .pop()
        .ok_or_else(|| Error::internal("insert returned no task"))
}

/// Add 1 to [`MAX_NEW_TASKS`] tasks, all or none.
pub async fn add_many(store: &Store, user: &UserId, tasks: Vec<NewTask>) -> Result<Vec<Task>> {
    if tasks.is_empty() || tasks.len() > MAX_NEW_TASKS {
        return Err(Error::invalid(
            "tasks",
            format!(
                "tasks must hold 1 to {MAX_NEW_TASKS} tasks, got {}",
                tasks.len()
            ),
        ));
    }
    store.insert_tasks(user, &tasks, now()).await
}

pub async fn list(store: &Store, user: &UserId, request: &ListRequest) -> Result<TaskPage> {
    let limit = request.limit.get();
    let mut found = store.list_tasks(user, request, limit + 1).await?;
    let next_cursor = if found.len() > limit as usize {
        found.truncate(limit as usize);
        found
            .last()
            .map(|(task, relevance)| cursor_after(task, request.sort, *relevance))
    } else {
        None
    };
    let tasks = found.into_iter().map(|(task, _)| task).collect();
    Ok(TaskPage { tasks, next_cursor })
}

/// The sort a request gets when it names none: by relevance for a search,
/// newest first otherwise.
pub fn default_sort(searching: bool) -> Sort {
    if searching {
        Sort::Relevance
    } else {
        Sort::Created
    }
}

pub async fn get(store: &Store, user: &UserId, id: TaskId) -> Result<Task> {
    store.get_task(user, id.get()).await?.ok_or(not_found(id))
}

/// Complete one task. A repeating task stays open, due at its next
/// occurrence (read in `zone`); once its rule ends it completes.
pub async fn complete(store: &Store, user: &UserId, id: TaskId, zone: Zone) -> Result<Completed> {
    let at = now();
    if let Some(task) = store.complete_plain_task(user, id.get(), at).await? {
        return Ok(Completed {
            task,
            was_already_completed: false,
            recurred: false,
        });
    }
    let ids = TaskIds::one(id);
    crate::task::bulk::complete_many_at(store, user, &ids, zone, at)
        .await?
        .pop()
        .ok_or_else(|| Error::internal("complete returned no task"))
}

pub async fn delete(store: &Store, user: &UserId, id: TaskId) -> Result<Task> {
    let mut deleted = store.delete_tasks(user, &[id.get()]).await?;
    deleted.pop().ok_or(not_found(id))
}

pub async fn update(store: &Store, user: &UserId, id: TaskId, patch: TaskPatch) -> Result<Task> {
    let at = now();
    if let Some(change) = patch.in_place()
        && let Some(task) = store.update_in_place(user, id.get(), &change, at).await?
    {
        return Ok(task);
    }
    let mut changed = store
        .change_tasks(user, &[id.get()], |task| patch.apply(task, at).map(Some))
        .await?;
    changed.pop().ok_or(not_found(id))
}

/// The position after `task` under `sort`.
fn cursor_after(task: &Task, sort: Sort, relevance: i32) -> Cursor {
    let key = match sort {
        Sort::Created => CursorKey::Created,
        Sort::Due => CursorKey::Due(task.due.map(|d| d.key())),
        Sort::Priority => CursorKey::Priority(task.priority.rank()),
        Sort::Updated => CursorKey::Updated(task.updated_at),
        Sort::Relevance => CursorKey::Relevance(relevance),
    };
    Cursor { id: task.id, key }
}

fn not_found(id: TaskId) -> Error {
    Error::NotFound {
        what: "Task",
        id: id.get(),
    }
}
