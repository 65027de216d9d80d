//! A search ranked by relevance: tasks with every searched word in the
//! title (tier 1) before the others (tier 0), newest first within each.
//! Both databases answer it in parts read in order, each stopping at the
//! page's end, so that a common word costs about a page rather than every
//! match. The cursor's tier says where the next page starts.

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::store::list_filters::{filters, pg_matches};
use crate::task::listing::{CursorKey, ListRequest};
use crate::task::search::SearchQuery;
use crate::user::UserId;

/// How many of a user's newest tasks (after the cursor), per task of the
/// page, a PostgreSQL ranked search looks for matches in first, at least
/// [`PG_WINDOW_MIN`]: a page of a word in one title in 100 is found there.
const PG_WINDOW_PER_TASK: i64 = 100;
const PG_WINDOW_MIN: i64 = 2_000;

/// The tier (clamped to 0 or 1) and id of a ranked cursor; a cursor of
/// another sort starts the ranked list over.
fn ranked_cursor(request: &ListRequest) -> Option<(i32, i64)> {
    request.cursor.as_ref().and_then(|c| match c.key {
        CursorKey::Relevance(tier) => Some((tier.clamp(0, 1), c.id)),
        _ => None,
    })
}

/// SQLite: two branches, each walking its FTS5 matches newest first (FTS5
/// hands out row ids in descending order) and stopping at the page's end.
pub(super) fn sqlite_ranked<DB>(
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
    let after = ranked_cursor(request);
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

/// PostgreSQL: each tier in two parts, its matches among the user's
/// newest tasks (the window) and those older, all under one `limit`. A
/// `union all` of subqueries that each have a `limit` is a plain Append
/// (PostgreSQL gives no partial paths to such subqueries, so no Parallel
/// Append): it reads its parts in order and stops when the page is full.
/// The window's part ANDs the full-text index's matches with the window's
/// range of the `(user_id, id)` index, so it reads from the table only the
/// matches in the window: a word common in titles costs a window, not
/// every match (12 → 2 ms, docs/benchmarks.md).
pub(super) fn pg_ranked<DB>(
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
    let words = Words {
        title: search.tsquery(scope, true),
        all: search.tsquery(scope, false),
    };
    // (tier, the id it starts below): after a cursor in the title tier,
    // the rest starts from the newest task again.
    let tiers: &[(i32, Option<i64>)] = match ranked_cursor(request) {
        None => &[(1, None), (0, None)],
        Some((1, id)) => &[(1, Some(id)), (0, None)],
        Some((_, id)) => &[(0, Some(id))],
    };
    let window = (i64::from(limit) * PG_WINDOW_PER_TASK).max(PG_WINDOW_MIN);
    // Each tier's window as its oldest id, computed once and only when a
    // part of the tier runs.
    q.push("with ");
    for (i, &(tier, below)) in tiers.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push(format_args!(
            "window{tier} as materialized (select min(id) as oldest from \
             (select id from tasks where user_id = "
        ));
        q.push_bind(user.as_str().to_owned());
        if let Some(id) = below {
            q.push(" and id < ").push_bind(id);
        }
        q.push(" order by id desc limit ")
            .push_bind(window)
            .push(") as newest)");
    }
    q.push(" select * from (");
    for (i, &(tier, below)) in tiers.iter().enumerate() {
        if i > 0 {
            q.push(" union all ");
        }
        let part = Part {
            user,
            request,
            words: &words,
            tier,
            below,
            limit,
        };
        pg_part(q, &part, false);
        q.push(" union all ");
        pg_part(q, &part, true);
    }
    q.push(") as ranked limit ").push_bind(i64::from(limit));
}

/// The `to_tsquery` texts of a search: every word, and every word in the
/// title (weight A).
struct Words {
    title: String,
    all: String,
}

/// One tier of a PostgreSQL ranked search, below an id or from the top.
struct Part<'a> {
    user: &'a UserId,
    request: &'a ListRequest,
    words: &'a Words,
    tier: i32,
    below: Option<i64>,
    limit: u32,
}

/// The tier's matches in its window (`older` false) or older than it,
/// newest first. For the older ones `user_id` and `id` are written so that
/// no b-tree index can serve them: the scoped words already pick this
/// user's rows, and ANDing a b-tree bitmap over all the user's tasks onto
/// a short match list cost more than it saved (4 of 5.7 ms, measured); nor
/// may the planner walk the primary key backwards past other users' tasks
/// for `order by id`.
fn pg_part<DB>(q: &mut QueryBuilder<DB>, part: &Part<'_>, older: bool)
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    bool: for<'t> Encode<'t, DB> + Type<DB>,
{
    let (user_id, id) = if older {
        ("user_id || ''", "id + 0")
    } else {
        ("user_id", "id")
    };
    q.push(format_args!(
        "(select {}, {} as relevance from tasks where {user_id} = ",
        task_columns!(),
        part.tier
    ));
    q.push_bind(part.user.as_str().to_owned());
    if older {
        q.push(format_args!(
            " and {id} < (select oldest from window{})",
            part.tier
        ));
    } else {
        if let Some(below) = part.below {
            q.push(" and id < ").push_bind(below);
        }
        q.push(format_args!(
            " and id >= (select oldest from window{})",
            part.tier
        ));
    }
    filters(q, part.user, part.request);
    // The tier: every word in the title (1), or every word but not all in
    // the title (0).
    if part.tier == 0 {
        pg_matches(q, part.words.all.clone(), true);
    }
    pg_matches(q, part.words.title.clone(), part.tier == 1);
    q.push(format_args!(" order by {id} desc limit "))
        .push_bind(i64::from(part.limit))
        .push(")");
}
