//! Listing on a big database (a bench program, not a test).
//!
//! `cargo bench -p todo-mcp --bench search -- [--calls N] [--backends sqlite,postgres]
//!  [--tasks 1000000] [--plans]`
//!
//! For each backend: a fresh database with 1,000,000 tasks, 100,000 of them
//! one user's ("big"), the rest spread over 900 others; titles and
//! descriptions from a small vocabulary, due dates over two years (some
//! timed, a fifth none), a quarter completed. Then the real `todo-mcp http`
//! answers `list_tasks` for "big", one call at a time, with `query` (a rare
//! word, then a common one) + `due_before`, and with `overdue` +
//! `sort: "due"`: p50 and p99.
//! With `--plans` it prints each query's plan, from the store itself.

use std::time::Instant;

use serde_json::{Value, json};
use todo_domain::UserId;
use todo_domain::task::search::scope;
use todo_domain::task::{DueBound, ListRequest, SearchQuery, Sort, TaskFilter};
use todo_testkit::{Backend, TestDatabase};

mod common;
use common::{BenchResult, Conn, percentile, start_server};

const WORDS: [&str; 20] = [
    "milk", "rent", "report", "garden", "dentist", "car", "email", "plan", "book", "call",
    "invoice", "school", "paint", "tax", "flight", "gift", "doctor", "bank", "review", "meeting",
];

struct Options {
    calls: usize,
    tasks: u64,
    backends: Vec<Backend>,
    plans: bool,
}

fn options() -> Options {
    let mut options = Options {
        calls: 300,
        tasks: 1_000_000,
        backends: vec![Backend::Sqlite, Backend::Postgres],
        plans: false,
    };
    let args: Vec<String> = std::env::args().collect();
    for (i, arg) in args.iter().enumerate() {
        let value = args.get(i + 1);
        match (arg.as_str(), value) {
            ("--calls", Some(v)) => options.calls = v.parse().unwrap_or(300),
            ("--tasks", Some(v)) => options.tasks = v.parse().unwrap_or(1_000_000),
            ("--backends", Some(v)) => options.backends = Backend::parse_list(v),
            ("--plans", _) => options.plans = true,
            _ => {}
        }
    }
    options
}

/// The statements that make the table of users (n, id, search scope): 0 to
/// 899 the many, 900 "big". Ids and scopes are ours (letters and digits),
/// so they go in the text.
fn users_sql() -> [String; 2] {
    let rows: Vec<String> = (0..=900)
        .map(|n| {
            let id = if n == 900 {
                "big".to_owned()
            } else {
                format!("u{n}")
            };
            let scope = UserId::parse(&id).map(|u| scope(&u)).unwrap_or_default();
            format!("({n}, '{id}', '{scope}')")
        })
        .collect();
    [
        "create table bench_users (n integer primary key, user_id text, scope text)".to_owned(),
        format!("insert into bench_users values {}", rows.join(", ")),
    ]
}

/// The rows, made by the database itself (a million inserts through the
/// server would measure the insert path, not the listing).
async fn seed(db: &TestDatabase, backend: Backend, tasks: u64) -> BenchResult<()> {
    // Opening a store creates the database and applies the migrations.
    db.store().await.close().await;
    let words = WORDS.map(|w| format!("'{w}'")).join(",");
    let started = Instant::now();
    match backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(db.url()).await?;
            for sql in users_sql() {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
            }
            let sql = format!(
                "insert into tasks (user_id, title, description, completed, due, due_key, priority, \
                 tags, created_at, updated_at, search_title, search_body) \
                 select user_id, 'task ' || w1 || ' ' || w2, d, i % 4 = 0, due, due, i % 4, '', ts, ts, \
                   scope || 'task ' || scope || w1 || ' ' || scope || w2, \
                   case when d is null then '' else scope || 'notes ' || scope || w3 end from ( \
                   select i, case when i <= {big} then 900 else i % 900 end as n, \
                     (array[{words}])[1 + i % 20] as w1, 'w' || ((i::bigint * 7919) % 2000) as w2, \
                     (array[{words}])[1 + (i / 7) % 20] as w3, \
                     case when i % 3 = 0 then 'notes ' || (array[{words}])[1 + (i / 7) % 20] end as d, \
                     case when i % 5 = 0 then null \
                          when i % 5 = 1 then to_char(timestamp '2026-01-01' + (i % 730) * interval '1 day' + interval '9 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                          else to_char(date '2026-01-01' + (i % 730), 'YYYY-MM-DD') end as due, \
                     now() - ({tasks} - i) * interval '1 second' as ts \
                   from generate_series(1, {tasks}) i) rows join bench_users using (n)",
                big = tasks / 10,
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
            // The steady state autovacuum keeps: statistics, and the GIN
            // index's pending entries merged.
            sqlx::query("vacuum analyze tasks").execute(&pool).await?;
            pool.close().await;
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(db.url()).await?;
            for sql in users_sql() {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
            }
            let case = |expr: &str| {
                let arms: String = WORDS
                    .iter()
                    .enumerate()
                    .map(|(k, w)| format!(" when {k} then '{w}'"))
                    .collect();
                format!("(case {expr}{arms} end)")
            };
            let sql = format!(
                "with recursive n(i) as (select 1 union all select i + 1 from n where i < {tasks}) \
                 insert into tasks (user_id, title, description, completed, due, due_key, priority, \
                 tags, created_at, updated_at, search_title, search_body) \
                 select user_id, 'task ' || w1 || ' ' || w2, d, i % 4 = 0, due, due, i % 4, '', ts, ts, \
                   scope || 'task ' || scope || w1 || ' ' || scope || w2, \
                   case when d is null then '' else scope || 'notes ' || scope || w3 end from ( \
                   select i, case when i <= {big} then 900 else i % 900 end as n, \
                     {first} as w1, 'w' || ((i * 7919) % 2000) as w2, {third} as w3, \
                     case when i % 3 = 0 then 'notes ' || {third} end as d, \
                     case when i % 5 = 0 then null \
                          when i % 5 = 1 then strftime('%Y-%m-%dT09:00:00Z', '2026-01-01', '+' || (i % 730) || ' days') \
                          else date('2026-01-01', '+' || (i % 730) || ' days') end as due, \
                     strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || ({tasks} - i) || ' seconds') as ts \
                   from n) rows join bench_users using (n)",
                big = tasks / 10,
                first = case("i % 20"),
                third = case("(i / 7) % 20"),
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
            sqlx::query("analyze").execute(&pool).await?;
            pool.close().await;
            // The steady state: opening a store migrates and indexes the
            // rows' queued text.
            db.store().await.close().await;
        }
    }
    eprintln!(
        "seeded {tasks} tasks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// p50 and p99 (ms) of `calls` list_tasks calls with `arguments`.
async fn measure(
    conn: &mut Conn,
    arguments: &Value,
    calls: usize,
) -> BenchResult<(f64, f64, usize)> {
    let mut samples = Vec::with_capacity(calls);
    let mut found = 0;
    for id in 0..calls {
        let started = Instant::now();
        let (is_error, result) = conn
            .call(id as u64, "list_tasks", arguments.clone())
            .await?;
        samples.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        if is_error {
            return Err(format!("list_tasks {arguments} failed: {result}").into());
        }
        found = result["tasks"].as_array().map_or(0, Vec::len);
    }
    samples.sort_unstable();
    Ok((percentile(&samples, 0.5), percentile(&samples, 0.99), found))
}

/// The store's plan for the listing `request` of user "big".
async fn plan(db: &TestDatabase, request: &ListRequest) -> BenchResult<String> {
    let store = db.store().await;
    let user = UserId::parse("big")?;
    let plan = store.explain_list_tasks(&user, request).await?;
    store.close().await;
    Ok(plan)
}

async fn bench() -> BenchResult<()> {
    let options = options();
    // A word in one task title in 2,000 (a name, a thing), and one in 20 (of
    // the small vocabulary: in 11,000 of the user's tasks).
    let queries = [
        (
            "query (rare word) + due_before",
            json!({"query": "w1234", "due_before": "2026-12-31"}),
        ),
        (
            "query (common word) + due_before",
            json!({"query": "dentist", "due_before": "2026-12-31"}),
        ),
        (
            "overdue + sort due",
            json!({"overdue": true, "sort": "due"}),
        ),
    ];
    println!("| backend | listing | p50 ms | p99 ms | tasks in page |");
    println!("|---|---|---:|---:|---:|");
    let mut plans = Vec::new();
    for backend in &options.backends {
        let name = backend.name();
        let db = TestDatabase::new(*backend).await;
        seed(&db, *backend, options.tasks).await?;
        let server = start_server(db.url()).await?;
        let mut conn = Conn::open(server.addr, "big").await?;
        for (label, arguments) in &queries {
            measure(&mut conn, arguments, 20).await?;
            let (p50, p99, found) = measure(&mut conn, arguments, options.calls).await?;
            println!("| {name} | {label} | {p50:.2} | {p99:.2} | {found} |");
        }
        if options.plans {
            let now = todo_domain::time::now_utc();
            let zone = todo_domain::Zone::UTC;
            let search = ListRequest {
                filter: TaskFilter {
                    query: Some(SearchQuery::parse("w1234")?),
                    due_before: Some(DueBound::before(
                        todo_domain::task::Due::parse("due", "2026-12-31")?,
                        zone,
                    )),
                    ..TaskFilter::default()
                },
                sort: Sort::Relevance,
                ..ListRequest::default()
            };
            let overdue = ListRequest {
                filter: TaskFilter {
                    overdue: Some(DueBound::overdue(now, zone)),
                    ..TaskFilter::default()
                },
                sort: Sort::Due,
                ..ListRequest::default()
            };
            plans.push(format!(
                "{name}, query + due_before:\n{}",
                plan(&db, &search).await?
            ));
            plans.push(format!(
                "{name}, overdue + sort due:\n{}",
                plan(&db, &overdue).await?
            ));
        }
    }
    for plan in plans {
        println!("\n```\n{plan}\n```");
    }
    Ok(())
}

fn main() {
    todo_testkit::run_on_one_thread(bench());
}
