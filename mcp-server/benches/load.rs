//! Load benchmark of the real `todo-mcp` binary (a bench program, not a test).
//!
//! `cargo bench -p todo-mcp --bench load -- [--seconds N] [--backends sqlite,postgres]
//!  [--concurrency 1,8,32] [--workload mix|add|rejected]`
//!
//! With PostgreSQL and the mix, it also runs `pgbench` on the same four
//! statements at the highest concurrency, in three rounds alternating with
//! the server (a shared machine's speed drifts by tens of percent between
//! runs), and reports the median of the server's calls/s as a share of
//! PostgreSQL's own statements/s.
//!
//! For each backend it starts `todo-mcp http` on a fresh database and drives
//! `tools/call` over keep-alive HTTP/1.1 connections (one per worker, raw
//! hyper so the load generator stays light: it shares the machine) at
//! concurrency 1, 8 and 32, with a mix of add/list/complete/update; then the
//! same mix over stdio with one call in flight. It reports calls/s, p50/p99
//! latency, errors, idle and loaded RSS, and start-up-to-ready time.
//! PostgreSQL comes from TEST_POSTGRES_URL, as in the tests. The load
//! generator runs on one thread so that it takes at most one of the cores.
//! `TODO_MCP_BIN` runs another build of the server (e.g. one with debug info
//! for `perf`); `DATABASE_MAX_CONNECTIONS` is passed through.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use todo_testkit::{Backend, TestDatabase, rss_kib};

mod common;
use common::{BenchResult, Conn, Server, bin, percentile, server_env, start_server};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

struct Options {
    seconds: u64,
    backends: Vec<Backend>,
    concurrency: Vec<usize>,
    workload: Workload,
}

/// What the workers call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// add, list (20), complete, update in turn: the figure of record.
    Mix,
    /// add_task only: the write path.
    Add,
    /// list_tasks with an invalid status: rejected by validation before
    /// the database, so it measures transport, auth and rmcp alone.
    Rejected,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 5,
        backends: vec![Backend::Sqlite, Backend::Postgres],
        concurrency: vec![1, 8, 32],
        workload: Workload::Mix,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("--seconds", Some(v)) => options.seconds = v.parse().unwrap_or(5),
            ("--backends", Some(v)) => options.backends = Backend::parse_list(v),
            ("--workload", Some(v)) => {
                options.workload = match v.as_str() {
                    "add" => Workload::Add,
                    "rejected" => Workload::Rejected,
                    _ => Workload::Mix,
                }
            }
            ("--concurrency", Some(v)) => {
                options.concurrency = v.split(',').filter_map(|c| c.parse().ok()).collect()
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

/// The calls of one worker.
struct Mix {
    workload: Workload,
    step: u64,
    last_id: i64,
}

impl Mix {
    fn new(workload: Workload) -> Self {
        Self {
            workload,
            step: 0,
            last_id: 1,
        }
    }

    /// Whether a tool error is the expected answer.
    fn expects_tool_errors(&self) -> bool {
        self.workload == Workload::Rejected
    }

    fn next(&mut self) -> (&'static str, Value) {
        self.step += 1;
        let step = match self.workload {
            Workload::Rejected => return ("list_tasks", json!({"status": "nonsense"})),
            Workload::Add => 1,
            Workload::Mix => self.step,
        };
        match step % 4 {
            1 => (
                "add_task",
                json!({"title": format!("bench task {}", self.step), "description": "load test"}),
            ),
            2 => ("list_tasks", json!({"limit": 20})),
            3 => ("complete_task", json!({"task_id": self.last_id})),
            _ => (
                "update_task",
                json!({"task_id": self.last_id, "title": format!("renamed {}", self.step)}),
            ),
        }
    }

    fn observe(&mut self, tool: &str, result: &Value) {
        if tool == "add_task"
            && let Some(id) = result["task_id"].as_i64()
        {
            self.last_id = id;
        }
    }
}

struct Run {
    calls: usize,
    errors: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_rss_kib: u64,
}

async fn http_load(
    server: &Server,
    workload: Workload,
    concurrency: usize,
    seconds: u64,
    round: usize,
) -> BenchResult<Run> {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let mut conn = Conn::open(server.addr, &format!("bench-{round}-{w}")).await?;
        let (stop, errors) = (stop.clone(), errors.clone());
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(100_000);
            let mut mix = Mix::new(workload);
            let mut id = 0;
            while !stop.load(Ordering::Relaxed) {
                let (tool, arguments) = mix.next();
                id += 1;
                let started = Instant::now();
                match conn.call(id, tool, arguments).await {
                    Ok((is_error, result)) if is_error == mix.expects_tool_errors() => {
                        latencies.push(started.elapsed().as_micros() as u32);
                        mix.observe(tool, &result);
                    }
                    outcome => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("unexpected outcome of {tool}: {outcome:?}");
                        }
                    }
                }
            }
            latencies
        });
    }
    let started = Instant::now();
    let pid = server.child.id().unwrap_or(0);
    let mut max_rss = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        max_rss = max_rss.max(rss_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    while let Some(latencies) = workers.join_next().await {
        all.extend(latencies?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Ok(Run {
        calls: all.len(),
        errors: errors.load(Ordering::Relaxed),
        seconds: elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
        max_rss_kib: max_rss,
    })
}

async fn stdio_load(db_url: &str, workload: Workload, seconds: u64) -> BenchResult<Run> {
    let mut cmd = Command::new(bin());
    server_env(&mut cmd, db_url);
    let mut child = cmd
        .env("RUST_LOG", "warn")
        .args(["--user", "bench-stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("stdin")?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("stdout")?).lines();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "todo-bench", "version": "1"}}});
    stdin.write_all(format!("{init}\n").as_bytes()).await?;
    lines.next_line().await?.ok_or("no initialize result")?;
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await?;

    let mut mix = Mix::new(workload);
    let mut latencies = Vec::new();
    let mut errors = 0;
    let started = Instant::now();
    let pid = child.id().unwrap_or(0);
    let mut id = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let (tool, arguments) = mix.next();
        id += 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}});
        let t = Instant::now();
        stdin.write_all(format!("{request}\n").as_bytes()).await?;
        let line = lines.next_line().await?.ok_or("server closed stdout")?;
        let elapsed = t.elapsed().as_micros() as u32;
        let mut value: Value = serde_json::from_str(&line)?;
        if (value["result"]["isError"] != json!(false)) == mix.expects_tool_errors() {
            latencies.push(elapsed);
            mix.observe(tool, &value["result"]["structuredContent"].take());
        } else {
            errors += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss = rss_kib(pid);
    drop(stdin);
    let _ = child.wait().await;
    latencies.sort_unstable();
    Ok(Run {
        calls: latencies.len(),
        errors,
        seconds: elapsed,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_rss_kib: rss,
    })
}

/// PostgreSQL itself on the same four statements, beside the server's mix
/// at `clients`: three rounds, each the server then `pgbench` on a fresh
/// database, so that both meet the same moment of a shared machine; the
/// note gives the median share and every round.
async fn beside_pgbench(server: &Server, clients: usize, seconds: u64) -> BenchResult<String> {
    let mut rounds = Vec::new();
    for round in 0..3 {
        let run = http_load(server, Workload::Mix, clients, seconds, 100 + round).await?;
        let calls = run.calls as f64 / run.seconds;
        let db = TestDatabase::new(Backend::Postgres).await;
        // Opening a store applies the migrations: pgbench needs the table.
        db.store().await.close().await;
        let statements = common::pgbench::statements_per_second(db.url(), clients, seconds).await?;
        rounds.push((calls, statements));
    }
    let mut shares: Vec<f64> = rounds.iter().map(|(c, s)| 100.0 * c / s).collect();
    shares.sort_by(f64::total_cmp);
    let each: Vec<String> = rounds
        .iter()
        .map(|(c, s)| format!("{c:.0}/{s:.0}"))
        .collect();
    Ok(format!(
        "pgbench, the same 4 statements, {clients} clients, in turn with todo-mcp (HTTP, \
         postgres, c={clients}): todo-mcp reaches a median {:.0} % of pgbench's statements/s \
         (calls/s / statements/s by round: {})",
        shares[1],
        each.join(", ")
    ))
}

/// Median time from spawn to the first 200 from /ready, migrations applied.
async fn startup_ms(db_url: &str) -> BenchResult<f64> {
    let mut samples = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let mut server = start_server(db_url).await?;
        let mut conn = Conn::open(server.addr, "startup").await?;
        while conn.get("/ready").await? != 200 {}
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        server.child.kill().await?;
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

fn row(label: &str, run: &Run) {
    println!(
        "| {label} | {:.0} | {:.2} | {:.2} | {} | {:.1} |",
        run.calls as f64 / run.seconds,
        run.p50_ms,
        run.p99_ms,
        run.errors,
        run.max_rss_kib as f64 / 1024.0
    );
}

async fn bench() -> BenchResult<()> {
    let options = options();
    println!("| run | calls/s | p50 ms | p99 ms | errors | RSS MB |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for backend in &options.backends {
        let name = backend.name();
        let db = TestDatabase::new(*backend).await;
        let server = start_server(db.url()).await?;
        let mut warm = Conn::open(server.addr, "warmup").await?;
        for i in 0..200 {
            warm.call(i, "list_tasks", json!({})).await?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = rss_kib(server.child.id().unwrap_or(0));
        for (round, concurrency) in options.concurrency.iter().enumerate() {
            let run = http_load(
                &server,
                options.workload,
                *concurrency,
                options.seconds,
                round,
            )
            .await
            .map_err(|e| format!("HTTP load at concurrency {concurrency}: {e}"))?;
            row(&format!("HTTP {name} c={concurrency}"), &run);
        }
        let highest = options.concurrency.iter().copied().max();
        if let (Backend::Postgres, Workload::Mix, Some(clients)) =
            (backend, options.workload, highest)
        {
            notes.push(
                beside_pgbench(&server, clients, options.seconds)
                    .await
                    .map_err(|e| format!("pgbench comparison: {e}"))?,
            );
        }
        drop(server);
        let run = stdio_load(db.url(), options.workload, options.seconds)
            .await
            .map_err(|e| format!("stdio load: {e}"))?;
        row(&format!("stdio {name} c=1"), &run);
        let startup = startup_ms(db.url())
            .await
            .map_err(|e| format!("start-up timing: {e}"))?;
        notes.push(format!(
            "{name}: idle RSS {:.1} MB, start-up to ready {startup:.1} ms (median of 7)",
            idle as f64 / 1024.0
        ));
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
    Ok(())
}

fn main() {
    todo_testkit::run_on_one_thread(bench());
}
