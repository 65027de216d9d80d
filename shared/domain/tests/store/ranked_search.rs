//! A ranked search over more tasks than PostgreSQL's search reads one by
//! one (its window of the user's 2,000 newest): title matches first, then
//! the rest, newest first within each, page after page, with words common
//! and rare in titles and bodies, with a filter, and with another user's
//! matching tasks in between; the same answer on both databases.

use todo_domain::page::Limit;
use todo_domain::task::{
    self, ListRequest, NewTask, Priority, RawNewTask, SearchQuery, Sort, TaskFilter,
};
use todo_domain::{Store, UserId};
use todo_testkit::{Backend, both_backends};

use crate::helpers::{every_page, open, user};

/// The user's tasks: more than the window, so that searches cross it.
const TASKS: usize = 2_600;

/// Task `i`'s title and description: "beta" in one title in 3, "alpha" in
/// one title in 97 and one description in 5, "gamma" in one description in
/// 7 and no title, "delta" in one title in 400 and one description in 11.
fn text(i: usize) -> (String, String) {
    let mut title = vec![format!("task{i}")];
    let mut body = vec!["notes".to_owned()];
    let words = [
        ("beta", i.is_multiple_of(3), false),
        ("alpha", i.is_multiple_of(97), i.is_multiple_of(5)),
        ("gamma", false, i.is_multiple_of(7)),
        ("delta", i.is_multiple_of(400), i.is_multiple_of(11)),
    ];
    for (word, in_title, in_body) in words {
        if in_title {
            title.push(word.to_owned());
        }
        if in_body {
            body.push(word.to_owned());
        }
    }
    (title.join(" "), body.join(" "))
}

/// Adds the tasks, 50 at a time; one in 10 of them goes to `other`, with
/// the same words, so that the user's ids are not contiguous. Returns the
/// user's (id, title, description, priority is high).
async fn seed(store: &Store, u: &UserId, other: &UserId) -> Vec<(i64, String, String, bool)> {
    let mut seeded = Vec::new();
    let all: Vec<usize> = (0..TASKS + TASKS / 9).collect();
    for chunk in all.chunks(50) {
        let owner = if chunk[0] % 500 == 450 { other } else { u };
        let texts: Vec<(String, String)> = chunk.iter().map(|i| text(*i)).collect();
        let tasks = texts
            .iter()
            .zip(chunk)
            .map(|((title, body), i)| {
                NewTask::parse(RawNewTask {
                    title,
                    description: Some(body),
                    priority: Some(if i % 2 == 0 { "high" } else { "low" }),
                    ..RawNewTask::default()
                })
                .expect("new task")
            })
            .collect();
        let added = task::add_many(store, owner, tasks).await.expect("add");
        if owner == u {
            for (task, i) in added.into_iter().zip(chunk) {
                let (title, body) = text(*i);
                seeded.push((task.id, title, body, i % 2 == 0));
            }
        }
    }
    seeded
}

/// What a ranked search for `words` must list: tasks with every word (or
/// a word's start) in
/// the title or the description, those with every word in the title
/// first, newest first within each.
fn expected(tasks: &[(i64, String, String, bool)], words: &[&str], high_only: bool) -> Vec<i64> {
    // A searched word matches a word or the start of one.
    let has = |text: &str, word: &str| text.split(' ').any(|w| w.starts_with(word));
    let mut matches: Vec<(bool, i64)> = tasks
        .iter()
        .filter(|(_, title, body, high)| {
            (!high_only || *high) && words.iter().all(|w| has(title, w) || has(body, w))
        })
        .map(|(id, title, _, _)| (words.iter().all(|w| has(title, w)), *id))
        .collect();
    matches.sort_unstable_by(|a, b| b.cmp(a));
    matches.into_iter().map(|(_, id)| id).collect()
}

fn searching(query: &str, size: i64, high_only: bool) -> ListRequest {
    ListRequest {
        filter: TaskFilter {
            query: Some(SearchQuery::parse(query).expect("query")),
            min_priority: high_only.then_some(Priority::High),
            ..TaskFilter::default()
        },
        sort: Sort::Relevance,
        limit: Limit::parse(size).expect("limit"),
        ..ListRequest::default()
    }
}

async fn ranked_search_reads_past_the_window_in_order(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (u, other) = (user("ranker"), user("neighbour"));
    let tasks = seed(&store, &u, &other).await;
    assert!(tasks.len() > 2_000, "more tasks than the window");
    let cases: [(&str, i64, bool); 7] = [
        ("beta", 100, false),
        ("alpha", 37, false),
        ("gamma", 100, false),
        ("delta", 9, false),
        ("alpha delta", 3, false),
        ("alpha", 25, true),
        ("task25", 4, false),
    ];
    for (query, size, high_only) in cases {
        let words: Vec<&str> = query.split(' ').collect();
        let want = expected(&tasks, &words, high_only);
        assert!(!want.is_empty(), "{query} matches something");
        let got: Vec<i64> = every_page(&store, &u, searching(query, size, high_only), 200)
            .await
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(got.len(), want.len(), "{query}: how many ({backend:?})");
        assert_eq!(got, want, "{query}: the order ({backend:?})");
    }
    store.close().await;
}

both_backends!(ranked_search_reads_past_the_window_in_order);
