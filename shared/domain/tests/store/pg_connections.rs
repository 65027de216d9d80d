//! PostgreSQL connections are kept between statements, outside sqlx's pool
//! (which tests each one it gets back with a round trip). These tests hold
//! the promises that makes: a call cancelled or failed mid-statement does
//! not leave its connection to the next call; a connection the server
//! killed is replaced; the pool's size still bounds the connections, and a
//! call waiting for one gets it when another call ends.

use std::time::Duration;

use todo_domain::store::StoreOptions;
use todo_domain::task::{self, NewTask, RawNewTask, RawPatch, TaskId, TaskPatch};
use todo_domain::{Store, UserId};
use todo_testkit::{Backend, TestDatabase};

use crate::helpers::user;

async fn small_store(db: &TestDatabase, connections: u32) -> Store {
    let options = StoreOptions {
        max_connections: connections,
        acquire_timeout: Duration::from_secs(5),
        ..StoreOptions::new(db.url())
    };
    let store = Store::open(&options).await.expect("open");
    store.migrate().await.expect("migrate");
    store
}

async fn add(store: &Store, u: &UserId, title: &str) -> i64 {
    let new = NewTask::parse(RawNewTask {
        title,
        ..RawNewTask::default()
    })
    .expect("new task");
    task::add(store, u, new).await.expect("add").id
}

fn rename(title: &str) -> TaskPatch {
    TaskPatch::parse(RawPatch {
        title: Some(title),
        ..RawPatch::default()
    })
    .expect("patch")
}

/// The store's backends on this database, other than `own`.
async fn store_backends(raw: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity \
         where datname = current_database() and pid <> pg_backend_pid() \
         and application_name = 'todo-mcp'",
    )
    .fetch_one(raw)
    .await
    .expect("count backends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_leaves_nothing_to_the_next() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let store = small_store(&db, 1).await;
    let u = user("canceller");
    let id = add(&store, &u, "Locked").await;
    let raw = sqlx::PgPool::connect(db.url()).await.expect("raw");
    // Another session holds the row, so the rename waits in PostgreSQL.
    let mut holder = raw.begin().await.expect("begin");
    sqlx::query("select id from tasks where id = $1 for update")
        .bind(id)
        .execute(&mut *holder)
        .await
        .expect("lock");
    let waiting = {
        let (store, u) = (store.clone(), u.clone());
        tokio::spawn(async move {
            task::update(
                &store,
                &u,
                TaskId::parse(id).expect("id"),
                rename("Renamed"),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    waiting.abort();
    let _ = waiting.await;
    holder.rollback().await.expect("unlock");
    // The one connection the store may open answers the next calls
    // correctly: no reply of the cancelled statement is taken for theirs.
    for n in 0..20 {
        let title = format!("After {n}");
        let added = add(&store, &u, &title).await;
        let got = task::get(&store, &u, TaskId::parse(added).expect("id"))
            .await
            .expect("get");
        assert_eq!(got.title, title);
    }
    assert!(store_backends(&raw).await <= 1, "one connection at most");
    store.close().await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transaction_is_rolled_back_before_the_connection_is_reused() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let store = small_store(&db, 1).await;
    let u = user("failer");
    let first = add(&store, &u, "First").await;
    // The first id is renamed inside the transaction, then the missing one
    // fails it.
    let ids = task::TaskIds::parse(&[first, first + 1000]).expect("ids");
    let failed = task::update_many(&store, &u, &ids, &rename("Half")).await;
    assert!(failed.is_err(), "a missing id fails the change");
    let got = task::get(&store, &u, TaskId::parse(first).expect("id"))
        .await
        .expect("get");
    assert_eq!(got.title, "First", "nothing of the failed change stays");
    add(&store, &u, "Second").await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_killed_is_replaced() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let store = small_store(&db, 2).await;
    let u = user("survivor");
    add(&store, &u, "Before").await;
    let raw = sqlx::PgPool::connect(db.url()).await.expect("raw");
    let killed: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = current_database() and application_name = 'todo-mcp'",
    )
    .fetch_all(&raw)
    .await
    .expect("terminate");
    assert!(!killed.is_empty(), "the store had a connection");
    // A killed connection fails the one call it is handed to, then is
    // dropped; within a few calls every connection is new.
    let mut failures = 0;
    for n in 0..30 {
        let new = NewTask::parse(RawNewTask {
            title: &format!("After {n}"),
            ..RawNewTask::default()
        })
        .expect("new task");
        if task::add(&store, &u, new).await.is_err() {
            failures += 1;
        }
    }
    assert!(
        failures <= 2,
        "{failures} calls failed: more than the killed connections"
    );
    let page = task::list(&store, &u, &task::ListRequest::default())
        .await
        .expect("list");
    assert_eq!(page.tasks.len(), 31 - failures);
    store.close().await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_size_still_bounds_connections_and_waiters_get_one() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let store = small_store(&db, 2).await;
    let u = user("crowd");
    let calls: Vec<_> = (0..64)
        .map(|n| {
            let (store, u) = (store.clone(), u.clone());
            tokio::spawn(async move {
                let id = add(&store, &u, &format!("Task {n}")).await;
                task::update(&store, &u, TaskId::parse(id).expect("id"), rename("Done"))
                    .await
                    .map(|t| t.title)
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("join").expect("update"), "Done");
    }
    let raw = sqlx::PgPool::connect(db.url()).await.expect("raw");
    assert!(store_backends(&raw).await <= 2, "at most the pool's size");
    store.close().await;
    raw.close().await;
}
