//! The set-up every area shares: a fresh database with its store, and users.

use todo_domain::task::{self, ListRequest, Task};
use todo_domain::{Store, UserId};
use todo_testkit::{Backend, TestDatabase};

/// A fresh, migrated database on `backend` and a store open on it (keep the
/// database alive as long as the store).
pub async fn open(backend: Backend) -> (TestDatabase, Store) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    (db, store)
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

/// Run `body` with a plain sqlx pool on `db` of `backend`'s kind, for SQL
/// the store does not offer (what an older or newer release would write);
/// the pool is closed after, and the body's value dropped (it differs by
/// backend).
macro_rules! with_raw_pool {
    ($db:expr, $backend:expr, |$pool:ident| $body:expr) => {
        match $backend {
            todo_testkit::Backend::Sqlite => {
                let $pool = sqlx::SqlitePool::connect($db.url()).await.expect("sqlite");
                let _ = $body;
                $pool.close().await;
            }
            todo_testkit::Backend::Postgres => {
                let $pool = sqlx::PgPool::connect($db.url()).await.expect("postgres");
                let _ = $body;
                $pool.close().await;
            }
        }
    };
}

/// Every task `request` lists for `user`, page after page through the
/// cursors (at most `max_pages`, else the paging does not end).
pub async fn every_page(
    store: &Store,
    user: &UserId,
    mut request: ListRequest,
    max_pages: usize,
) -> Vec<Task> {
    let mut tasks = Vec::new();
    for _ in 0..max_pages {
        let page = task::list(store, user, &request).await.expect("list");
        tasks.extend(page.tasks);
        match page.next_cursor {
            Some(cursor) => {
                request.cursor =
                    Some(task::Cursor::parse(&cursor.encode(), request.sort).expect("cursor"));
            }
            None => return tasks,
        }
    }
    panic!("more than {max_pages} pages");
}
