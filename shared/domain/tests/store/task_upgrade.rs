//! Tasks written before the task model (or by an older release during a
//! rolling upgrade) have no search text: they are left out of the full-text
//! index until the next start folds their text, and deleting or changing
//! one before then must not break the index.

use todo_domain::task::{self, ListRequest, SearchQuery, TaskFilter, TaskId};
use todo_domain::{Store, UserId};
use todo_testkit::{Backend, TestDatabase, both_backends};

use crate::helpers::{open, user};

/// Insert a task the way a release before the task model did.
async fn insert_as_an_older_release(
    db: &TestDatabase,
    backend: Backend,
    user: &UserId,
    title: &str,
) {
    let sql = "insert into tasks (user_id, title, description, completed, created_at, updated_at) \
               values ($1, $2, null, false, $3, $3)";
    let now = chrono::Utc::now();
    with_raw_pool!(db, backend, |pool| sqlx::query(sql)
        .bind(user.as_str())
        .bind(title)
        .bind(now)
        .execute(&pool)
        .await
        .expect("insert"));
}

async fn found(store: &Store, user: &UserId, words: &str) -> Vec<String> {
    let request = ListRequest {
        filter: TaskFilter {
            query: Some(SearchQuery::parse(words).expect("query")),
            ..TaskFilter::default()
        },
        sort: task::service::default_sort(true),
        ..ListRequest::default()
    };
    let page = task::list(store, user, &request).await.expect("search");
    page.tasks.into_iter().map(|t| t.title).collect()
}

async fn older_rows_are_folded_at_start_and_never_break_the_index(backend: Backend) {
    let (db, store) = open(backend).await;
    let u = user("upgrader");
    for title in ["Old milk run", "Old crème brûlée", "Old to delete"] {
        insert_as_an_older_release(&db, backend, &u, title).await;
    }
    assert!(
        found(&store, &u, "old").await.is_empty(),
        "not searchable before folding"
    );
    // Deleting a row the index never held, and changing one, work.
    let all = task::list(&store, &u, &ListRequest::default())
        .await
        .expect("list")
        .tasks;
    let doomed = all
        .iter()
        .find(|t| t.title == "Old to delete")
        .expect("row");
    task::delete(&store, &u, TaskId::parse(doomed.id).expect("id"))
        .await
        .expect("delete");
    assert_eq!(store.backfill_search().await.expect("fold"), 2);
    assert_eq!(found(&store, &u, "CREME").await, ["Old crème brûlée"]);
    assert_eq!(found(&store, &u, "old").await.len(), 2);
    let milk = all.iter().find(|t| t.title == "Old milk run").expect("row");
    let patch = task::TaskPatch::parse(task::RawPatch {
        title: Some("New milk run"),
        ..Default::default()
    })
    .expect("patch");
    task::update(&store, &u, TaskId::parse(milk.id).expect("id"), patch)
        .await
        .expect("update");
    assert_eq!(found(&store, &u, "new milk").await, ["New milk run"]);
    assert_eq!(found(&store, &u, "old").await, ["Old crème brûlée"]);
    assert_eq!(
        store.backfill_search().await.expect("fold"),
        0,
        "nothing left to fold"
    );
    store.close().await;
}

both_backends!(older_rows_are_folded_at_start_and_never_break_the_index);
