//! The filters of a listing other than its search: status, due range,
//! overdue, priority and tags, as `and …` fragments after
//! `where user_id = …`, for the listing and for each part of a ranked
//! search. Unqualified column names: they apply to whichever `tasks` the
//! statement reads.

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::task::due::DueBound;
use crate::task::listing::ListRequest;
use crate::user::UserId;

/// The filters other than the query, after `where user_id = …`.
pub(super) fn filters<DB>(q: &mut QueryBuilder<DB>, user: &UserId, request: &ListRequest)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    bool: for<'t> Encode<'t, DB> + Type<DB>,
{
    let filter = &request.filter;
    if let Some(completed) = filter.status.completed() {
        q.push(" and completed = ").push_bind(completed);
    }
    if let Some(bound) = &filter.due_before {
        due_range(q, bound, "<=");
    }
    if let Some(bound) = &filter.due_after {
        due_range(q, bound, ">=");
    }
    if let Some(bound) = &filter.overdue {
        q.push(" and completed = ").push_bind(false);
        due_range(q, bound, "<=");
    }
    // The rank is one of four constants, written as a literal so that the
    // planner can use the partial index `where priority > 0`.
    if let Some(priority) = filter.min_priority {
        q.push(format_args!(" and priority >= {}", priority.rank()));
    }
    if !filter.tags.is_empty() {
        q.push(" and id in (select task_id from task_tags where user_id = ");
        q.push_bind(user.as_str().to_owned());
        q.push(" and tag in (");
        let mut tags = q.separated(", ");
        for tag in &filter.tags {
            tags.push_bind(tag.as_str().to_owned());
        }
        q.push("))");
    }
}

/// Due within `bound` (`op` is `<=` or `>=`): whole-day dues against its
/// day, timed dues against its instant. The first comparison, on the
/// looser key, is the one the `(user_id, due_key, id)` index serves.
fn due_range<DB>(q: &mut QueryBuilder<DB>, bound: &DueBound, op: &'static str)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    let loose = if op == "<=" {
        bound.upper()
    } else {
        bound.lower()
    };
    q.push(" and due_key ")
        .push(op)
        .push(" ")
        .push_bind(loose.to_owned());
    q.push(" and ((length(due_key) = 10 and due_key ")
        .push(op)
        .push(" ");
    q.push_bind(bound.day.clone());
    q.push(") or (length(due_key) > 10 and due_key ")
        .push(op)
        .push(" ");
    q.push_bind(bound.instant.clone()).push("))");
}

/// PostgreSQL: ` and [not] search @@ to_tsquery('simple', tsquery)`, the
/// `to_tsquery` as a subquery, evaluated once: in a prepared statement's
/// generic plan a bare `to_tsquery($n)` is parsed again for every row it
/// filters.
pub(super) fn pg_matches<DB>(q: &mut QueryBuilder<DB>, tsquery: String, matching: bool)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    q.push(if matching { " and " } else { " and not " });
    q.push("search @@ (select to_tsquery('simple', ")
        .push_bind(tsquery)
        .push("))");
}
