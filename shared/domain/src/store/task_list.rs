//! The one query behind `list_tasks`: filters, sort orders and keyset
//! pagination, built at run time from fixed fragments and bound values (no
//! client text ever becomes SQL). Every filter has an index to use:
//! `(user_id, completed, id)`, `(user_id, due_key, id)`,
//! `(user_id, priority, id)`, `(user_id, updated_at, id)`, `task_tags
//! (user_id, tag, task_id)`, and the full-text index (FTS5 on SQLite, GIN
//! on PostgreSQL).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::store::pool::{Pool, Store};
use crate::store::task_row::RankedRow;
use crate::task::due::DueBound;
use crate::task::listing::{CursorKey, ListRequest, Sort};
use crate::task::model::Task;
use crate::task::search::{SearchQuery, scope};
use crate::user::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Store {
    /// Up to `limit` tasks of `user` matching the request's filters, after
    /// its cursor, in its order; each with its search relevance.
    pub async fn list_tasks(
        &self,
        user: &UserId,
        request: &ListRequest,
        limit: u32,
    ) -> Result<Vec<(Task, i32)>, sqlx::Error> {
        let dialect = match self.reader() {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        };
        if request.filter.query.is_some() {
            self.index_for_search().await?;
        }
        let rows = on_pool!(self.reader(), |pool| {
            let mut query = QueryBuilder::new("");
            build(&mut query, dialect, user, request, limit);
            query.build_query_as::<RankedRow>().fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (Task::from(r.row), r.relevance))
            .collect())
    }
}

impl Store {
    /// The database's plan for [`Store::list_tasks`] (executed, on
    /// PostgreSQL): for the benchmark's report and for operators.
    pub async fn explain_list_tasks(
        &self,
        user: &UserId,
        request: &ListRequest,
    ) -> Result<String, sqlx::Error> {
        use sqlx::Row as _;
        let (dialect, prefix) = match self.reader() {
            Pool::Sqlite(_) => (Dialect::Sqlite, "explain query plan "),
            Pool::Postgres(_) => (Dialect::Postgres, "explain (analyze, costs off) "),
        };
        let limit = request.limit.get() + 1;
        let lines: Vec<String> = on_pool!(self.reader(), |pool| {
            let mut query = QueryBuilder::new(prefix);
            build(&mut query, dialect, user, request, limit);
            let rows = query.build().fetch_all(pool).await?;
            rows.iter()
                .map(|row| row.try_get::<String, _>(row.len() - 1))
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(lines.join("\n"))
    }
}

/// The statement, into `q`.
fn build<DB>(
    q: &mut QueryBuilder<DB>,
    dialect: Dialect,
    user: &UserId,
    request: &ListRequest,
    limit: u32,
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    i32: for<'t> Encode<'t, DB> + Type<DB>,
    bool: for<'t> Encode<'t, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    let filter = &request.filter;
    let scope = scope(user);
    let ranking = match (request.sort, &filter.query, dialect) {
        (Sort::Relevance, Some(search), Dialect::Sqlite) => {
            sqlite_ranked(q, user, &scope, request, search, limit);
            return;
        }
        // PostgreSQL ranks every match: its planner chose worse plans for
        // the two branches (measured in docs/benchmarks.md).
        (Sort::Relevance, Some(search), Dialect::Postgres) => Some(search),
        _ => None,
    };
    q.push(concat!("select ", task_columns!(), ", "));
    match ranking {
        Some(search) => pg_relevance(q, &scope, search),
        None => {
            q.push("0");
        }
    }
    q.push(" as relevance from tasks where user_id = ");
    q.push_bind(user.as_str().to_owned());
    filters(q, user, request);
    if let Some(search) = &filter.query {
        match dialect {
            Dialect::Sqlite => {
                q.push(" and id in (select rowid from tasks_fts where tasks_fts match ");
                q.push_bind(search.fts5(&scope, None)).push(")");
            }
            Dialect::Postgres => {
                q.push(" and search @@ to_tsquery('simple', ");
                q.push_bind(search.tsquery(&scope, false)).push(")");
            }
        }
    }
    if let Some(cursor) = &request.cursor {
        let id = cursor.id;
        match &cursor.key {
            CursorKey::Relevance(tier) if let Some(search) = ranking => {
                q.push(" and (");
                pg_relevance(q, &scope, search);
                q.push(" < ").push_bind(*tier).push(" or (");
                pg_relevance(q, &scope, search);
                q.push(" = ").push_bind(*tier);
                q.push(" and id < ").push_bind(id).push("))");
            }
            // Without a query every task ranks alike: id order.
            CursorKey::Created | CursorKey::Relevance(_) => {
                q.push(" and id < ").push_bind(id);
            }
            CursorKey::Updated(at) => {
                q.push(" and (updated_at < ").push_bind(*at);
                q.push(" or (updated_at = ").push_bind(*at);
                q.push(" and id < ").push_bind(id).push("))");
            }
            CursorKey::Priority(rank) => {
                q.push(" and (priority < ").push_bind(*rank);
                q.push(" or (priority = ").push_bind(*rank);
                q.push(" and id < ").push_bind(id).push("))");
            }
            CursorKey::Due(Some(key)) => {
                q.push(" and (due_key > ").push_bind(key.clone());
                q.push(" or (due_key = ").push_bind(key.clone());
                q.push(" and id > ")
                    .push_bind(id)
                    .push(") or due_key is null)");
            }
            CursorKey::Due(None) => {
                q.push(" and due_key is null and id > ").push_bind(id);
            }
        }
    }
    q.push(match request.sort {
        Sort::Relevance if ranking.is_some() => " order by relevance desc, id desc",
        Sort::Created | Sort::Relevance => " order by id desc",
        Sort::Updated => " order by updated_at desc, id desc",
        Sort::Priority => " order by priority desc, id desc",
        Sort::Due => " order by due_key asc nulls last, id asc",
    });
    q.push(" limit ").push_bind(i64::from(limit));
}

/// PostgreSQL: 1 when every searched word is in the title, else 0.
fn pg_relevance<DB>(q: &mut QueryBuilder<DB>, scope: &str, search: &SearchQuery)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    q.push("(case when search @@ to_tsquery('simple', ");
    q.push_bind(search.tsquery(scope, true));
    q.push(") then 1 else 0 end)");
}

/// The filters other than the query, after `where user_id = …`.
fn filters<DB>(q: &mut QueryBuilder<DB>, user: &UserId, request: &ListRequest)
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

/// A search ranked by relevance on SQLite: tasks with every word in the
/// title (1) before the others (0), newest first within each. Two
/// branches, each walking its matches newest first (FTS5 hands out row ids
/// in descending order) and stopping at the page's end, so a common word
/// costs about a page, not every match. The cursor's tier says which
/// branch it is in. (PostgreSQL ranks in one statement, see [`build`].)
fn sqlite_ranked<DB>(
    q: &mut QueryBuilder<DB>,
    user: &UserId,
    scope: &str,
    request: &ListRequest,
    search: &SearchQuery,
    limit: u32,
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    bool: for<'t> Encode<'t, DB> + Type<DB>,
{
    let all = search.fts5(scope, None);
    let title = search.fts5(scope, Some("search_title"));
    // Where the cursor is: in the title tier (1) or the rest (0). A cursor
    // of another sort starts the ranked list over.
    let after = request.cursor.as_ref().and_then(|c| match c.key {
        CursorKey::Relevance(tier) => Some((tier.clamp(0, 1), c.id)),
        _ => None,
    });
    q.push("select * from (");
    if after.is_none_or(|(tier, _)| tier == 1) {
        let id = after.map(|(_, id)| id);
        sqlite_branch(q, user, request, (1, title.clone()), id, limit);
        q.push(" union all ");
    }
    let id = after.filter(|(tier, _)| *tier == 0).map(|(_, id)| id);
    let rest = format!("({all}) NOT ({title})");
    sqlite_branch(q, user, request, (0, rest), id, limit);
    q.push(") as ranked order by relevance desc, id desc limit ")
        .push_bind(i64::from(limit));
}

/// One branch of [`sqlite_ranked`]: the tasks matching the FTS5 query
/// `matching`, ranked `rank`, after `after`, newest first, at most `limit`.
fn sqlite_branch<DB>(
    q: &mut QueryBuilder<DB>,
    user: &UserId,
    request: &ListRequest,
    (rank, matching): (i32, String),
    after: Option<i64>,
    limit: u32,
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    bool: for<'t> Encode<'t, DB> + Type<DB>,
{
    // CROSS JOIN keeps the full-text index the outer loop, read in
    // descending row id order.
    q.push(format_args!(
        "select * from (select {}, {rank} as relevance from tasks_fts \
         cross join tasks on tasks.id = tasks_fts.rowid where tasks_fts match ",
        task_columns!()
    ));
    q.push_bind(matching);
    q.push(" and user_id = ")
        .push_bind(user.as_str().to_owned());
    filters(q, user, request);
    if let Some(id) = after {
        q.push(" and id < ").push_bind(id);
    }
    q.push(" order by tasks_fts.rowid desc limit ")
        .push_bind(i64::from(limit));
    q.push(format_args!(") as tier{rank}"));
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
