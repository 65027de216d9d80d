//! What completing a task does: it completes, or, when it repeats, it stays
//! open and moves to its next occurrence.

use chrono::{DateTime, Utc};

use crate::task::model::Task;
use crate::zone::Zone;

/// What completing `task` at `at` makes of it (`None`: nothing to do).
pub(crate) fn completion(task: &Task, at: DateTime<Utc>, zone: Zone) -> (Option<Task>, bool) {
    if task.completed {
        return (None, false);
    }
    let mut next = task.clone();
    next.updated_at = at;
    if let (Some(rule), Some(due)) = (&task.recurrence, &task.due) {
        let start = task.recurrence_start.unwrap_or(*due);
        if let Some(following) = rule.next_after(&start, due, zone) {
            next.due = Some(following);
            return (Some(next), true);
        }
    }
    next.completed = true;
    next.completed_at = Some(at);
    (Some(next), false)
}
