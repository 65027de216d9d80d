//! Listing: every filter and sort, with pagination across pages, search,
//! and the time-zone rule, on both databases.

use chrono::{DateTime, Utc};
use todo_domain::page::Limit;
use todo_domain::task::{
    self, Due, DueBound, ListRequest, NewTask, Priority, RawNewTask, SearchQuery, Sort,
    StatusFilter, Tag, TaskFilter, TaskId,
};
use todo_domain::{Store, UserId, Zone};
use todo_testkit::{Backend, both_backends};

use crate::helpers::{every_page, open, user};

/// (title, description, due, priority, tags)
type Seed = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static [&'static str],
);

const SEEDS: [Seed; 8] = [
    (
        "Pay rent",
        "",
        Some("2026-12-01"),
        "high",
        &["home", "money"],
    ),
    (
        "Crème brûlée for José",
        "dessert",
        Some("2026-12-24T19:00:00+01:00"),
        "low",
        &["party"],
    ),
    (
        "Call the plumber",
        "kitchen sink leaks",
        Some("2026-12-24"),
        "medium",
        &["home"],
    ),
    ("Buy milk", "", None, "none", &["shopping"]),
    (
        "Quarterly report",
        "for the crème team",
        Some("2027-01-15T09:00:00Z"),
        "high",
        &["work"],
    ),
    ("Book flights", "", Some("2026-12-10"), "medium", &[]),
    ("Renew passport", "", None, "low", &["admin"]),
    (
        "Water plants",
        "",
        Some("2026-12-24T23:30:00-08:00"),
        "none",
        &["home"],
    ),
];

async fn seed(store: &Store, user: &UserId) -> Vec<task::Task> {
    let mut added = Vec::new();
    for (title, description, due, priority, tags) in SEEDS {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        let new = NewTask::parse(RawNewTask {
            title,
            description: Some(description),
            due,
            priority: Some(priority),
            tags: Some(&tags),
            recurrence: None,
        })
        .expect("seed");
        added.push(task::add(store, user, new).await.expect("add"));
    }
    added
}

/// Every page of `request`, `size` at a time: the titles in order.
async fn all_pages(
    store: &Store,
    user: &UserId,
    mut request: ListRequest,
    size: i64,
) -> Vec<String> {
    request.limit = Limit::parse(size).expect("limit");
    every_page(store, user, request, 20)
        .await
        .into_iter()
        .map(|t| t.title)
        .collect()
}

fn filtered(filter: TaskFilter, sort: Sort) -> ListRequest {
    ListRequest {
        filter,
        sort,
        ..ListRequest::default()
    }
}

fn day(raw: &str) -> Due {
    Due::parse("due", raw).expect("due")
}

async fn every_sort_pages_through_in_order(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("lister");
    seed(&store, &u).await;
    seed(&store, &user("someone-else")).await;
    let by = |sort| filtered(TaskFilter::default(), sort);
    let created: Vec<&str> = SEEDS.iter().rev().map(|s| s.0).collect();
    assert_eq!(all_pages(&store, &u, by(Sort::Created), 3).await, created);
    assert_eq!(
        all_pages(&store, &u, by(Sort::Due), 3).await,
        [
            "Pay rent",
            "Book flights",
            "Call the plumber",
            "Crème brûlée for José",
            "Water plants",
            "Quarterly report",
            "Buy milk",
            "Renew passport"
        ],
        "soonest first (a day before the instants of its UTC date), no due date last"
    );
    assert_eq!(
        all_pages(&store, &u, by(Sort::Priority), 2).await,
        [
            "Quarterly report",
            "Pay rent",
            "Book flights",
            "Call the plumber",
            "Renew passport",
            "Crème brûlée for José",
            "Water plants",
            "Buy milk"
        ]
    );
    // Touch one task: it comes first by update.
    let milk = task::list(&store, &u, &by(Sort::Created))
        .await
        .expect("list")
        .tasks[4]
        .clone();
    assert_eq!(milk.title, "Buy milk");
    let patch = task::TaskPatch::parse(task::RawPatch {
        priority: Some("low"),
        ..Default::default()
    })
    .expect("patch");
    task::update(&store, &u, TaskId::parse(milk.id).expect("id"), patch)
        .await
        .expect("update");
    let updated = all_pages(&store, &u, by(Sort::Updated), 3).await;
    assert_eq!(updated.first().map(String::as_str), Some("Buy milk"));
    assert_eq!(updated.len(), 8);
    store.close().await;
}

async fn every_filter_narrows(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("filterer");
    seed(&store, &u).await;
    let paris = Zone::parse("Europe/Paris").expect("zone");
    let titles = |filter: TaskFilter| {
        let store = store.clone();
        let u = u.clone();
        async move { all_pages(&store, &u, filtered(filter, Sort::Due), 2).await }
    };
    let before_christmas_eve = TaskFilter {
        due_before: Some(DueBound::before(day("2026-12-24"), paris)),
        ..TaskFilter::default()
    };
    // 23:30 in Los Angeles on the 24th is the 25th in Paris: not included.
    assert_eq!(
        titles(before_christmas_eve).await,
        [
            "Pay rent",
            "Book flights",
            "Call the plumber",
            "Crème brûlée for José"
        ]
    );
    let after = TaskFilter {
        due_after: Some(DueBound::after(day("2026-12-24"), paris)),
        due_before: Some(DueBound::before(day("2026-12-31"), paris)),
        ..TaskFilter::default()
    };
    assert_eq!(
        titles(after).await,
        ["Call the plumber", "Crème brûlée for José", "Water plants"]
    );
    let at_least_medium = TaskFilter {
        min_priority: Some(Priority::Medium),
        ..TaskFilter::default()
    };
    assert_eq!(
        titles(at_least_medium).await,
        [
            "Pay rent",
            "Book flights",
            "Call the plumber",
            "Quarterly report"
        ]
    );
    let tags = |names: &[&str]| {
        names
            .iter()
            .map(|n| Tag::parse("tags", n).expect("tag"))
            .collect()
    };
    let home_or_work = TaskFilter {
        tags: tags(&["HOME", "work"]),
        ..TaskFilter::default()
    };
    assert_eq!(
        titles(home_or_work).await,
        [
            "Pay rent",
            "Call the plumber",
            "Water plants",
            "Quarterly report"
        ]
    );
    let home_and_high = TaskFilter {
        tags: tags(&["home"]),
        min_priority: Some(Priority::High),
        status: StatusFilter::Pending,
        ..TaskFilter::default()
    };
    assert_eq!(titles(home_and_high).await, ["Pay rent"]);
    store.close().await;
}

async fn search_ignores_case_and_accents_and_ranks_titles_first(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("searcher");
    seed(&store, &u).await;
    seed(&store, &user("other")).await;
    let search = |raw: &str| {
        let filter = TaskFilter {
            query: Some(SearchQuery::parse(raw).expect("query")),
            ..TaskFilter::default()
        };
        let (store, u) = (store.clone(), u.clone());
        async move { all_pages(&store, &u, filtered(filter, Sort::Relevance), 1).await }
    };
    assert_eq!(
        search("CREME").await,
        ["Crème brûlée for José", "Quarterly report"]
    );
    assert_eq!(search("brûlée jose").await, ["Crème brûlée for José"]);
    assert_eq!(
        search("bru").await,
        ["Crème brûlée for José"],
        "a word's beginning matches"
    );
    assert_eq!(search("sink leaks").await, ["Call the plumber"]);
    assert_eq!(
        search("milk passport").await,
        Vec::<String>::new(),
        "every word must match"
    );
    store.close().await;
}

async fn overdue_is_read_in_the_callers_zone(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("traveller");
    seed(&store, &u).await;
    // 2026-12-24 20:00 UTC: already the 25th in Auckland, still the 24th in
    // Los Angeles. The same tasks, the same instant, two answers.
    let at: DateTime<Utc> = "2026-12-24T20:00:00Z".parse().expect("instant");
    let overdue = |zone: &str| {
        let filter = TaskFilter {
            overdue: Some(DueBound::overdue(at, Zone::parse(zone).expect("zone"))),
            ..TaskFilter::default()
        };
        let (store, u) = (store.clone(), u.clone());
        async move { all_pages(&store, &u, filtered(filter, Sort::Due), 5).await }
    };
    assert_eq!(
        overdue("Pacific/Auckland").await,
        [
            "Pay rent",
            "Book flights",
            "Call the plumber",
            "Crème brûlée for José"
        ]
    );
    assert_eq!(
        overdue("America/Los_Angeles").await,
        ["Pay rent", "Book flights", "Crème brûlée for José"]
    );
    store.close().await;
}

both_backends!(
    every_sort_pages_through_in_order,
    every_filter_narrows,
    search_ignores_case_and_accents_and_ranks_titles_first,
    overdue_is_read_in_the_callers_zone,
);
