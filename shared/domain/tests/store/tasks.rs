//! Tasks: the store and the task service.

use todo_domain::page::Limit;
use todo_domain::task::{
    self, Cursor, Description, ListRequest, NewTask, Sort, StatusFilter, TaskFilter, TaskId,
    TaskPage, TaskPatch, Title,
};
use todo_domain::{Error, Store, StoreOptions};
use todo_domain::{UserId, Zone};
use todo_testkit::both_backends;
use todo_testkit::{Backend, TestDatabase};

use crate::helpers::{open, user};

fn title(text: &str) -> Title {
    Title::parse(text).expect("title")
}

async fn add(
    store: &Store,
    user: &UserId,
    title: Title,
    description: Description,
) -> Result<task::Task, Error> {
    task::add(store, user, NewTask::plain(title, description)).await
}

async fn list(
    store: &Store,
    user: &UserId,
    status: StatusFilter,
    limit: Limit,
    cursor: Option<Cursor>,
) -> Result<TaskPage, Error> {
    let request = ListRequest {
        filter: TaskFilter {
            status,
            ..TaskFilter::default()
        },
        limit,
        cursor,
        ..ListRequest::default()
    };
    task::list(store, user, &request).await
}

async fn written_text_reads_back_byte_for_byte(backend: Backend) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let raw_title = "Ünïcødé 🦀 <script>alert('x')</script> & \"quotes\" 'single' \\ back";
    let raw_description = "line 1\nline 2\ttabbed\r\n  leading spaces kept  ";
    let added = add(
        &store,
        &alice,
        title(raw_title),
        Description::parse(raw_description).expect("d"),
    )
    .await
    .expect("add");
    let read = task::get(&store, &alice, TaskId::parse(added.id).expect("id"))
        .await
        .expect("get");
    assert_eq!(
        read, added,
        "what a write returns equals what a read returns"
    );
    assert_eq!(read.title, raw_title);
    assert_eq!(read.description.as_deref(), Some(raw_description));
    assert_eq!(read.created_at, read.updated_at);
    store.close().await;
}

async fn every_operation_is_scoped_to_its_user(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (alice, bob) = (user("alice"), user("bob"));
    let hers = add(&store, &alice, title("hers"), Description::none())
        .await
        .expect("add");
    let id = TaskId::parse(hers.id).expect("id");
    let not_found = |r: Result<_, Error>| matches!(r, Err(Error::NotFound { what: "Task", id }) if id == hers.id);
    assert!(not_found(task::get(&store, &bob, id).await.map(|_| ())));
    assert!(not_found(
        task::complete(&store, &bob, id, Zone::UTC)
            .await
            .map(|_| ())
    ));
    assert!(not_found(task::delete(&store, &bob, id).await.map(|_| ())));
    let patch = TaskPatch::new(Some(title("stolen")), None).expect("patch");
    assert!(not_found(
        task::update(&store, &bob, id, patch).await.map(|_| ())
    ));
    let page = list(&store, &bob, StatusFilter::All, Limit::default(), None)
        .await
        .expect("list");
    assert!(page.tasks.is_empty());
    assert_eq!(
        task::get(&store, &alice, id).await.expect("still there"),
        hers
    );
    store.close().await;
}

async fn complete_is_idempotent_and_keeps_its_first_timestamp(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("u");
    let added = add(&store, &u, title("t"), Description::none())
        .await
        .expect("add");
    let id = TaskId::parse(added.id).expect("id");
    let first = task::complete(&store, &u, id, Zone::UTC)
        .await
        .expect("complete");
    assert!(!first.was_already_completed && first.task.completed);
    assert!(first.task.updated_at >= added.updated_at);
    let second = task::complete(&store, &u, id, Zone::UTC)
        .await
        .expect("complete again");
    assert!(second.was_already_completed);
    assert_eq!(second.task, first.task);
    store.close().await;
}

async fn update_changes_only_what_it_is_given(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("u");
    let added = add(
        &store,
        &u,
        title("old"),
        Description::parse("notes").expect("d"),
    )
    .await
    .expect("add");
    let id = TaskId::parse(added.id).expect("id");
    let renamed = task::update(
        &store,
        &u,
        id,
        TaskPatch::new(Some(title("new")), None).expect("p"),
    )
    .await
    .expect("update");
    assert_eq!(
        (renamed.title.as_str(), renamed.description.as_deref()),
        ("new", Some("notes"))
    );
    let cleared = task::update(
        &store,
        &u,
        id,
        TaskPatch::new(None, Some(Description::none())).expect("p"),
    )
    .await
    .expect("update");
    assert_eq!((cleared.title.as_str(), cleared.description), ("new", None));
    assert_eq!(cleared.created_at, added.created_at);
    store.close().await;
}

async fn ids_are_never_reused_after_a_delete(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("u");
    let first = add(&store, &u, title("a"), Description::none())
        .await
        .expect("add");
    task::delete(&store, &u, TaskId::parse(first.id).expect("id"))
        .await
        .expect("delete");
    let second = add(&store, &u, title("b"), Description::none())
        .await
        .expect("add");
    assert!(
        second.id > first.id,
        "{} reused after {}",
        second.id,
        first.id
    );
    store.close().await;
}

async fn keyset_pages_neither_skip_nor_repeat_when_tasks_change(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("pager");
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(
            add(&store, &u, title(&format!("t{n}")), Description::none())
                .await
                .expect("add")
                .id,
        );
    }
    let limit = Limit::parse(4).expect("limit");
    let first = list(&store, &u, StatusFilter::All, limit, None)
        .await
        .expect("page 1");
    let cursor = first.next_cursor.expect("more pages");
    // Between pages: a new task arrives and one on the next page is deleted.
    add(&store, &u, title("newcomer"), Description::none())
        .await
        .expect("add");
    task::delete(&store, &u, TaskId::parse(ids[4]).expect("id"))
        .await
        .expect("delete");
    let second = list(
        &store,
        &u,
        StatusFilter::All,
        limit,
        Some(Cursor::parse(&cursor.encode(), Sort::Created).expect("c")),
    )
    .await
    .expect("page 2");
    let got: Vec<i64> = first
        .tasks
        .iter()
        .chain(&second.tasks)
        .map(|t| t.id)
        .collect();
    assert_eq!(
        got,
        vec![
            ids[9], ids[8], ids[7], ids[6], ids[5], ids[3], ids[2], ids[1]
        ]
    );
    store.close().await;
}

async fn concurrent_writers_all_land(backend: Backend) {
    let (_db, store) = open(backend).await;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let store = store.clone();
        writers.spawn(async move {
            let u = user(&format!("w{}", w % 2));
            for n in 0..25 {
                let t = add(&store, &u, title(&format!("{w}-{n}")), Description::none())
                    .await
                    .expect("add");
                let id = TaskId::parse(t.id).expect("id");
                task::complete(&store, &u, id, Zone::UTC)
                    .await
                    .expect("complete");
                task::update(
                    &store,
                    &u,
                    id,
                    TaskPatch::new(Some(title("done")), None).expect("p"),
                )
                .await
                .expect("update");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    assert_eq!(store.count_tasks(&user("w0")).await.expect("count"), 100);
    assert_eq!(store.count_tasks(&user("w1")).await.expect("count"), 100);
    let pending = list(
        &store,
        &user("w0"),
        StatusFilter::Pending,
        Limit::default(),
        None,
    )
    .await
    .expect("list");
    assert!(pending.tasks.is_empty());
    store.close().await;
}

both_backends!(
    written_text_reads_back_byte_for_byte,
    every_operation_is_scoped_to_its_user,
    complete_is_idempotent_and_keeps_its_first_timestamp,
    update_changes_only_what_it_is_given,
    ids_are_never_reused_after_a_delete,
    keyset_pages_neither_skip_nor_repeat_when_tasks_change,
    concurrent_writers_all_land,
);

#[tokio::test]
async fn two_processes_worth_of_pools_share_one_sqlite_file_without_locking_errors() {
    // Two stores on one file stand for two stdio servers of the same user:
    // their writers meet at SQLite's lock, where the busy timeout applies.
    let db = TestDatabase::sqlite();
    let a = Store::open(&StoreOptions::new(db.url()))
        .await
        .expect("open a");
    a.migrate().await.expect("migrate");
    let b = Store::open(&StoreOptions::new(db.url()))
        .await
        .expect("open b");
    let mut writers = tokio::task::JoinSet::new();
    for (n, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        writers.spawn(async move {
            for i in 0..50 {
                add(
                    &store,
                    &user("shared"),
                    title(&format!("{n}-{i}")),
                    Description::none(),
                )
                .await
                .expect("no database is locked");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    assert_eq!(a.count_tasks(&user("shared")).await.expect("count"), 200);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_on_a_new_sqlite_file_both_migrate() {
    // The task server and the gateway, started at once on one fresh file.
    for _ in 0..5 {
        let db = TestDatabase::sqlite();
        let open = || async {
            let store = Store::open(&StoreOptions::new(db.url()))
                .await
                .expect("open");
            store.migrate().await.expect("migrate despite the race");
            store
        };
        let stores: Vec<Store> = futures_join(open(), open(), open()).await;
        for store in stores {
            store.close().await;
        }
    }
}

async fn futures_join<F: std::future::Future<Output = Store>>(a: F, b: F, c: F) -> Vec<Store> {
    let (a, b, c) = tokio::join!(a, b, c);
    vec![a, b, c]
}

#[tokio::test]
async fn an_unknown_scheme_is_refused() {
    let error = Store::open(&StoreOptions::new("mysql://root@localhost/x"))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("DATABASE_URL must start with sqlite: or postgres:, got \"mysql://root@localhost/x\"")
    );
}

/// A rolling upgrade (or a rollback) runs an older binary against a
/// database a newer one has migrated further: it must start.
async fn an_older_release_starts_on_a_database_migrated_further(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    store.close().await;
    let insert = "insert into _sqlx_migrations \
        (version, description, success, checksum, execution_time) \
        values (99991231000000, 'from a newer release', true, $1, 0)";
    let checksum = vec![0u8; 48];
    with_raw_pool!(db, backend, |pool| sqlx::query(insert)
        .bind(checksum)
        .execute(&pool)
        .await
        .expect("insert"));
    let store = Store::open(&StoreOptions::new(db.url()))
        .await
        .expect("open");
    store
        .migrate()
        .await
        .expect("an unknown, newer migration does not stop an older binary");
    store.close().await;
}

both_backends!(an_older_release_starts_on_a_database_migrated_further);
