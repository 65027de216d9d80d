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
    let ranked = request.sort == Sort::Relevance;
    let scope = scope(user);
    q.push(concat!("select ", task_columns!(), ", "));
    match (&filter.query, ranked) {
        (Some(search), true) => relevance(q, dialect, &scope, search),
        _ => {
            q.push("0");
        }
    }
    q.push(" as relevance from tasks where user_id = ");
    q.push_bind(user.as_str().to_owned());
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
            CursorKey::Created => {
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
            CursorKey::Relevance(tier) => {
                if let Some(search) = &filter.query {
                    q.push(" and (");
                    relevance(q, dialect, &scope, search);
                    q.push(" < ").push_bind(*tier).push(" or (");
                    relevance(q, dialect, &scope, search);
                    q.push(" = ").push_bind(*tier);
                    q.push(" and id < ").push_bind(id).push("))");
                }
            }
        }
    }
    q.push(match request.sort {
        Sort::Created => " order by id desc",
        Sort::Updated => " order by updated_at desc, id desc",
        Sort::Priority => " order by priority desc, id desc",
        Sort::Due => " order by due_key asc nulls last, id asc",
        Sort::Relevance => " order by relevance desc, id desc",
    });
    q.push(" limit ").push_bind(i64::from(limit));
}

/// 1 when every searched word is in the title, else 0.
fn relevance<DB>(q: &mut QueryBuilder<DB>, dialect: Dialect, scope: &str, search: &SearchQuery)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
{
    match dialect {
        Dialect::Sqlite => {
            q.push("(case when id in (select rowid from tasks_fts where tasks_fts match ");
            q.push_bind(search.fts5(scope, Some("search_title")));
            q.push(") then 1 else 0 end)");
        }
        Dialect::Postgres => {
            q.push("(case when search @@ to_tsquery('simple', ");
            q.push_bind(search.tsquery(scope, true));
            q.push(") then 1 else 0 end)");
        }
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
