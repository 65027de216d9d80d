//! Load benchmark of the real `todo-gateway` (a bench program, not a test).
//!
//! `cargo bench -p todo-gateway --bench turns -- [--seconds N] [--backends sqlite,postgres]
//!  [--concurrency 1,8,32] [--conversations new|continued]`
//!
//! One chat turn = the model asks for two tool calls (add_task and
//! list_tasks, run concurrently over MCP by the real `todo-mcp`), then
//! answers. Each turn starts a conversation (`new`, the default), or each
//! worker keeps talking in one (`continued`: the history is loaded and sent). The model is an instant in-process fake. For each turn the
//! gateway reports, in its `Server-Timing` header, the time spent waiting for
//! the model and for the task server; the gateway's own overhead is the
//! turn's latency minus those. One thread of load generator, one keep-alive
//! connection and one user per worker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use todo_domain::UserId;
use todo_server::Secret;
use todo_server::auth::mint_hs256;
use todo_testkit::{Backend, ServiceProcess, TestDatabase, workspace_binary};

const AUTH_SECRET: &str = "bench-auth-secret-at-least-32-bytes-long";
const MCP_SECRET: &str = "bench-mcp-secret-at-least-32-bytes-long!";

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The instant model: two tool calls after a user message, then a text.
async fn fake_model() -> BenchResult<String> {
    async fn answer(body: axum::body::Bytes) -> axum::Json<Value> {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let last_role = request["messages"]
            .as_array()
            .and_then(|m| m.last())
            .map(|m| m["role"].clone())
            .unwrap_or(Value::Null);
        axum::Json(if last_role == "user" {
            json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add_task", "arguments": "{\"title\":\"bench task\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "list_tasks", "arguments": "{\"limit\":5}"}}
            ]}, "finish_reason": "tool_calls"}]})
        } else {
            json!({"choices": [{"message": {"role": "assistant", "content": "Added it."}, "finish_reason": "stop"}]})
        })
    }
    let app = axum::Router::new().route("/v1/chat/completions", axum::routing::post(answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}/v1"))
}

fn rss_mb(pid: u32) -> f64 {
    todo_testkit::rss_kib(pid) as f64 / 1024.0
}

/// CPU time (user + system) a process has used so far, in ms.
fn cpu_ms(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) * 10.0) // 100 clock ticks per second
        })
        .unwrap_or(0.0)
}

/// CPU ms used so far by every process named `postgres` (the server and its
/// backends; backends that end during a run are missed, and there are few).
fn postgres_cpu_ms() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_ms)
        .sum()
}

/// The whole machine's (busy, total) CPU time so far, in clock ticks.
fn machine_cpu() -> (f64, f64) {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?;
            let ticks: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            let total: f64 = ticks.iter().sum();
            // idle and iowait
            let idle = ticks.get(3)? + ticks.get(4)?;
            Some((total - idle, total))
        })
        .unwrap_or((0.0, 1.0))
}

struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    user: String,
    authorization: String,
    /// Continue this conversation (when `continued`).
    conversation: Option<i64>,
    continued: bool,
}

impl Conn {
    async fn open(addr: SocketAddr, user: &str, continued: bool) -> BenchResult<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let token = mint_hs256(
            &Secret::new(AUTH_SECRET),
            &UserId::parse(user)?,
            None,
            None,
            Duration::from_secs(3600),
        )?;
        Ok(Self {
            sender,
            user: user.to_owned(),
            authorization: format!("Bearer {token}"),
            conversation: None,
            continued,
        })
    }

    /// One turn; returns (model ms, task server ms) from Server-Timing.
    async fn turn(&mut self) -> BenchResult<(f64, f64)> {
        let body = match self.conversation {
            Some(id) => json!({"message": "Add a bench task", "conversation_id": id}),
            None => json!({"message": "Add a bench task"}),
        };
        let body = serde_json::to_vec(&body)?;
        let request = hyper::Request::post(format!("/api/{}/chat", self.user))
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .header("authorization", &self.authorization)
            .body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let timing = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .map(parse_timing)
            .unwrap_or((0.0, 0.0));
        let bytes = response.into_body().collect().await?.to_bytes();
        if status != 200 {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
        if self.continued && self.conversation.is_none() {
            let answer: Value = serde_json::from_slice(&bytes)?;
            self.conversation = answer["conversation_id"].as_i64();
        }
        Ok(timing)
    }
}

fn parse_timing(header: &str) -> (f64, f64) {
    let mut llm = 0.0;
    let mut mcp = 0.0;
    for part in header.split(',') {
        let mut fields = part.trim().split(';');
        let name = fields.next().unwrap_or_default();
        let dur = fields
            .find_map(|f| f.trim().strip_prefix("dur="))
            .and_then(|d| d.parse::<f64>().ok())
            .unwrap_or(0.0);
        match name {
            "llm" => llm = dur,
            "mcp" => mcp = dur,
            _ => {}
        }
    }
    (llm, mcp)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Run {
    turns: usize,
    errors: u64,
    seconds: f64,
    total: Vec<f64>,
    overhead: Vec<f64>,
    max_rss: f64,
    /// CPU ms per turn of the gateway and of the task server.
    gateway_cpu: f64,
    mcp_cpu: f64,
    /// CPU ms per turn of PostgreSQL, and of this program (load and model).
    postgres_cpu: f64,
    bench_cpu: f64,
    /// How busy the whole machine was, in percent.
    machine_busy: f64,
}

async fn load(
    gateway: &ServiceProcess,
    mcp: &ServiceProcess,
    concurrency: usize,
    seconds: u64,
    round: usize,
    continued: bool,
) -> BenchResult<Run> {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let mut conn = Conn::open(gateway.addr, &format!("bench-{round}-{w}"), continued).await?;
        let (stop, errors) = (stop.clone(), errors.clone());
        workers.spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                match conn.turn().await {
                    Ok((llm, mcp)) => {
                        let total = started.elapsed().as_secs_f64() * 1000.0;
                        samples.push((total, (total - llm - mcp).max(0.0)));
                    }
                    Err(error) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("turn failed: {error}");
                        }
                    }
                }
            }
            samples
        });
    }
    let started = Instant::now();
    let pid = gateway.child.id().unwrap_or(0);
    let mcp_pid = mcp.child.id().unwrap_or(0);
    let (gateway_cpu, mcp_cpu) = (cpu_ms(pid), cpu_ms(mcp_pid));
    let machine = machine_cpu();
    let postgres_cpu = postgres_cpu_ms();
    let bench_cpu = cpu_ms(std::process::id());
    let mut max_rss: f64 = 0.0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        max_rss = max_rss.max(rss_mb(pid));
    }
    stop.store(true, Ordering::Relaxed);
    let gateway_cpu = cpu_ms(pid) - gateway_cpu;
    let mcp_cpu = cpu_ms(mcp_pid) - mcp_cpu;
    let machine_end = machine_cpu();
    let postgres_cpu = postgres_cpu_ms() - postgres_cpu;
    let bench_cpu = cpu_ms(std::process::id()) - bench_cpu;
    let machine_busy = 100.0 * (machine_end.0 - machine.0) / (machine_end.1 - machine.1).max(1.0);
    let mut total = Vec::new();
    let mut overhead = Vec::new();
    while let Some(samples) = workers.join_next().await {
        for (t, o) in samples? {
            total.push(t);
            overhead.push(o);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    total.sort_by(f64::total_cmp);
    overhead.sort_by(f64::total_cmp);
    let turns = total.len().max(1) as f64;
    Ok(Run {
        gateway_cpu: gateway_cpu / turns,
        mcp_cpu: mcp_cpu / turns,
        postgres_cpu: postgres_cpu / turns,
        bench_cpu: bench_cpu / turns,
        machine_busy,
        turns: total.len(),
        errors: errors.load(Ordering::Relaxed),
        seconds,
        total,
        overhead,
        max_rss,
    })
}

async fn bench() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = value("--seconds").and_then(|s| s.parse().ok()).unwrap_or(5);
    let concurrency: Vec<usize> = value("--concurrency")
        .map(|c| c.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 32]);
    let backends =
        Backend::parse_list(&value("--backends").unwrap_or_else(|| "sqlite,postgres".into()));
    let continued = match value("--conversations").as_deref() {
        None | Some("new") => false,
        Some("continued") => true,
        Some(other) => return Err(format!("--conversations new|continued, not {other}").into()),
    };

    let model = fake_model().await?;
    println!(
        "| run | turns/s | turn p50 ms | turn p99 ms | overhead p50 ms | overhead p99 ms | errors | gateway RSS MB | CPU ms/turn: gateway | todo-mcp | postgres | bench | machine CPU busy % |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for backend in backends {
        let name = if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        };
        let db = TestDatabase::new(backend).await;
        let mut mcp = tokio::process::Command::new(workspace_binary("todo-mcp"));
        mcp.env_clear()
            .env("DATABASE_URL", db.url())
            .env("MCP_JWT_SECRET", MCP_SECRET)
            .env("MCP_RATE_LIMIT_PER_MINUTE", "100000000")
            .env("RUST_LOG", "warn,todo_mcp=info")
            .args(["http", "--bind", "127.0.0.1:0"]);
        let mcp = ServiceProcess::spawn(mcp, "todo-mcp").await?;
        let mut gateway = tokio::process::Command::new(env!("CARGO_BIN_EXE_todo-gateway"));
        gateway
            .env_clear()
            .env("DATABASE_URL", db.url())
            .env("AUTH_JWT_SECRET", AUTH_SECRET)
            .env("MCP_JWT_SECRET", MCP_SECRET)
            .env("MCP_URL", format!("http://{}/mcp", mcp.addr))
            .env("LLM_BASE_URL", &model)
            .env("RATE_LIMIT_PER_MINUTE", "100000000")
            // One user makes thousands of conversations here: no quota on
            // them, and a token budget it never spends (still read and
            // written each turn).
            .env("MAX_CONVERSATIONS_PER_USER", "0")
            .env("DAILY_TOKEN_BUDGET", "1000000000000")
            .env("RUST_LOG", "warn,todo_gateway=info")
            .args(["serve", "--bind", "127.0.0.1:0"]);
        let gateway = ServiceProcess::spawn(gateway, "todo-gateway").await?;
        // Warm up (connections, tool list cache), then the idle footprint.
        let mut warm = Conn::open(gateway.addr, "warmup", false).await?;
        for _ in 0..50 {
            warm.turn().await?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = rss_mb(gateway.child.id().unwrap_or(0));
        for (round, c) in concurrency.iter().enumerate() {
            let run = load(&gateway, &mcp, *c, seconds, round, continued).await?;
            println!(
                "| {name}{} c={c} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |",
                if continued { " continued" } else { "" },
                run.turns as f64 / run.seconds,
                percentile(&run.total, 0.5),
                percentile(&run.total, 0.99),
                percentile(&run.overhead, 0.5),
                percentile(&run.overhead, 0.99),
                run.errors,
                run.max_rss,
                run.gateway_cpu,
                run.mcp_cpu,
                run.postgres_cpu,
                run.bench_cpu,
                run.machine_busy
            );
        }
        notes.push(format!("{name}: gateway idle RSS {idle:.1} MB"));
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
    Ok(())
}

fn main() {
    // One thread for the load generator and the fake model.
    todo_testkit::run_on_one_thread(bench());
}
