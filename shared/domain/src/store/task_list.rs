//! The one query behind `list_tasks`: filters, sort orders and keyset
//! pagination, built at run time from fixed fragments and bound values (no
//! client text ever becomes SQL); a search ranked by relevance is built in
//! `ranked_search`, the filters in `list_filters`. Every filter has an index to use:
//! `(user_id, completed, id)`, `(user_id, due_key, id)`,
//! `(user_id, priority, id)`, `(user_id, updated_at, id)`, `task_tags
//! (user_id, tag, task_id)`, and the full-text index (FTS5 on SQLite, GIN
//! on PostgreSQL).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::store::list_filters::{filters, pg_matches};
use crate::store::pool::{Pool, Store};
use crate::store::ranked_search::{pg_ranked, sqlite_ranked};
use crate::store::task_row::RankedRow;
use crate::task::listing::{CursorKey, ListRequest, Sort};
use crate::task::model::Task;
use crate::task::search::scope;
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
    if let (Sort::Relevance, Some(search)) = (request.sort, &filter.query) {
        match dialect {
            Dialect::Sqlite => sqlite_ranked(q, user, &scope, request, search, limit),
            Dialect::Postgres => pg_ranked(q, user, &scope, request, search, limit),
        }
        return;
    }
    q.push(concat!(
        "select ",
        task_columns!(),
        ", 0 as relevance from tasks where user_id = "
    ));
    q.push_bind(user.as_str().to_owned());
    filters(q, user, request);
    if let Some(search) = &filter.query {
        match dialect {
            Dialect::Sqlite => {
                q.push(" and id in (select rowid from tasks_fts where tasks_fts match ");
                q.push_bind(search.fts5(&scope, None)).push(")");
            }
            Dialect::Postgres => pg_matches(q, search.tsquery(&scope, false), true),
        }
    }
    if let Some(cursor) = &request.cursor {
        let id = cursor.id;
        match &cursor.key {
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
        Sort::Created | Sort::Relevance => " order by id desc",
        Sort::Updated => " order by updated_at desc, id desc",
        Sort::Priority => " order by priority desc, id desc",
        Sort::Due => " order by due_key asc nulls last, id asc",
    });
    q.push(" limit ").push_bind(i64::from(limit));
}
