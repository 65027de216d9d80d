//! The full-text index follows every change. On SQLite it is updated in
//! batches (a queue filled by triggers, emptied in the background and
//! before each search), so these tests change rows in every order the
//! queue can see — added, renamed several times, deleted, through another
//! store on the same database — and compare each search with what the rows
//! say, then ask FTS5 to check the index against the table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use todo_domain::page::Limit;
use todo_domain::task::{
    self, ListRequest, NewTask, RawNewTask, RawPatch, SearchQuery, TaskFilter, TaskId, TaskPatch,
};
use todo_domain::{Store, UserId};
use todo_testkit::{Backend, TestDatabase, both_backends};

use crate::helpers::{every_page, open, user};

const WORDS: [&str; 6] = ["apple", "banana", "cherry", "damson", "elder", "fig"];

/// A search for `word`, ranked, `size` tasks a page.
fn searching(word: &str, size: i64) -> ListRequest {
    ListRequest {
        filter: TaskFilter {
            query: Some(SearchQuery::parse(word).expect("query")),
            ..TaskFilter::default()
        },
        sort: task::service::default_sort(true),
        limit: Limit::parse(size).expect("limit"),
        ..ListRequest::default()
    }
}

async fn search(store: &Store, user: &UserId, word: &str) -> Vec<i64> {
    let request = searching(word, 200);
    let page = task::list(store, user, &request).await.expect("search");
    let mut ids: Vec<i64> = page.tasks.into_iter().map(|t| t.id).collect();
    ids.sort_unstable();
    ids
}

/// The ids whose title or description has `word`, as the rows say.
fn expected(rows: &BTreeMap<i64, (String, String)>, word: &str) -> Vec<i64> {
    rows.iter()
        .filter(|(_, (title, body))| title.contains(word) || body.contains(word))
        .map(|(id, _)| *id)
        .collect()
}

async fn add(store: &Store, u: &UserId, title: &str, body: &str) -> i64 {
    let new = NewTask::parse(RawNewTask {
        title,
        description: Some(body),
        ..RawNewTask::default()
    })
    .expect("new task");
    task::add(store, u, new).await.expect("add").id
}

async fn rename(store: &Store, u: &UserId, id: i64, title: &str) {
    let patch = TaskPatch::parse(RawPatch {
        title: Some(title),
        ..RawPatch::default()
    })
    .expect("patch");
    task::update(store, u, TaskId::parse(id).expect("id"), patch)
        .await
        .expect("rename");
}

/// Every page of a ranked search, 7 at a time: the ids in order.
async fn ranked_pages(store: &Store, user: &UserId, word: &str) -> Vec<i64> {
    every_page(store, user, searching(word, 7), 100)
        .await
        .into_iter()
        .map(|t| t.id)
        .collect()
}

/// The ids whose title has `word` (newest first), then those whose
/// description alone has it (newest first).
fn ranked(rows: &BTreeMap<i64, (String, String)>, word: &str) -> Vec<i64> {
    let newest_first = |title: bool| {
        rows.iter()
            .rev()
            .filter(move |(_, (t, b))| {
                if title {
                    t.contains(word)
                } else {
                    !t.contains(word) && b.contains(word)
                }
            })
            .map(|(id, _)| *id)
    };
    newest_first(true).chain(newest_first(false)).collect()
}

/// FTS5's own check of the index against the table (SQLite).
async fn index_agrees_with_table(db: &TestDatabase) {
    let pool = sqlx::SqlitePool::connect(db.url()).await.expect("sqlite");
    sqlx::query("insert into tasks_fts (tasks_fts, rank) values ('integrity-check', 1)")
        .execute(&pool)
        .await
        .expect("the full-text index matches the tasks table");
    pool.close().await;
}

async fn search_follows_every_change(backend: Backend) {
    let (db, store) = open(backend).await;
    // A second store on the same database: another process, for SQLite.
    let other = db.store().await;
    let u = user("indexer");
    let mut rows: BTreeMap<i64, (String, String)> = BTreeMap::new();
    let mut seed: u64 = 7;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) as usize % n
    };
    for step in 0..300 {
        let writer = if step % 3 == 0 { &other } else { &store };
        let ids: Vec<i64> = rows.keys().copied().collect();
        match next(5) {
            0 | 1 if !ids.is_empty() => {
                let id = ids[next(ids.len())];
                let title = format!("{} {step}", WORDS[next(WORDS.len())]);
                rename(writer, &u, id, &title).await;
                if let Some(row) = rows.get_mut(&id) {
                    row.0 = title;
                }
            }
            2 if !ids.is_empty() => {
                let id = ids[next(ids.len())];
                task::delete(writer, &u, TaskId::parse(id).expect("id"))
                    .await
                    .expect("delete");
                rows.remove(&id);
            }
            _ => {
                let title = format!("{} {step}", WORDS[next(WORDS.len())]);
                let body = format!("about {}", WORDS[next(WORDS.len())]);
                let id = add(writer, &u, &title, &body).await;
                rows.insert(id, (title, body));
            }
        }
        if step % 7 == 0 {
            let word = WORDS[next(WORDS.len())];
            assert_eq!(
                search(&store, &u, word).await,
                expected(&rows, word),
                "{word} after step {step}"
            );
        }
    }
    for word in WORDS {
        assert_eq!(
            search(&other, &u, word).await,
            expected(&rows, word),
            "{word}"
        );
        assert_eq!(
            ranked_pages(&store, &u, word).await,
            ranked(&rows, word),
            "{word}"
        );
    }
    if backend == Backend::Sqlite {
        index_agrees_with_table(&db).await;
    }
    other.close().await;
    store.close().await;
}

both_backends!(search_follows_every_change);

/// Without any search, the background indexer empties the queue soon after
/// writes (SQLite).
#[tokio::test]
async fn the_queue_empties_in_the_background() {
    let (db, store) = open(Backend::Sqlite).await;
    let u = user("background");
    for i in 0..50 {
        add(&store, &u, &format!("apple {i}"), "").await;
    }
    let pool = sqlx::SqlitePool::connect(db.url()).await.expect("sqlite");
    let started = Instant::now();
    loop {
        let queued: i64 = sqlx::query_scalar("select count(*) from tasks_fts_pending")
            .fetch_one(&pool)
            .await
            .expect("count");
        if queued == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{queued} rows still queued"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pool.close().await;
    // The queue was empty, so the search finds what the background indexed.
    assert_eq!(search(&store, &u, "apple").await.len(), 50);
    index_agrees_with_table(&db).await;
    store.close().await;
}

/// `sqlite::memory:` is one database for the writer and the readers, and
/// lives as long as the store.
#[tokio::test]
async fn an_in_memory_database_is_one_database() {
    let store = Store::open(&todo_domain::StoreOptions::new("sqlite::memory:"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let u = user("memory");
    let id = add(&store, &u, "apple in memory", "").await;
    assert_eq!(search(&store, &u, "apple").await, [id]);
    let page = task::list(&store, &u, &ListRequest::default())
        .await
        .expect("list");
    assert_eq!(page.tasks.len(), 1);
    store.close().await;
}
