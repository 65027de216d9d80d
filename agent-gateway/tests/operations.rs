//! Running in production: metrics, request ids across both services,
//! several instances of each service on one PostgreSQL database, and rate
//! limits that hold across gateways (Redis). Real binaries, real databases,
//! real Redis (127.0.0.1:6379); the model is the fake.

mod common;

use std::time::Duration;

use common::stack::{MCP_SECRET, Stack, command, metrics_url, start_gateway, start_mcp, token};
use common::{FakeModel, ok, text, tool_calls};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_domain::UserId;
use todo_gateway::mcp::{McpConfig, TaskServer};
use todo_server::Secret;
use todo_server::trace::TraceContext;
use todo_testkit::{Backend, ServiceProcess, TestDatabase};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A user name no earlier run has used (Redis keeps counts between runs).
fn fresh_user(prefix: &str) -> String {
    let n: u64 = rand::random();
    format!("{prefix}-{n:016x}")
}

async fn scrape(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    response.text().await.expect("text")
}

/// The value of the sample `line_start` (name and labels) in `text`.
fn sample(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|rest| rest.trim().split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {line_start} in\n{text}"))
}

#[tokio::test]
async fn both_services_count_requests_tools_model_calls_and_refusals() {
    let metrics_on = [
        ("METRICS_BIND", "127.0.0.1:0"),
        ("RATE_LIMIT_PER_MINUTE", "2"),
    ];
    let stack = Stack::start_with(Backend::Sqlite, &metrics_on[..1], &metrics_on).await;
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call_1",
            "add_task",
            json!({"title": "buy milk"}),
        )])),
        ok(text("Added.")),
        ok(text("Hello.")),
    ]);
    let (status, body) = stack.chat("mia", json!({"message": "add milk"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = stack.chat("mia", json!({"message": "hi"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.chat("mia", json!({"message": "one too many"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let forged = stack
        .http
        .get(stack.url("/api/mia/conversations"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .expect("get");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = stack.get("mia", "/api/someone-else/conversations").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let gateway = scrape(&stack.http, &metrics_url(&stack.gateway)).await;
    let chat_ok =
        r#"todo_http_requests_total{method="POST",route="/api/{user_id}/chat",status="200"}"#;
    assert_eq!(sample(&gateway, chat_ok), 2.0);
    let chat_limited =
        r#"todo_http_requests_total{method="POST",route="/api/{user_id}/chat",status="429"}"#;
    assert_eq!(sample(&gateway, chat_limited), 1.0);
    assert_eq!(
        sample(
            &gateway,
            r#"todo_http_request_duration_seconds_count{method="POST",route="/api/{user_id}/chat"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(
            &gateway,
            r#"todo_tool_calls_total{tool="add_task",outcome="ok"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(&gateway, r#"todo_llm_calls_total{outcome="ok"}"#),
        3.0
    );
    // text() reports 12 prompt and 3 completion tokens; tool_calls() none.
    assert_eq!(
        sample(&gateway, r#"todo_llm_tokens_total{kind="prompt"}"#),
        24.0
    );
    assert_eq!(
        sample(&gateway, r#"todo_llm_tokens_total{kind="completion"}"#),
        6.0
    );
    assert_eq!(
        sample(&gateway, r#"todo_rate_limited_total{limit="chat"}"#),
        1.0
    );
    assert_eq!(
        sample(
            &gateway,
            r#"todo_auth_failures_total{reason="malformed_token"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &gateway,
            r#"todo_auth_failures_total{reason="user_mismatch"}"#
        ),
        1.0
    );
    assert!(sample(&gateway, r#"todo_db_pool_max_connections{pool="writer"}"#) >= 1.0);
    // Raw paths never become labels: the template does.
    assert!(!gateway.contains("/api/mia/"), "{gateway}");

    let mcp = scrape(&stack.http, &metrics_url(&stack.mcp)).await;
    assert_eq!(
        sample(
            &mcp,
            r#"todo_tool_calls_total{tool="add_task",outcome="ok"}"#
        ),
        1.0
    );
    assert!(
        sample(
            &mcp,
            r#"todo_http_requests_total{method="POST",route="/mcp",status="200"}"#
        ) >= 2.0
    );
    assert!(mcp.contains("todo_tool_call_duration_seconds_bucket"));

    // The public listeners do not serve metrics.
    for service in [&stack.gateway, &stack.mcp] {
        let status = stack
            .http
            .get(format!("http://{}/metrics", service.addr))
            .send()
            .await
            .expect("get")
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn without_metrics_bind_there_is_no_metrics_listener() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    assert!(!stack.gateway.logs().contains("metrics at"));
    assert!(!stack.mcp.logs().contains("metrics at"));
}

#[tokio::test]
async fn a_request_id_and_traceparent_reach_the_task_server_logs() {
    // The default log filter (info,rmcp=warn).
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call_1",
            "add_task",
            json!({"title": "trace me"}),
        )])),
        ok(text("Added.")),
        ok(tool_calls(&[("call_2", "list_tasks", json!({}))])),
        ok(text("Listed.")),
    ]);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = stack
        .http
        .post(stack.url("/api/nora/chat"))
        .bearer_auth(token("nora"))
        .header("x-request-id", "req-test-4711")
        .header("traceparent", traceparent)
        .json(&json!({"message": "add trace me"}))
        .send()
        .await
        .expect("chat");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "req-test-4711");

    // At the default level, the gateway logged the turn and todo-mcp the
    // tool call under the request's id.
    let logged = |service: &ServiceProcess, id: &str, what: &[&str]| {
        service
            .logs()
            .lines()
            .any(|l| l.contains(id) && what.iter().all(|w| l.contains(w)))
    };
    assert!(
        logged(&stack.gateway, "req-test-4711", &["turn finished"]),
        "{}",
        stack.gateway.logs()
    );
    assert!(
        logged(&stack.mcp, "req-test-4711", &["tool call", "add_task"]),
        "{}",
        stack.mcp.logs()
    );
    assert!(
        stack
            .mcp
            .logs()
            .lines()
            .any(|l| l.contains("req-test-4711") && l.contains(traceparent)),
        "{}",
        stack.mcp.logs()
    );

    // No id, or one unfit for logs: a fresh one, used all the way through.
    let response = stack
        .http
        .post(stack.url("/api/nora/chat"))
        .bearer_auth(token("nora"))
        .header("x-request-id", "two words")
        .json(&json!({"message": "what is on my list?"}))
        .send()
        .await
        .expect("chat");
    assert_eq!(response.status(), StatusCode::OK);
    let made = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        stack
            .mcp
            .logs()
            .lines()
            .any(|l| l.contains(&made) && l.contains("list_tasks")),
        "{}",
        stack.mcp.logs()
    );
    assert!(!stack.gateway.logs().contains("two words"));
    // Even a refused request answers with its id.
    let refused = stack
        .http
        .get(stack.url("/api/nora/conversations"))
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().contains_key("x-request-id"));
}

/// Two task servers and two gateways on one PostgreSQL database; the test
/// spreads requests over them in turn, as a load balancer would.
#[tokio::test]
async fn two_task_servers_and_two_gateways_on_one_database_behave_as_one() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let mcps = [start_mcp(&db, &[]).await, start_mcp(&db, &[]).await];
    let model = FakeModel::start(Vec::new()).await;
    model.react();
    let gateways = [
        start_gateway(&db, &mcps[0], &model, &[("RATE_LIMIT_PER_MINUTE", "1000")]).await,
        start_gateway(&db, &mcps[1], &model, &[("RATE_LIMIT_PER_MINUTE", "1000")]).await,
    ];
    let http = reqwest::Client::new();
    let chat = |n: usize, user: &str, body: Value| {
        let http = http.clone();
        let url = format!("http://{}/api/{user}/chat", gateways[n % 2].addr);
        let token = token(user);
        async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("chat");
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // Many users at once, each continuing one conversation; every message
    // goes to the next gateway in turn.
    const USERS: usize = 12;
    const MESSAGES: usize = 4;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runs = (0..USERS).map(|u| {
        let next = next.clone();
        let chat = &chat;
        async move {
            let user = format!("user{u}");
            let mut conversation = Value::Null;
            for m in 0..MESSAGES {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body =
                    json!({"message": format!("add u{u}-m{m}"), "conversation_id": conversation});
                let (status, reply) = chat(n, &user, body).await;
                assert_eq!(status, StatusCode::OK, "{user} message {m}: {reply}");
                assert_eq!(
                    reply["response"],
                    format!("Done: {}", reply["tool_calls"][0]["result"])
                );
                conversation = reply["conversation_id"].clone();
            }
            (user, conversation)
        }
    });
    let conversations = futures::future::join_all(runs).await;

    for (u, (user, id)) in conversations.iter().enumerate() {
        // The whole conversation, read from either gateway: every message,
        // in order, nothing lost or doubled.
        for gateway in &gateways {
            let response = http
                .get(format!(
                    "http://{}/api/{user}/conversations/{id}",
                    gateway.addr
                ))
                .bearer_auth(token(user))
                .send()
                .await
                .expect("get");
            let body: Value = response.json().await.expect("json");
            let messages = body["messages"].as_array().expect("messages");
            let asked: Vec<&str> = messages
                .iter()
                .filter(|m| m["role"] == "user")
                .filter_map(|m| m["content"].as_str())
                .collect();
            let expected: Vec<String> = (0..MESSAGES).map(|m| format!("add u{u}-m{m}")).collect();
            assert_eq!(asked, expected, "{body}");
            let answers = messages
                .iter()
                .filter(|m| m["role"] == "assistant" && m["tool_calls"].is_null())
                .count();
            assert_eq!(answers, MESSAGES, "{body}");
        }
        // Every task, from either gateway (each reads its own task server).
        for gateway in &gateways {
            let response = http
                .get(format!("http://{}/api/{user}/tasks", gateway.addr))
                .bearer_auth(token(user))
                .send()
                .await
                .expect("tasks");
            let body: Value = response.json().await.expect("json");
            let mut titles: Vec<&str> = body["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .filter_map(|t| t["title"].as_str())
                .collect();
            titles.sort_unstable();
            let expected: Vec<String> = (0..MESSAGES).map(|m| format!("u{u}-m{m}")).collect();
            assert_eq!(titles, expected);
        }
    }

    // A change through one task server is seen through the other and
    // through both gateways at once.
    let clients: Vec<TaskServer> = mcps
        .iter()
        .map(|mcp| {
            TaskServer::new(McpConfig::new(
                format!("http://{}/mcp", mcp.addr),
                Secret::new(MCP_SECRET),
            ))
            .expect("client")
        })
        .collect();
    let user = UserId::parse("user0").expect("user");
    let trace = TraceContext::generate();
    let listed = clients[1]
        .call(&user, "list_tasks", "{}", &trace)
        .await
        .expect("list");
    let first = listed.structured.expect("structured")["tasks"][0]["id"].clone();
    let done = clients[0]
        .call(
            &user,
            "complete_task",
            &json!({"task_id": first}).to_string(),
            &trace,
        )
        .await
        .expect("complete");
    assert!(!done.is_error, "{}", done.text);
    let seen = clients[1]
        .call(&user, "list_tasks", r#"{"status": "completed"}"#, &trace)
        .await
        .expect("list");
    assert_eq!(
        seen.structured.expect("structured")["tasks"][0]["id"],
        first
    );
    let deleted = clients[1]
        .call(
            &user,
            "delete_task",
            &json!({"task_id": first}).to_string(),
            &trace,
        )
        .await
        .expect("delete");
    assert!(!deleted.is_error, "{}", deleted.text);
    for gateway in &gateways {
        let body: Value = http
            .get(format!("http://{}/api/user0/tasks", gateway.addr))
            .bearer_auth(token("user0"))
            .send()
            .await
            .expect("tasks")
            .json()
            .await
            .expect("json");
        let ids: Vec<&Value> = body["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| &t["id"])
            .collect();
        assert_eq!(ids.len(), MESSAGES - 1);
        assert!(!ids.contains(&&first));
    }
    // And users stay apart on every instance.
    let theirs = clients[0]
        .call(
            &UserId::parse("user1").expect("user"),
            "list_tasks",
            "{}",
            &trace,
        )
        .await
        .expect("list");
    let titles = theirs.structured.expect("structured")["tasks"].to_string();
    assert!(
        titles.contains("u1-m0") && !titles.contains("u0-"),
        "{titles}"
    );
}

#[tokio::test]
async fn with_redis_the_eleventh_chat_is_refused_even_across_two_gateways() {
    let redis = [("RATE_LIMIT_BACKEND", "redis"), ("REDIS_URL", REDIS_URL)];
    let stack = Stack::start(Backend::Postgres, &redis).await;
    let other = stack.another_gateway_with(&redis).await;
    stack.model.react();
    let user = fresh_user("rl");
    for n in 0..10 {
        let gateway = if n % 2 == 0 { &stack.gateway } else { &other };
        let response = stack
            .http
            .post(format!("http://{}/api/{user}/chat", gateway.addr))
            .bearer_auth(token(&user))
            .json(&json!({"message": format!("hello {n}")}))
            .send()
            .await
            .expect("chat");
        assert_eq!(response.status(), StatusCode::OK, "request {n}");
        // One budget, whichever instance answers.
        assert_eq!(
            response.headers()["x-ratelimit-remaining"],
            (9 - n).to_string().as_str()
        );
    }
    for gateway in [&stack.gateway, &other] {
        let (status, body) = stack
            .chat_via(gateway, &user, json!({"message": "one too many"}))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"], "rate_limited");
    }
    // Another user is not affected; reads have their own budget.
    let (status, _) = stack
        .chat_via(&other, &fresh_user("rl"), json!({"message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack
        .get(&user, &format!("/api/{user}/conversations"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!stack.gateway.logs().contains("Redis is unreachable"));
}

#[tokio::test]
async fn when_redis_is_unreachable_the_gateway_limits_locally_and_says_so() {
    // Nothing listens on port 1.
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("RATE_LIMIT_BACKEND", "redis"),
            ("REDIS_URL", "redis://127.0.0.1:1"),
            ("RATE_LIMIT_PER_MINUTE", "3"),
        ],
    )
    .await;
    stack.model.react();
    let started = tokio::time::Instant::now();
    for n in 0..3 {
        let (status, body) = stack
            .chat("olga", json!({"message": format!("hello {n}")}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = stack.chat("olga", json!({"message": "too many"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A dead Redis costs no per-request timeout.
    assert!(started.elapsed() < Duration::from_secs(5));
    let logs = stack.gateway.logs();
    assert_eq!(logs.matches("Redis is unreachable").count(), 1, "{logs}");
}

#[tokio::test]
async fn an_invalid_redis_url_is_refused_at_start() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let mcp = start_mcp(&db, &[]).await;
    let mut gateway = command("todo-gateway", &db);
    gateway
        .env("BETTER_AUTH_SECRET", common::stack::AUTH_SECRET)
        .env("MCP_JWT_SECRET", MCP_SECRET)
        .env("MCP_URL", format!("http://{}/mcp", mcp.addr))
        .env("RATE_LIMIT_BACKEND", "redis")
        .env("REDIS_URL", "http://not-redis")
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let logs = match ServiceProcess::spawn(gateway, "todo-gateway").await {
        Ok(_) => panic!("a gateway started with an invalid REDIS_URL"),
        Err(logs) => logs,
    };
    assert!(logs.contains("invalid REDIS_URL"), "{logs}");
}

/// The operations of an OpenAPI document: (method, path).
fn operations(spec: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.push((method.to_owned(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    for dev in [false, true] {
        let extra: &[(&str, &str)] = if dev { &[("DEV_MODE", "1")] } else { &[] };
        let stack = Stack::start(Backend::Sqlite, extra).await;
        let response = stack
            .http
            .get(stack.url("/openapi.json"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::OK);
        let spec: Value = response.json().await.expect("json");
        assert_eq!(spec["openapi"], "3.1.0");
        assert_eq!(
            spec["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let ops = operations(&spec);
        assert_eq!(
            ops.iter().any(|(_, p)| p == "/dev/token"),
            dev,
            "/dev/token is described exactly when it is served"
        );
        // Every described operation is served: the router answers it (an
        // unrouted request gets axum's bare 404 or a 405).
        for (method, path) in &ops {
            let concrete = path.replace("{user_id}", "alice").replace("{id}", "1");
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = stack
                .http
                .request(method.clone(), stack.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(status == StatusCode::NOT_FOUND && body.is_empty()),
                "{method} {path} is described but not served"
            );
            // Every /api operation documents the shared refusals.
            if path.starts_with("/api/") {
                let responses = &spec["paths"][path][method.as_str().to_lowercase()]["responses"];
                for code in ["400", "401", "403", "429", "500"] {
                    assert!(
                        responses.get(code).is_some(),
                        "{method} {path} lacks {code}"
                    );
                }
            }
        }
        // And what is not described is not served.
        for (method, path) in [
            ("GET", "/metrics"),
            ("GET", "/api"),
            ("PUT", "/api/alice/chat"),
            ("GET", "/admin"),
        ] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let status = stack
                .http
                .request(method.clone(), stack.url(path))
                .bearer_auth(token("alice"))
                .send()
                .await
                .expect("request")
                .status();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        }
    }
    // The router is built only from documented handlers: no route is added
    // any other way (which would serve a path the document does not list).
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let code = std::fs::read_to_string(&path).expect("read");
        for raw in [
            ".route(",
            ".route_service(",
            ".nest(",
            ".nest_service(",
            ".fallback(",
        ] {
            assert!(
                !code.contains(raw),
                "{} adds a route with {raw}: use routes!() with a #[utoipa::path] handler",
                path.display()
            );
        }
    }
}

/// schemathesis (a tool nobody here wrote) reads `/openapi.json` and throws
/// generated requests, valid and not, at every operation of the running
/// gateway: every answer must be one the document describes (status,
/// content type, headers, body schema), and none a server error.
#[tokio::test]
async fn schemathesis_finds_the_gateway_true_to_its_openapi_document() {
    let limits = [
        ("RATE_LIMIT_PER_MINUTE", "100000"),
        ("READ_RATE_LIMIT_PER_MINUTE", "100000"),
    ];
    let stack = Stack::start(Backend::Sqlite, &limits).await;
    stack.model.react();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let bin = match std::env::var_os("SCHEMATHESIS_BIN") {
        Some(bin) => std::path::PathBuf::from(bin),
        None => {
            todo_testkit::python_venv(
                "schemathesis-venv",
                &dir.join("requirements.txt"),
                "import schemathesis",
            )
            .await
        }
    };
    // schemathesis keeps a cache of past crashes in its working directory:
    // a fresh one each run keeps runs alike and the source tree clean.
    let workdir = std::env::temp_dir().join(format!("schemathesis-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&workdir).expect("workdir");
    let output = tokio::process::Command::new(bin.join("st"))
        .current_dir(&workdir)
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .arg("run")
        .arg(stack.url("/openapi.json"))
        .args([
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--workers",
            "1",
            "--seed",
            "1",
        ])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", token("alice")),
        ])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run schemathesis");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&workdir);
    assert!(output.status.success(), "{report}");
    assert!(
        !stack.gateway.logs().contains("panicked"),
        "{}",
        stack.gateway.logs()
    );
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(path),
    )
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// docs/configuration.md is the configuration reference: its tables name
/// every variable of each binary's `--help`, and nothing else.
#[tokio::test]
async fn the_configuration_reference_matches_help() {
    use todo_testkit::readme_table_env_vars;
    let doc = repo_file("docs/configuration.md");
    let mcp_doc = readme_table_env_vars(&doc, "## todo-mcp", "## todo-gateway");
    let mcp_help =
        todo_testkit::binary_env_vars("todo-mcp", &["", "stdio", "http", "migrate", "token"]).await;
    assert_eq!(
        mcp_doc, mcp_help,
        "docs/configuration.md (todo-mcp) vs --help"
    );
    let gateway_doc = readme_table_env_vars(&doc, "## todo-gateway", "## Other variables");
    let gateway_help =
        todo_testkit::binary_env_vars("todo-gateway", &["", "serve", "migrate", "token"]).await;
    assert_eq!(
        gateway_doc, gateway_help,
        "docs/configuration.md (todo-gateway) vs --help"
    );
}

/// The variables that docker-compose.yml gives each service (its
/// `environment:` keys), by service.
fn compose_environment(compose: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut found: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut service = None;
    let mut in_environment = false;
    let mut in_services = false;
    for line in compose.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 0 {
            in_services = text == "services:";
            service = None;
            continue;
        }
        if in_services && indent == 2 {
            service = text.strip_suffix(':').map(str::to_owned);
            in_environment = false;
            continue;
        }
        if indent == 4 {
            in_environment = text == "environment:";
            continue;
        }
        if in_environment
            && indent == 6
            && let (Some(service), Some((key, _))) = (&service, text.split_once(':'))
        {
            found
                .entry(service.clone())
                .or_default()
                .push(key.trim().to_owned());
        }
    }
    found
}

/// Every variable docker-compose.yml and deploy/secrets.env.example give
/// todo-mcp and the gateway is one they read (a misspelt one would be
/// silently ignored).
#[tokio::test]
async fn the_compose_file_sets_only_variables_the_binaries_read() {
    let compose = repo_file("docker-compose.yml");
    let environment = compose_environment(&compose);
    let mcp = todo_testkit::binary_env_vars("todo-mcp", &["", "http"]).await;
    let gateway = todo_testkit::binary_env_vars("todo-gateway", &["", "serve"]).await;
    // libpq's variable, read by the PostgreSQL driver, not a flag.
    let driver = ["PGPASSWORD"];
    for (service, known) in [("mcp", &mcp), ("gateway", &gateway)] {
        let set = environment
            .get(service)
            .unwrap_or_else(|| panic!("no {service} in compose"));
        assert!(set.len() >= 5, "{service}: {set:?}");
        for key in set {
            assert!(
                known.contains(key),
                "compose sets {key} for {service}, which it does not read"
            );
        }
    }
    let secrets = repo_file("deploy/secrets.env.example");
    for line in secrets.lines() {
        let line = line.trim().trim_start_matches("# ");
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        if !key.chars().all(|c| c.is_ascii_uppercase() || c == '_') || key.starts_with("POSTGRES_")
        {
            continue;
        }
        assert!(
            mcp.contains(key) || gateway.contains(key) || driver.contains(&key),
            "secrets.env.example sets {key}, which nothing reads"
        );
    }
}

/// `.env.example` names every variable either binary reads.
#[tokio::test]
async fn the_env_example_names_every_variable() {
    let example = repo_file(".env.example");
    let mut known = todo_testkit::binary_env_vars("todo-mcp", &["", "http"]).await;
    known.extend(todo_testkit::binary_env_vars("todo-gateway", &["", "serve"]).await);
    for name in known {
        assert!(
            example.contains(&format!("# {name}=")),
            ".env.example does not mention {name}"
        );
    }
}
