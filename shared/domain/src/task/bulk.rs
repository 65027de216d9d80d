//! The same change to several tasks at once (`task_ids`), in one
//! transaction: if any id is missing or another user's, nothing changes and
//! the error names it.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::task::completion::completion;
use crate::task::input::TaskId;
use crate::task::model::{Completed, Task};
use crate::task::patch::TaskPatch;
use crate::time::now;
use crate::user::UserId;
use crate::zone::Zone;

pub const MAX_TASK_IDS: usize = 100;

/// 1 to [`MAX_TASK_IDS`] task ids, each once, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskIds(Vec<i64>);

impl TaskIds {
    pub fn parse(raw: &[i64]) -> Result<Self> {
        if raw.is_empty() || raw.len() > MAX_TASK_IDS {
            return Err(Error::invalid(
                "task_ids",
                format!(
                    "task_ids must list 1 to {MAX_TASK_IDS} task ids, got {}",
                    raw.len()
                ),
            ));
        }
        let mut ids = Vec::with_capacity(raw.len());
        for &id in raw {
            if id < 1 {
                return Err(Error::invalid(
                    "task_ids",
                    format!("task_ids must be positive integers, got {id}"),
                ));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(Self(ids))
    }

    pub fn one(id: TaskId) -> Self {
        Self(vec![id.get()])
    }

    pub fn as_slice(&self) -> &[i64] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a tool's `task_id` / `task_ids` name: one task (answered as one)
/// or several (answered as a list, even of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskTarget {
    One(TaskId),
    Many(TaskIds),
}

impl TaskTarget {
    /// Exactly one of `task_id` and `task_ids`.
    pub fn parse(task_id: Option<i64>, task_ids: Option<&[i64]>) -> Result<Self> {
        match (task_id, task_ids) {
            (Some(id), None) => Ok(Self::One(TaskId::parse(id)?)),
            (None, Some(ids)) => Ok(Self::Many(TaskIds::parse(ids)?)),
            (Some(_), Some(_)) => Err(Error::invalid(
                "task_ids",
                "give either task_id (one task) or task_ids (several), not both",
            )),
            (None, None) => Err(Error::invalid(
                "task_id",
                "give task_id (one task) or task_ids (several)",
            )),
        }
    }
}

pub async fn complete_many(
    store: &Store,
    user: &UserId,
    ids: &TaskIds,
    zone: Zone,
) -> Result<Vec<Completed>> {
    complete_many_at(store, user, ids, zone, now()).await
}

pub(crate) async fn complete_many_at(
    store: &Store,
    user: &UserId,
    ids: &TaskIds,
    zone: Zone,
    at: DateTime<Utc>,
) -> Result<Vec<Completed>> {
    let mut recurred = Vec::with_capacity(ids.len());
    let mut already = Vec::with_capacity(ids.len());
    let tasks = store
        .change_tasks(user, ids.as_slice(), |task| {
            let (next, repeats) = completion(task, at, zone);
            already.push(next.is_none());
            recurred.push(repeats);
            Ok(next)
        })
        .await?;
    Ok(tasks
        .into_iter()
        .zip(already.into_iter().zip(recurred))
        .map(|(task, (was_already_completed, recurred))| Completed {
            task,
            was_already_completed,
            recurred,
        })
        .collect())
}

pub async fn delete_many(store: &Store, user: &UserId, ids: &TaskIds) -> Result<Vec<Task>> {
    store.delete_tasks(user, ids.as_slice()).await
}

pub async fn update_many(
    store: &Store,
    user: &UserId,
    ids: &TaskIds,
    patch: &TaskPatch,
) -> Result<Vec<Task>> {
    let at = now();
    store
        .change_tasks(user, ids.as_slice(), |task| patch.apply(task, at).map(Some))
        .await
}
